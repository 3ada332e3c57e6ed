// A fetch → process → save pipeline over 20 items, written twice:
//
//   1. withCallbacks: the Python pattern. Each step is its own task on the
//      executor; a done-callback on the fetch future submits the process step,
//      whose done-callback submits the save step. Each item's outcome is a
//      Deferred that the last callback of its chain completes; a failed step
//      passes its typed failure on and submits nothing further.
//   2. withEffect: the same three steps composed into one Effect per item and
//      run with `executor.map`. Composition replaces the callbacks.
//
// Both write one JSON file per item to an output directory and return each
// item's Exit, so they can be compared: same files, same typed failures.
//
// The steps:
//   fetch   simulated I/O: an `Effect.sleep` of 40 to 96 ms stands in for the
//           network, then a record comes back. item-07 answers 404
//           (FetchFailed); item-13 comes back truncated.
//   process parses the record and digests it (2,000 rounds of SHA-256, a little
//           CPU work on the event loop); a truncated record fails
//           (ProcessFailed).
//   save    writes `<id>.json` to the output directory (SaveFailed on error).
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { createHash } from "node:crypto"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import type { Stats } from "effect-futures/Executor"
import type { BrokenExecutorError, CancelledError, SubmitError } from "effect-futures/ExecutorError"
import * as Future from "effect-futures/Future"
import * as IoExecutor from "effect-futures/IoExecutor"

// ---------------------------------------------------------------------------
// The data and the three steps
// ---------------------------------------------------------------------------

export class FetchFailed extends Schema.TaggedError<FetchFailed>()("FetchFailed", {
  id: Schema.String,
  status: Schema.Number
}) {}

export class ProcessFailed extends Schema.TaggedError<ProcessFailed>()("ProcessFailed", {
  id: Schema.String,
  reason: Schema.String
}) {}

export class SaveFailed extends Schema.TaggedError<SaveFailed>()("SaveFailed", {
  id: Schema.String,
  reason: Schema.String
}) {}

/** A step's own failures. */
export type StepError = FetchFailed | ProcessFailed | SaveFailed

/** What the executor may add to a step's failure: the callback style sees these as values too. */
export type ExecutorFailure = SubmitError | BrokenExecutorError | CancelledError

export interface Item {
  readonly id: string
  /** The simulated network latency of its fetch. */
  readonly latencyMs: number
}

export const items: ReadonlyArray<Item> = Array.from({ length: 20 }, (_, i) => ({
  id: `item-${String(i + 1).padStart(2, "0")}`,
  latencyMs: 40 + ((i * 37) % 60)
}))

/** The item whose fetch fails (HTTP 404). */
export const missing = "item-07"
/** The item whose record arrives truncated, so that processing it fails. */
export const truncated = "item-13"

export interface Fetched {
  readonly id: string
  readonly record: string
}

export interface Processed {
  readonly id: string
  readonly title: string
  readonly words: number
  readonly digest: string
}

export interface Saved {
  readonly id: string
  readonly file: string
  readonly bytes: number
}

const vocabulary = ["future", "fiber", "queue", "slot", "deferred", "stream", "layer", "scope", "worker", "callback"]

/** A deterministic record for an item: a title line and some words. */
const recordOf = (id: string): string => {
  let seed = Number(id.slice(-2)) * 7919
  const words: Array<string> = []
  for (let i = 0; i < 12 + (seed % 9); i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648
    words.push(vocabulary[seed % vocabulary.length])
  }
  return `title: record ${id}\n${words.join(" ")}\n`
}

/** Fetch: simulated I/O latency (`Effect.sleep`), then the record or a typed failure. */
export const fetchItem = (item: Item, latencyScale = 1): Effect.Effect<Fetched, FetchFailed> =>
  Effect.gen(function* () {
    yield* Effect.sleep(item.latencyMs * latencyScale)
    if (item.id === missing) return yield* new FetchFailed({ id: item.id, status: 404 })
    const record = recordOf(item.id)
    return { id: item.id, record: item.id === truncated ? record.slice(10, 30) : record }
  })

/** Process: parse the record and digest it (CPU work, on the event loop). */
export const processRecord = ({ id, record }: Fetched): Effect.Effect<Processed, ProcessFailed> =>
  Effect.suspend(() => {
    const [first, body] = record.split("\n")
    if (!first.startsWith("title: ") || body === undefined) {
      return Effect.fail(new ProcessFailed({ id, reason: "no title line" }))
    }
    let digest = record
    for (let i = 0; i < 2_000; i++) digest = createHash("sha256").update(digest).digest("hex")
    return Effect.succeed({ id, title: first.slice(7), words: body.split(" ").length, digest: digest.slice(0, 16) })
  })

/** Save: write `<id>.json` into `outDir`. */
export const saveRecord =
  (outDir: string) =>
  (processed: Processed): Effect.Effect<Saved, SaveFailed> =>
    Effect.tryPromise({
      try: async () => {
        const file = `${processed.id}.json`
        const text = JSON.stringify(processed) + "\n"
        await fs.writeFile(path.join(outDir, file), text)
        return { id: processed.id, file, bytes: Buffer.byteLength(text) }
      },
      catch: (error) => new SaveFailed({ id: processed.id, reason: String(error) })
    })

export interface RunOptions {
  /** Slots of the executor. Default 4. */
  readonly maxWorkers?: number | undefined
  /** Multiplies every simulated latency (tests use a small one). Default 1. */
  readonly latencyScale?: number | undefined
}

export interface ItemOutcome<E> {
  readonly id: string
  readonly exit: Exit.Exit<Saved, E>
}

