// A CPU job from end to end: what the parent encodes and sends, what the
// worker decodes and runs, and how its outcome comes back. Payloads,
// successes and typed errors go through the task's schemas (`codec.ts`); a
// chunk is many payloads of one task in one message, run one after another,
// whose results come back as one array, or, when an item fails, as the
// results before it plus that item's failure (so `map` loses nothing).
//
//   parent: encodePayload ──▶ [RUN | RUN_CHUNK, id, task, payload] ──▶ worker: decodePayload, run
//   parent: decodeResult ◀── [id, kind, value] ◀── worker: encodeExit
//
// Both sides import this module; it imports no Node module and nothing of
// the parent's machinery, so the worker pays little to load it.
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { identity } from "effect/Function"
import { TaskCodecError } from "../ExecutorError.ts"
import type * as Task from "../Task.ts"
import * as codec from "./codec.ts"
import { PartialChunk } from "./partialChunk.ts"
import * as protocol from "./protocol.ts"

// ---------------------------------------------------------------------------
// parent side
// ---------------------------------------------------------------------------

/**
 * Encodes a payload (or each payload of a chunk) with the task's schema: the
 * encoded value, or the failure to settle its future with.
 * @internal
 */
export const encodePayload = (
  task: Task.AnyTask,
  payload: unknown,
  chunk: boolean,
  /** A chunk of numbers as one `Float64Array` (to a worker thread, which unpacks it; see `Codec.numbers`). */
  pack = false
): { readonly encoded: unknown } | Exit.Failure<never, TaskCodecError> => {
  const payloadCodec = codec.of(task.payload)
  if (!chunk) {
    const r = payloadCodec.encode(payload)
    return r instanceof codec.Invalid ? codecError(task, "payload", r.message) : { encoded: r }
  }
  const items = payload as ReadonlyArray<unknown>
  if (pack && payloadCodec.numbers) {
    // not all numbers: the loop below names the first that is not
    const packed = packNumbers(items, identity)
    if (packed !== undefined) return { encoded: packed }
  }
  const out = new Array(items.length)
  for (let i = 0; i < items.length; i++) {
    const r = payloadCodec.encode(items[i])
    if (r instanceof codec.Invalid) return codecError(task, "payload", r.message)
    out[i] = r
  }
  return { encoded: out }
}

/**
 * The exit of a job from the worker's reply (any kind but INTERRUPTED, which
 * the slot settles as cancelled or timed out).
 * @internal
 */
export const decodeResult = (
  task: Task.AnyTask,
  chunk: boolean,
  kind: number,
  value: unknown
): Exit.Exit<unknown, unknown> => {
  switch (kind) {
    case protocol.SUCCESS: {
      if (!chunk) {
        const r = codec.of(task.success).decode(value)
        return r instanceof codec.Invalid ? codecError(task, "success", r.message) : Exit.succeed(r)
      }
      const values = decodeSuccesses(task, value as ReadonlyArray<unknown>)
      return values instanceof PartialChunk ? Exit.fail(values) : Exit.succeed(values)
    }
    case protocol.FAILURE: {
      const r = codec.of(task.error).decode(value)
      return r instanceof codec.Invalid ? codecError(task, "error", r.message) : Exit.fail(r)
    }
    case protocol.DEFECT:
      return Exit.die(codec.decodeDefect(value))
    case protocol.CODEC_ERROR: {
      const [phase, reason] = value as [TaskCodecError["phase"], string]
      return codecError(task, phase, reason)
    }
    case protocol.CHUNK_PARTIAL: {
      const [successes, failedKind, failedValue] = value as [ReadonlyArray<unknown>, number, unknown]
      const values = decodeSuccesses(task, successes)
      if (values instanceof PartialChunk) return Exit.fail(values)
      const failure = decodeResult(task, false, failedKind, failedValue) as Exit.Failure<never, unknown>
      return Exit.fail(new PartialChunk(Array.from(values), failure))
    }
    default:
      return codecError(task, "payload", `the worker serves no task named "${String(value)}"`)
  }
}

