/**
 * What every executor shares: the {@link Executor} interface (name, shutdown,
 * statistics), shutdown options, and the options of `submit` and `map`.
 * `IoExecutor` and `CpuExecutor` are built on one dispatcher, so these mean
 * the same thing for both.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"

/**
 * What every executor has, so code can be written against any of them (an
 * I/O pool, a CPU pool, one of your own tags over either): its name, its
 * shutdown and its counters. How work is submitted differs by kind (an
 * effect for `IoExecutor`, a `Task` and its payload for `CpuExecutor`), so
 * `submit` and `map` are on each executor's own shape.
 *
 * **Example** (Draining any executor before exit)
 *
 * ```ts
 * import { Effect } from "effect"
 * import type { Executor } from "effect-futures"
 *
 * const drain = (executor: Executor.Executor) =>
 *   Effect.gen(function* () {
 *     yield* executor.shutdown({ wait: true })
 *     const stats = yield* executor.stats
 *     yield* Effect.log(`${executor.name}: ${stats.succeeded} succeeded, ${stats.failed} failed`)
 *   })
 * ```
 *
 * @category models
 * @since 0.2.0
 */
export interface Executor {
  /** The `name` option: names the executor in errors, metrics and spans. */
  readonly name: string
  /**
   * Idempotent. Afterwards `submit` fails with `ExecutorShutdownError`;
   * queued tasks still run unless `cancelFutures`; with `wait` (the default)
   * it returns once every running and queued task has settled. Called from
   * inside one of the executor's own tasks, it waits for every other task
   * (never for the calling one, which would deadlock) and returns.
   */
  readonly shutdown: (options?: ShutdownOptions) => Effect.Effect<void>
  /** A snapshot of the counters. */
  readonly stats: Effect.Effect<Stats>
}

/**
 * Options of `shutdown` (Python's `shutdown(wait, cancel_futures)`).
 *
 * @category models
 * @since 0.1.0
 */
export interface ShutdownOptions {
  /** Wait until every running and queued task has settled. Default `true`. */
  readonly wait?: boolean | undefined
  /** Cancel the queued (not running) futures. Default `false`. */
  readonly cancelFutures?: boolean | undefined
}

/**
 * A snapshot of an executor's counters.
 *
 * `submitted = succeeded + failed + cancelled + running + prefetched + queued`
 * holds at every snapshot.
 *
 * @category models
 * @since 0.1.0
 */
export interface Stats {
  /** The `maxWorkers` option. */
  readonly maxWorkers: number
  /** Slots (fiber slots or worker threads) alive now. */
  readonly workers: number
  /** Tasks running now (started). */
  readonly running: number
  /**
   * Tasks sent ahead to a CPU worker (`prefetch`) that has not started them
   * yet: they wait in that worker's queue (always 0 for the I/O executor).
   */
  readonly prefetched: number
  /** Tasks waiting in the queue. */
  readonly queued: number
  /** Tasks admitted since the executor started. */
  readonly submitted: number
  readonly succeeded: number
  readonly failed: number
  readonly cancelled: number
}

/**
 * What a full queue does to `submit` (only with a finite `maxQueue`):
 * `"suspend"` makes the submitting fiber wait for room (backpressure),
 * `"fail"` fails the submission with `QueueFullError`.
 *
 * @category models
 * @since 0.1.0
 */
export type WhenFull = "suspend" | "fail"

/**
 * Options of `submit`.
 *
 * @category models
 * @since 0.1.0
 */
export interface SubmitOptions {
  /**
   * Bounds the task's running time, counted from when it starts (not from
   * submission): on expiry the task is interrupted and its future fails with
   * `Cause.TimeoutError`. Negative or `NaN` values are a defect carrying an
   * `InvalidOptionsError`.
   */
  readonly timeout?: Duration.Input | undefined
}

/**
 * Options of `map` (Python's `Executor.map(fn, *iterables, timeout, chunksize, buffersize)`).
 *
 * @category models
 * @since 0.1.0
 */
export interface MapOptions {
  /**
   * One deadline for the whole stream, counted from when it starts: if the
   * next result is not ready by then, the stream fails with
   * `Cause.TimeoutError` (and its unfinished tasks are cancelled). Each task's
   * own running-time limit is `taskTimeout`.
   */
  readonly timeout?: Duration.Input | undefined
  /** The running-time limit of each task, as `submit`'s `timeout`. */
  readonly taskTimeout?: Duration.Input | undefined
  /**
   * Submit at most this many tasks ahead of the consumer (a positive integer).
   * Without it, every item is submitted when the stream starts, as Python
   * does; with it, infinite or lazy inputs are safe.
   */
  readonly buffersize?: number | undefined
  /**
   * Items per batch. Accepted and ignored by the I/O executor (as Python does
   * for threads); the CPU executor sends this many items per worker message.
   */
  readonly chunksize?: number | undefined
}
