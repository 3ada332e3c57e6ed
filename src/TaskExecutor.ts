/**
 * "Something that runs my tasks": the service both `CpuExecutor` and
 * `ClusterExecutor` layers provide, besides their own tag.
 *
 * Application code that only submits `Task`s depends on {@link TaskExecutor}
 * and the Layer decides where they run: worker threads in this process
 * (`CpuExecutor.layer`), an in-process cluster (`ClusterExecutor.layerEmbedded`)
 * or runners on other machines (`ClusterNode.layerClient`). The same program,
 * the same tasks, the same worker entry module; one Layer swapped.
 *
 * The contract is what both executors guarantee:
 * - `submit(task, payload, { timeout })` encodes the payload with the task's
 *   schema and returns its `Future`; the task's typed error arrives as its own
 *   class; `timeout` bounds the running time from when the task starts.
 * - `map(task, payloads, { chunksize, buffersize, timeout, taskTimeout })` is
 *   a `Stream` of results in input order.
 * - `shutdown`, `stats`: as every `Executor`'s.
 * - `Future.cancel` stops the task where it runs and returns once it has
 *   stopped (for a remote task: once the runner confirms, or after the
 *   cluster executor's `cancelTimeout`).
 *
 * What differs is in the error type: `TaskError` is the union of what either
 * executor's futures can fail with (`ClusterError` only ever comes from a
 * cluster executor). Options only one kind has (`transfer`, `idempotencyKey`,
 * `persisted`) are on that executor's own tag.
 *
 * **Example** (One program, threads or machines)
 *
 * ```ts
 * import { Effect, Schema, Stream } from "effect"
 * import { ClusterExecutor, CpuExecutor, Future, Task, TaskExecutor } from "effect-futures"
 *
 * const SquareRoot = Task.make("SquareRoot", { payload: Schema.Number, success: Schema.Number })
 *
 * const program = Effect.gen(function* () {
 *   const tasks = yield* TaskExecutor.TaskExecutor
 *   const one = yield* Future.await(yield* tasks.submit(SquareRoot, 16))
 *   const many = yield* Stream.runCollect(tasks.map(SquareRoot, [1, 4, 9], { chunksize: 2 }))
 *   return [one, ...many]
 * })
 *
 * const worker = new URL("./worker.ts", import.meta.url)
 * const onThreads = program.pipe(Effect.provide(CpuExecutor.layer({ worker })))
 * const onCluster = program.pipe(Effect.provide(ClusterExecutor.layerEmbedded({ runner: { worker } })))
 * ```
 *
 * @since 0.3.0
 */
import type * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import type { Executor, MapOptions, Stats } from "./Executor.ts"
import type {
  BrokenExecutorError,
  CancelledError,
  ClusterError,
  ExecutorShutdownError,
  QueueFullError,
  SubmitError,
  TaskCodecError,
  WorkerCrashedError
} from "./ExecutorError.ts"
import type { Future } from "./Future.ts"
import type * as Task from "./Task.ts"

/**
 * Options of `submit` that every task executor honours.
 *
 * @category models
 * @since 0.3.0
 */
export interface SubmitOptions {
  /**
   * Bounds the task's running time, counted from when a worker starts it
   * (on a cluster: the runner's worker); on expiry the task is stopped and
   * its future fails with `Cause.TimeoutError`.
   */
  readonly timeout?: Duration.Input | undefined
}

/**
 * What a task's future can fail with besides the task's own error, on any
 * task executor: a worker crash, a payload or result that does not
 * encode/decode (or a task nobody serves), a broken or shut-down executor, a
 * full queue on a runner, a cluster failure (cluster executors only) and the
 * task's timeout.
 *
 * @category models
 * @since 0.3.0
 */
export type TaskError =
  | WorkerCrashedError
  | TaskCodecError
  | BrokenExecutorError
  | ExecutorShutdownError
  | QueueFullError
  | ClusterError
  | Cause.TimeoutError

/**
 * An executor of `Task`s, written once for every kind: `submit` and `map`
 * of `Task`s, `shutdown` and `stats`, given the options its `submit` takes
 * (`Options`), the errors its own machinery adds to a task's (`TE`) and its
 * statistics (`S`). `CpuExecutorShape`, `ClusterExecutorShape` and
 * {@link TaskExecutorShape} are this shape.
 *
 * **Example** (A function over any of them)
 *
 * ```ts
 * import type { Stats } from "effect-futures/Executor"
 * import type { TaskExecutorOf } from "effect-futures/TaskExecutor"
 *
 * const describe = <O, E, S extends Stats>(executor: TaskExecutorOf<O, E, S>) => executor.name
 * ```
 *
 * @category models
 * @since 0.3.0
 */
export interface TaskExecutorOf<Options, TE, S extends Stats> extends Executor {
  readonly submit: <T extends Task.AnyTask>(
    task: T,
    payload: Task.Payload<T>,
    options?: Options
  ) => Effect.Effect<Future<Task.Success<T>, Task.Error<T> | TE>, SubmitError>
  readonly map: <T extends Task.AnyTask>(
    task: T,
    payloads: Iterable<Task.Payload<T>>,
    options?: MapOptions
  ) => Stream.Stream<Task.Success<T>, Task.Error<T> | TE | CancelledError | SubmitError | Cause.TimeoutError>
  readonly stats: Effect.Effect<S>
}

/**
 * The common shape of `CpuExecutor` and `ClusterExecutor`: `submit` and
 * `map` of `Task`s, `shutdown` and `stats` (the executor's own tag gives the
 * richer `CpuStats` / `ClusterStats`).
 *
 * @category models
 * @since 0.3.0
 */
export interface TaskExecutorShape extends TaskExecutorOf<SubmitOptions, TaskError, Stats> {}

/**
 * The service: provided by `CpuExecutor.layer`, `CpuExecutor.layerConfig`,
 * `ClusterExecutor.layer`, `ClusterExecutor.layerEmbedded` and
 * `ClusterNode.layerClient`, each alongside its own tag (the same executor
 * under both).
 *
 * **Example** (Depending on "something that runs my tasks")
 *
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Future, Task, TaskExecutor } from "effect-futures"
 *
 * const Resize = Task.make("Resize", { payload: Schema.String, success: Schema.Number })
 *
 * // Effect<number, …, TaskExecutor>: threads or machines, decided by the Layer
 * const resize = (path: string) =>
 *   TaskExecutor.TaskExecutor.use((tasks) => Effect.flatMap(tasks.submit(Resize, path), Future.await))
 * ```
 *
 * @category services
 * @since 0.3.0
 */
export class TaskExecutor extends Context.Service<TaskExecutor, TaskExecutorShape>()("effect-futures/TaskExecutor") {}