/**
 * A chunk's results; one that does not decode ends the chunk there, as a
 * failing item does. Numbers packed in a `Float64Array` are numbers: they are
 * the results as they are.
 */
const decodeSuccesses = (task: Task.AnyTask, values: ReadonlyArray<unknown>): ReadonlyArray<unknown> | PartialChunk => {
  const success = codec.of(task.success)
  if (success.numbers && values instanceof Float64Array) return values as unknown as ReadonlyArray<number>
  const out = new Array(values.length)
  for (let i = 0; i < values.length; i++) {
    const r = success.decode(values[i])
    if (r instanceof codec.Invalid) return new PartialChunk(out.slice(0, i), codecError(task, "success", r.message))
    out[i] = r
  }
  return out
}

/** Splits items into arrays of `size` (the last may be shorter; none is empty). @internal */
export function* chunks<A>(items: Iterable<A>, size: number): Generator<Array<A>> {
  if (Array.isArray(items)) {
    // an array is sliced (read as the iterator would, up to its length at each step)
    for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size) as Array<A>
    return
  }
  let chunk: Array<A> = []
  for (const item of items) {
    chunk.push(item)
    if (chunk.length === size) {
      yield chunk
      chunk = []
    }
  }
  if (chunk.length > 0) yield chunk
}

/** @internal */
export const codecError = (
  task: Task.AnyTask,
  phase: TaskCodecError["phase"],
  reason: string
): Exit.Failure<never, TaskCodecError> =>
  Exit.fail(new TaskCodecError({ task: task.name, phase, reason })) as Exit.Failure<never, TaskCodecError>

// ---------------------------------------------------------------------------
// worker side
// ---------------------------------------------------------------------------

/** A task served by a worker: its handler and its schemas' codecs. @internal */
export interface Entry {
  readonly task: Task.AnyTask
  readonly run: (payload: any) => Effect.Effect<any, any>
  readonly payload: codec.Codec
  readonly success: codec.Codec
  readonly error: codec.Codec
}

/** @internal */
export const makeEntry = (task: Task.AnyTask, run: (payload: any) => Effect.Effect<any, any>): Entry => ({
  task,
  run,
  payload: codec.of(task.payload),
  success: codec.of(task.success),
  error: codec.of(task.error)
})

/** A reply: [kind, value]. @internal */
export type Reply = readonly [kind: number, value: unknown]

/**
 * Decodes a job's payload and builds the effect that runs it, or the reply
 * to send at once (a payload that does not decode, a handler that throws).
 * @internal
 */
export const prepare = (entry: Entry, payload: unknown, chunk: boolean): Effect.Effect<unknown, unknown> | Reply => {
  try {
    if (!chunk) {
      const decoded = entry.payload.decode(payload)
      if (decoded instanceof codec.Invalid) return [protocol.CODEC_ERROR, ["payload", decoded.message]]
      return entry.run(decoded)
    }
    // a chunk of numbers comes packed: they are the payloads as they are
    if (entry.payload.numbers && payload instanceof Float64Array) return runChunk(entry, payload)
    const payloads = payload as Array<unknown>
    const decoded = new Array(payloads.length)
    for (let i = 0; i < payloads.length; i++) {
      const result = entry.payload.decode(payloads[i])
      if (result instanceof codec.Invalid) return [protocol.CODEC_ERROR, ["payload", result.message]]
      decoded[i] = result
    }
    return runChunk(entry, decoded)
  } catch (defect) {
    return [protocol.DEFECT, codec.encodeDefect(defect)]
  }
}

/**
 * Encodes a job's exit as its reply. `unwrap` takes a result's transfer
 * marker off and records its transfer list.
 * @internal
 */