// ---------------------------------------------------------------------------
// 1. Callback chaining, as in Python
// ---------------------------------------------------------------------------

export interface CallbackRun {
  /** Each item's outcome, in input order. */
  readonly outcomes: ReadonlyArray<ItemOutcome<StepError | ExecutorFailure>>
  /** Every future the chains submitted (fetch, process and save steps). */
  readonly futures: ReadonlyArray<Future.Future<unknown, unknown>>
  /** Future id → how many times a done-callback registered on it at submission ran. */
  readonly settled: ReadonlyMap<number, number>
  readonly stats: Stats
  readonly millis: number
}

/**
 * The Python pattern:
 *
 * ```python
 * def on_fetched(f):
 *     if f.exception(): result.set_exception(f.exception()); return
 *     ex.submit(process, f.result()).add_done_callback(on_processed)
 * ```
 *
 * Every step is a task of its own; the item's outcome is a Deferred completed
 * by the last callback of its chain.
 */
export const withCallbacks = (outDir: string, options: RunOptions = {}): Effect.Effect<CallbackRun, SubmitError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const executor = yield* IoExecutor.make({ maxWorkers: options.maxWorkers ?? 4, name: "callbacks" }).pipe(
        Effect.orDie
      )
      const futures: Array<Future.Future<unknown, unknown>> = []
      const settled = new Map<number, number>()

      // submit, and count how often each future's first done-callback runs
      const submit = <A, E>(task: Effect.Effect<A, E>) =>
        Effect.tap(executor.submit(task), (future) => {
          futures.push(future)
          return Future.addDoneCallback(future, (f) =>
            Effect.sync(() => settled.set(f.id, (settled.get(f.id) ?? 0) + 1))
          )
        })

      // when `future` settles: a failure completes `result` (typed, as it is);
      // a value goes on to `next`, whose own submit failure completes `result`
      const then = <A, E extends StepError | ExecutorFailure>(
        future: Future.Future<A, E>,
        result: Deferred.Deferred<Saved, StepError | ExecutorFailure>,
        next: (value: A) => Effect.Effect<void, SubmitError>
      ) =>
        Future.addDoneCallback(future, (f) =>
          Effect.flatMap(Future.exit(f), (exit) =>
            Exit.isSuccess(exit)
              ? Effect.catch(next(exit.value), (error) => Effect.asVoid(Deferred.fail(result, error)))
              : Effect.asVoid(Deferred.failCause(result, exit.cause))
          )
        )

      const start = yield* Clock.currentTimeMillis
      const results = yield* Effect.forEach(items, (item) =>
        Effect.gen(function* () {
          const result = yield* Deferred.make<Saved, StepError | ExecutorFailure>()
          const fetched = yield* submit(fetchItem(item, options.latencyScale))
          yield* then(fetched, result, (record) =>
            Effect.gen(function* () {
              const processed = yield* submit(processRecord(record))
              yield* then(processed, result, (p) =>
                Effect.gen(function* () {
                  const saved = yield* submit(saveRecord(outDir)(p))
                  yield* then(saved, result, (s) => Effect.asVoid(Deferred.succeed(result, s)))
                })
              )
            })
          )
          return { id: item.id, result }
        })
      )
      // nothing above waited: every chain runs on its own; now collect the outcomes
      const outcomes = yield* Effect.forEach(results, ({ id, result }) =>
        Effect.map(Effect.exit(Deferred.await(result)), (exit) => ({ id, exit }))
      )
      const millis = (yield* Clock.currentTimeMillis) - start
      return { outcomes, futures, settled, stats: yield* executor.stats, millis }
    })
  )

// ---------------------------------------------------------------------------
// 2. The same pipeline, idiomatic Effect
// ---------------------------------------------------------------------------

export interface EffectRun {
  readonly outcomes: ReadonlyArray<ItemOutcome<StepError>>
  readonly stats: Stats
  readonly millis: number
}

/** One Effect per item, the three steps composed; `executor.map` runs them, results in input order. */
export const withEffect = (
  outDir: string,
  options: RunOptions = {}
): Effect.Effect<EffectRun, SubmitError | CancelledError | Cause.TimeoutError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const executor = yield* IoExecutor.make({ maxWorkers: options.maxWorkers ?? 4, name: "effect" }).pipe(
        Effect.orDie
      )
      const pipeline = (item: Item) =>
        fetchItem(item, options.latencyScale).pipe(Effect.flatMap(processRecord), Effect.flatMap(saveRecord(outDir)))

      const start = yield* Clock.currentTimeMillis
      // Effect.exit keeps a failed item as a value: map would otherwise end at the first failure
      const exits = yield* executor.map(items, (item) => Effect.exit(pipeline(item))).pipe(Stream.runCollect)
      const millis = (yield* Clock.currentTimeMillis) - start
      const outcomes = exits.map((exit, i) => ({ id: items[i].id, exit }))
      return { outcomes, stats: yield* executor.stats, millis }
    })
  )

// ---------------------------------------------------------------------------
// Comparing the two
// ---------------------------------------------------------------------------

/** The typed failure of an outcome, or undefined when it succeeded. */
export const failureOf = <E>(exit: Exit.Exit<Saved, E>): E | undefined =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.findErrorOption(exit.cause)) : undefined

/** Every file of a directory, name → contents. */
export const readOutputs = (dir: string): Effect.Effect<ReadonlyMap<string, string>> =>
  Effect.promise(async () => {
    const names = (await fs.readdir(dir)).sort()
    return new Map(
      await Promise.all(names.map(async (n) => [n, await fs.readFile(path.join(dir, n), "utf8")] as const))
    )
  })
