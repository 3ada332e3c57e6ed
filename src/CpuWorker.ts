/**
 * The worker side of the CPU executor: what a worker entry module calls.
 *
 * A worker entry module registers one handler per task and calls `serve` at
 * its top level. The worker runs only registered tasks: a task name it does
 * not serve fails that future with a typed error, never runs code.
 *
 * **Example** (A worker entry module, `worker.ts`)
 *
 * ```ts
 * import * as Effect from "effect/Effect"
 * import * as Schema from "effect/Schema"
 * import * as CpuWorker from "effect-futures/CpuWorker"
 * import * as Task from "effect-futures/Task"
 *
 * // usually in a tasks module that the parent imports too
 * class NegativeInput extends Schema.TaggedError<NegativeInput>()("NegativeInput", { value: Schema.Number }) {}
 * const SquareRoot = Task.make("SquareRoot", { payload: Schema.Number, success: Schema.Number, error: NegativeInput })
 *
 * CpuWorker.serve([
 *   CpuWorker.handler(SquareRoot, (x) => x < 0 ? Effect.fail(new NegativeInput({ value: x })) : Effect.succeed(Math.sqrt(x)))
 * ])
 * ```
 *
 * Import modules directly (`effect/Effect`, `effect-futures/CpuWorker`), not
 * through the barrels: every worker loads its imports when it starts.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as internal from "./internal/workerMain.ts"
import type * as Task from "./Task.ts"

/**
 * A task's implementation in the worker.
 *
 * @category models
 * @since 0.1.0
 */
export interface Handler<T extends Task.AnyTask> {
  readonly task: T
  readonly run: (payload: Task.Payload<T>) => Effect.Effect<Task.Success<T> | Transfer<Task.Success<T>>, Task.Error<T>>
}

/**
 * Options of {@link serve}.
 *
 * @category models
 * @since 0.1.0
 */
export interface ServeOptions {
  /**
   * Runs once when the worker starts, before it accepts tasks, with the
   * executor's `workerData` option. Resources it acquires in its `Scope` are
   * released when the worker is closed. If it fails, the executor is broken:
   * queued and later submissions fail with `BrokenExecutorError`.
   */
  readonly initialize?: ((workerData: unknown) => Effect.Effect<unknown, unknown, Scope.Scope>) | undefined
}

/**
 * A result with a transfer list: the listed `ArrayBuffer`s (or ports) are
 * moved to the parent instead of copied.
 *
 * @category models
 * @since 0.1.0
 */
export interface Transfer<A> extends internal.Transfer<A> {}

/**
 * Implements a task. The function runs in the worker for each payload; it
 * returns an Effect that succeeds with the task's success type or fails with
 * its error type. A handler that returns `Effect.succeed` / `Effect.fail`
 * settles without a fiber; any other Effect runs in a fiber that a cancel or
 * timeout interrupts inside the worker (its finalizers run there). A handler
 * that blocks synchronously cannot be interrupted: the executor terminates its
 * worker after `cancelGracePeriod`.
 *
 * **Example** (A handler whose finalizer runs when the task is cancelled)
 *
 * ```ts
 * import * as Effect from "effect/Effect"
 * import * as Schema from "effect/Schema"
 * import * as CpuWorker from "effect-futures/CpuWorker"
 * import * as Task from "effect-futures/Task"
 *
 * const Render = Task.make("Render", { payload: Schema.String, success: Schema.Number })
 * const render = CpuWorker.handler(Render, (scene) =>
 *   Effect.sleep("1 second").pipe(
 *     Effect.as(scene.length),
 *     Effect.onInterrupt(() => Effect.log(`render of ${scene} cancelled`))
 *   ))
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const handler = <T extends Task.AnyTask>(
  task: T,
  run: (payload: Task.Payload<T>) => Effect.Effect<Task.Success<T> | Transfer<Task.Success<T>>, Task.Error<T>>
): Handler<T> => ({ task, run })

/**
 * Marks a result to be moved, not copied: `transferList` names the
 * `ArrayBuffer`s inside it.
 *
 * **Example** (Returning a large buffer without a copy)
 *
 * ```ts
 * import * as Effect from "effect/Effect"
 * import * as CpuWorker from "effect-futures/CpuWorker"
 *
 * const result = new Uint8Array(1 << 20)
 * const reply = Effect.succeed(CpuWorker.transfer(result, [result.buffer]))
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const transfer = <A>(
  value: A,
  transferList: ReadonlyArray<ArrayBuffer | import("node:worker_threads").MessagePort>
): Transfer<A> => ({
  [internal.TransferTypeId]: internal.TransferTypeId,
  value,
  transferList
})

/**
 * Serves the given handlers in this worker thread. Call it once, at the top
 * level of the worker entry module. Throws when not running in a worker
 * started by a `CpuExecutor`, or when a task is registered twice.
 *
 * **Example** (Serving two tasks with a per-worker resource)
 *
 * ```ts
 * import * as Effect from "effect/Effect"
 * import * as Schema from "effect/Schema"
 * import * as CpuWorker from "effect-futures/CpuWorker"
 * import * as Task from "effect-futures/Task"
 *
 * const Upper = Task.make("Upper", { payload: Schema.String, success: Schema.String })
 * const Length = Task.make("Length", { payload: Schema.String, success: Schema.Number })
 * let dictionary: ReadonlySet<string> = new Set()
 *
 * CpuWorker.serve(
 *   [
 *     CpuWorker.handler(Upper, (s) => Effect.succeed(s.toUpperCase())),
 *     CpuWorker.handler(Length, (s) => Effect.succeed(dictionary.has(s) ? s.length : 0))
 *   ],
 *   { initialize: (data) => Effect.sync(() => { dictionary = new Set(data as Array<string>) }) }
 * )
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const serve = (handlers: ReadonlyArray<Handler<any>>, options?: ServeOptions): void =>
  internal.serve(handlers as ReadonlyArray<internal.Handler>, options)