export const encodeExit = (
  entry: Entry,
  chunk: boolean,
  exit: Exit.Exit<unknown, unknown>,
  unwrap: (value: unknown) => unknown
): Reply => {
  if (Exit.isSuccess(exit)) {
    if (!chunk) return encodeSuccess(entry, unwrap(exit.value))
    const result = exit.value as ChunkResult
    if (entry.success.numbers && result.failure === undefined) {
      const packed = packNumbers(result.values, unwrap)
      if (packed !== undefined) return [protocol.SUCCESS, packed]
    }
    const out = new Array(result.values.length)
    for (let i = 0; i < result.values.length; i++) {
      const [kind, value] = encodeSuccess(entry, unwrap(result.values[i]))
      if (kind !== protocol.SUCCESS) return partial(out.slice(0, i), [kind, value])
      out[i] = value
    }
    if (result.failure === undefined) return [protocol.SUCCESS, out]
    return partial(out, encodeFailure(entry, result.failure))
  }
  return encodeFailure(entry, exit.cause)
}

/** Values in one `Float64Array`, if every one (through `unwrap`) is a number; else undefined (encoded one by one). */
const packNumbers = (values: ReadonlyArray<unknown>, unwrap: (value: unknown) => unknown): Float64Array | undefined => {
  const packed = new Float64Array(values.length)
  for (let i = 0; i < values.length; i++) {
    const value = unwrap(values[i])
    if (typeof value !== "number") return undefined
    packed[i] = value
  }
  return packed
}

const partial = (successes: Array<unknown>, failure: Reply): Reply =>
  successes.length === 0 ? failure : [protocol.CHUNK_PARTIAL, [successes, failure[0], failure[1]]]

const encodeSuccess = (entry: Entry, value: unknown): Reply => {
  const encoded = entry.success.encode(value)
  return encoded instanceof codec.Invalid
    ? [protocol.CODEC_ERROR, ["success", encoded.message]]
    : [protocol.SUCCESS, encoded]
}

const encodeFailure = (entry: Entry, cause: Cause.Cause<unknown>): Reply => {
  if (Cause.hasInterruptsOnly(cause)) return [protocol.INTERRUPTED, undefined]
  const error = Cause.findError(cause)
  if (error._tag === "Success") {
    const encoded = entry.error.encode(error.success)
    return encoded instanceof codec.Invalid
      ? [protocol.CODEC_ERROR, ["error", encoded.message]]
      : [protocol.FAILURE, encoded]
  }
  return [protocol.DEFECT, codec.encodeDefect(Cause.squash(cause))]
}

/** What a chunk's items gave: the results before the first failing item, and its failure. */
interface ChunkResult {
  readonly values: Array<unknown>
  readonly failure: Cause.Cause<unknown> | undefined
}

const runChunk = (entry: Entry, payloads: ArrayLike<unknown>): Effect.Effect<ChunkResult, unknown> => {
  // items run one after another and the chunk stops at its first failing
  // item; items that are already an Exit (`Effect.succeed`, `Effect.fail`)
  // cost nothing but the call; from the first one that is an effect to run
  // (`Effect.sync`, or one that suspends), the rest run in one fiber, the
  // chunk's own (a fiber per item measured as most of a worker's time per
  // tiny item)
  const values: Array<unknown> = []
  for (let i = 0; i < payloads.length; i++) {
    const effect = runItem(entry, payloads[i])
    if (!Exit.isExit(effect)) return runRest(entry, payloads, i, effect, values)
    if (Exit.isFailure(effect)) return stopAt(values, effect.cause)
    values.push(effect.value)
  }
  return Exit.succeed({ values, failure: undefined })
}

/** One item's effect; a handler that throws dies. */
const runItem = (entry: Entry, payload: unknown): Effect.Effect<unknown, unknown> => {
  try {
    return entry.run(payload)
  } catch (defect) {
    return Exit.die(defect)
  }
}

