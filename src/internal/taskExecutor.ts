// What the executors that run `Task`s (the CPU executor, the cluster executor)
// share above their slot kind, written once: a submission encodes the payload
// with the task's schema (a payload that does not encode gives a future failed
// with `TaskCodecError`, counted as submitted and failed) and admits a work of
// the slot kind; `map` with `chunksize` sends chunks of payloads as one task
// each and emits their results one by one.
import type * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { MapOptions } from "../Executor.ts"
import type { CancelledError, SubmitError } from "../ExecutorError.ts"
import type { Future } from "../Future.ts"
import type * as Task from "../Task.ts"
import { TaskExecutor, type TaskExecutorShape } from "../TaskExecutor.ts"
import * as cpuJob from "./cpuJob.ts"
import type { Slot, Work } from "./dispatcher.ts"
import type { Core } from "./executor.ts"
import * as map_ from "./map.ts"
import * as options_ from "./options.ts"
import * as timeout_ from "./timeout.ts"

/** Submits a task's payload (or a chunk of payloads); `track` as `Core.submit`'s. @internal */
export type Submit = (
  task: Task.AnyTask,
  chunk: boolean,
  payload: unknown,
  timeout: Duration.Input | undefined,
  transfer: ReadonlyArray<any> | undefined,
  track?: (future: Future<any, any>) => void,
  extra?: unknown
) => Effect.Effect<Future<any, any>, SubmitError>

/** A slot kind's work for an encoded payload (`undefined` when it did not encode). @internal */
export type MakeWork<W> = (
  timeoutMs: number,
  task: Task.AnyTask,
  encoded: unknown,
  chunk: boolean,
  transfer: ReadonlyArray<any> | undefined,
  /** What a slot kind's own submit options carry (the cluster's idempotency key). */
  extra: unknown
) => W

/**
 * `packNumbers`: a chunk of numbers goes as one `Float64Array` (the CPU
 * executor's workers unpack it; a cluster call's payload must stay an array).
 * @internal
 */
export const submitter =
  <S extends Slot, W extends Work<S>>(core: Core<S, W>, makeWork: MakeWork<W>, packNumbers = false): Submit =>
  (task, chunk, payload, timeout, transfer, track, extra) =>
    Effect.suspend(() => {
      const millis = timeout_.parse(timeout, "timeout")
      if (typeof millis !== "number") return Effect.die(millis)
      const encoded = cpuJob.encodePayload(task, payload, chunk, packNumbers)
      const ok = "encoded" in encoded
      const work = makeWork(millis, task, ok ? encoded.encoded : undefined, chunk, transfer, extra)
      if (ok) return core.submit(work, track)
      track?.(work.future)
      return core.dispatcher.failFast(work, encoded, work.future)
    })

/** `map` over a task's payloads, `chunksize` at a time. @internal */
export const map = <T extends Task.AnyTask, TE>(
  submit: Submit,
  task: T,
  payloads: Iterable<Task.Payload<T>>,
  options: MapOptions | undefined
): Stream.Stream<Task.Success<T>, Task.Error<T> | TE | CancelledError | SubmitError | Cause.TimeoutError> => {
  type Out = Stream.Stream<Task.Success<T>, Task.Error<T> | TE | CancelledError | SubmitError | Cause.TimeoutError>
  const chunksize = options?.chunksize ?? 1
  if (!Number.isInteger(chunksize) || chunksize < 1) {
    return Stream.die(options_.invalid("chunksize", chunksize, "a positive integer"))
  }
  if (chunksize === 1) {
    return map_.map(
      payloads,
      (payload, track) => submit(task, false, payload, options?.taskTimeout, undefined, track),
      options
    ) as Out
  }
  // each chunk's future holds an array of results: emit its elements (chunks are never empty)
  return map_.map(
    cpuJob.chunks(payloads, chunksize),
    (chunk, track) => submit(task, true, chunk, options?.taskTimeout, undefined, track),
    options,
    true
  ) as Out
}

/**
 * A layer providing an executor under its own tag and as the common
 * `TaskExecutor` (the same instance under both).
 * @internal
 */
export const layer = <I, S, E, R>(
  tag: Context.Key<I, S>,
  make: Effect.Effect<S, E, R>
): Layer.Layer<I | TaskExecutor, E, Exclude<R, Scope.Scope>> =>
  Layer.effectContext(
    Effect.map(make, (executor) =>
      Context.make(tag, executor).pipe(
        // both task executors' shapes are a TaskExecutorShape (their errors are narrower)
        Context.add(TaskExecutor, executor as unknown as TaskExecutorShape)
      )
    )
  )