/**
 * Runs the items from `from` on (the first as `first`) in one fiber, the
 * chunk's, stopping at the first failure. An item whose effect is
 * `Effect.sync(f)` runs as the call `f()` inside that fiber (a throw is its
 * defect), exactly as the fiber would run it, without the fiber's per-effect
 * bookkeeping (measured as most of a worker's time and garbage per tiny
 * item); any other effect runs through the fiber. The loop gives the fiber
 * (and the worker's event loop, where an INTERRUPT arrives) a turn once it
 * has run sync items for `sliceMs`, so a chunk stays interruptible between
 * items: for items that take long, far more often than the fiber's own
 * yield every 2,048 operations. It reads the time every `clockEvery` items
 * (a read per item cost a tiny item's chunk ~15% here).
 */
const runRest = (
  entry: Entry,
  payloads: ArrayLike<unknown>,
  from: number,
  first: Effect.Effect<unknown, unknown>,
  values: Array<unknown>
): Effect.Effect<ChunkResult, unknown> =>
  Effect.suspend(() => {
    let i = from
    let next: Effect.Effect<unknown, unknown> | undefined = first
    const afterEffect = (exit: Exit.Exit<unknown, unknown>): Effect.Effect<ChunkResult, unknown> => {
      if (Exit.isFailure(exit)) return stopAt(values, exit.cause)
      values.push(exit.value)
      return loop()
    }
    const loop = (): Effect.Effect<ChunkResult, unknown> => {
      const sliceStart = performance.now()
      while (i < payloads.length) {
        const effect = next ?? runItem(entry, payloads[i])
        next = undefined
        i++
        const thunk = syncThunk(effect)
        if (thunk === undefined) {
          if (!Exit.isExit(effect)) return Effect.flatMap(Effect.exit(effect), afterEffect)
          if (Exit.isFailure(effect)) return stopAt(values, effect.cause)
          values.push(effect.value)
          continue
        }
        let value: unknown
        try {
          value = thunk()
        } catch (defect) {
          return stopAt(values, Cause.die(defect))
        }
        values.push(value)
        if (i % clockEvery === 0 && i < payloads.length && performance.now() - sliceStart >= sliceMs)
          return Effect.andThen(Effect.yieldNow, loop)
      }
      return Exit.succeed<ChunkResult>({ values, failure: undefined })
    }
    return loop()
  })

/** How long a chunk runs sync items before it yields, and how often it reads the time (see `runRest`). */
const sliceMs = 1
const clockEvery = 8

/**
 * The thunk of an `Effect.sync(f)`, read from effect's primitive (its op and
 * argument live under these keys in effect 4.1); `undefined` for any other
 * effect, or if a later effect stores them differently (then every item
 * runs through the fiber: slower, never different). `syncFastPath` (tested)
 * says whether it recognises `Effect.sync` in the effect installed.
 */
const syncThunk = (effect: Effect.Effect<unknown, unknown>): (() => unknown) | undefined => {
  const primitive = effect as unknown as Record<string, unknown>
  if (primitive[opKey] !== "Sync") return undefined
  const thunk = primitive[argsKey]
  return typeof thunk === "function" ? (thunk as () => unknown) : undefined
}
const opKey = "~effect/Effect/identifier"
const argsKey = "~effect/Effect/args"

/** Whether chunks run `Effect.sync` items as plain calls with the effect installed (see `syncThunk`). */
export const syncFastPath = (): boolean => {
  const f = () => 1
  return syncThunk(Effect.sync(f)) === f && syncThunk(Effect.succeed(1)) === undefined
}

/** A failing item ends the chunk with the results before it; an interruption ends it as interrupted. */
const stopAt = (values: Array<unknown>, cause: Cause.Cause<unknown>): Effect.Effect<ChunkResult, unknown> =>
  Cause.hasInterruptsOnly(cause) ? Exit.failCause(cause) : Exit.succeed({ values, failure: cause })
