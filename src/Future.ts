/**
 * A handle to the eventual outcome of a task submitted to an executor
 * (Python's `concurrent.futures.Future`).
 *
 * A `Future<A, E>` is `pending` (queued), `running`, `succeeded`, `failed` or
 * `cancelled`, and settles exactly once. Awaiting suspends the fiber on a
 * `Deferred`; cancelling a queued task removes it from the queue, and
 * cancelling a running task interrupts it. `wait` and `asCompleted` work over
 * many futures, from any executors.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import type * as Duration from "effect/Duration"
import type * as Exit from "effect/Exit"
import { dual } from "effect/Function"
import type { Pipeable } from "effect/Pipeable"
import { hasProperty, isIterable } from "effect/Predicate"
import type * as Stream from "effect/Stream"
import type { CancelledError } from "./ExecutorError.ts"
import * as internal from "./internal/future.ts"
import * as wait_ from "./internal/wait.ts"

const TypeId = internal.TypeId

/**
 * The state of a future. It moves forward: `pending` → `running` → one of
 * `succeeded`, `failed`, `cancelled` (a queued future can go straight from
 * `pending` to `cancelled` or, when its executor breaks, to `failed`). One
 * step back exists: a CPU task sent ahead (`prefetch`) to a worker that dies
 * or is terminated before starting it goes from `running` back to `pending`,
 * at the head of the queue, and runs on another worker. A settled state never
 * changes.
 *
 * @category models
 * @since 0.1.0
 */
export type State = "pending" | "running" | "succeeded" | "failed" | "cancelled"

/**
 * The eventual outcome of a task that succeeds with `A` or fails with `E`.
 *
 * @category models
 * @since 0.1.0
 */
export interface Future<out A, out E = never> extends Pipeable {
  readonly [TypeId]: { readonly _A: (_: never) => A; readonly _E: (_: never) => E }
  /** Unique in the process, increasing in submission order. */
  readonly id: number
}

/**
 * What `wait` returns: the futures that were done and those that were not
 * when it returned (Python's `DoneAndNotDoneFutures`).
 *
 * @category models
 * @since 0.1.0
 */
export interface DoneAndNotDone<A, E> {
  readonly done: ReadonlySet<Future<A, E>>
  readonly notDone: ReadonlySet<Future<A, E>>
}

/**
 * When `wait` returns.
 *
 * - `FIRST_COMPLETED`: as soon as any future is done (cancelled counts).
 * - `FIRST_EXCEPTION`: as soon as any future fails (not cancelled), or when all are done.
 * - `ALL_COMPLETED`: when all are done.
 *
 * @category models
 * @since 0.1.0
 */
export type ReturnWhen = "FIRST_COMPLETED" | "FIRST_EXCEPTION" | "ALL_COMPLETED"

/**
 * Tells whether a value is a `Future`.
 *
 * **Example** (Telling futures from other values)
 *
 * ```ts
 * import { Future } from "effect-futures"
 *
 * Future.isFuture({ id: 1 }) // => false
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isFuture = (u: unknown): u is Future<unknown, unknown> => hasProperty(u, TypeId)

const _await: <A, E>(self: Future<A, E>) => Effect.Effect<A, E | CancelledError> = internal.await_

export {
  /**
   * Suspends until the future settles, then succeeds with its value or fails
   * with its error (Python's `result()`). A cancelled future fails with
   * `CancelledError`; a task that died makes the awaiter die with the same
   * defect.
   *
   * **Gotchas**
   *
   * There is no timeout parameter: compose `Effect.timeout`. It stops only the
   * wait, never the task, and adds `Cause.TimeoutError` to the error channel.
   * Interrupting the awaiting fiber likewise leaves the task running.
   *
   * **Example** (Waiting at most one second)
   *
   * ```ts
   * import { Effect } from "effect"
   * import { Future, IoExecutor } from "effect-futures"
   *
   * const program = Effect.gen(function*() {
   *   const executor = yield* IoExecutor.IoExecutor
   *   const future = yield* executor.submit(Effect.succeed(42))
   *   return yield* Future.await(future).pipe(Effect.timeout("1 second"))
   * })
   * ```
   *
   * @category getters
   * @since 0.1.0
   */
  _await as await
}

/**
 * Suspends until the future settles and returns its `Exit`; never fails
 * (Python's `exception()`, with the value as well).
 *
 * **Example** (Inspecting the outcome without failing)
 *
 * ```ts
 * import { Effect, Exit } from "effect"
 * import { Future } from "effect-futures"
 *
 * declare const future: Future.Future<number, string>
 * const describe = Effect.map(Future.exit(future), (exit) => (Exit.isSuccess(exit) ? `ok ${exit.value}` : "failed"))
 * ```
 *
 * @category getters
 * @since 0.1.0
 */
export const exit: <A, E>(self: Future<A, E>) => Effect.Effect<Exit.Exit<A, E | CancelledError>> = internal.exit

/**
 * Cancels the future; succeeds with `true` iff the future ends cancelled.
 *
 * - Pending: it is removed from the queue and its task never starts.
 * - Running: the task's fiber is interrupted (for the CPU executor, the worker
 *   is told to stop, and terminated if it does not within the grace period);
 *   `cancel` returns after the task has stopped and its finalizers have run.
 *   This is stronger than Python, which cannot cancel running work. If the
 *   task finished before the interruption took effect (or was uninterruptible),
 *   the future keeps that outcome and `cancel` returns `false`.
 * - Succeeded or failed: `false`, nothing changes. Already cancelled: `true`.
 *
 * **Example** (Cancelling a queued task)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Future, IoExecutor } from "effect-futures"
 *
 * const program = Effect.gen(function*() {
 *   const executor = yield* IoExecutor.IoExecutor
 *   const future = yield* executor.submit(Effect.never)
 *   const cancelled = yield* Future.cancel(future) // => true
 * })
 * ```
 *
 * @category cancellation
 * @since 0.1.0
 */
export const cancel: <A, E>(self: Future<A, E>) => Effect.Effect<boolean> = internal.cancel

/**
 * Cancels many futures at once and returns, in input order, what `cancel`
 * returned for each.
 *
 * Prefer it to cancelling one by one: futures still queued are cancelled
 * first, so none of them starts in a slot freed by cancelling a running one
 * (which a loop over `cancel` allows), and running ones are then cancelled
 * concurrently, so that stopping them (for a CPU task stuck in a synchronous
 * loop, terminating its worker after the grace period) overlaps instead of
 * adding up. Each future's semantics are those of {@link cancel}.
 *
 * **Example** (Cancelling what did not finish in time)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Future, IoExecutor } from "effect-futures"
 *
 * const program = Effect.gen(function*() {
 *   const executor = yield* IoExecutor.IoExecutor
 *   const futures = yield* Effect.forEach([100, 200, 5_000], (ms) => executor.submit(Effect.sleep(ms)))
 *   const { notDone } = yield* Future.wait(futures, { timeout: "1 second" })
 *   const cancelled = yield* Future.cancelAll(notDone) // => [true]
 * })
 * ```
 *
 * @category cancellation
 * @since 0.1.0
 */
export const cancelAll: <A, E>(futures: Iterable<Future<A, E>>) => Effect.Effect<Array<boolean>> = internal.cancelAll

/**
 * The future's current state.
 *
 * **Example** (Logging progress)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Future } from "effect-futures"
 *
 * declare const future: Future.Future<number>
 * const log = Effect.flatMap(Future.state(future), (state) => Effect.log(`future ${future.id}: ${state}`))
 * ```
 *
 * @category getters
 * @since 0.1.0
 */
export const state = <A, E>(self: Future<A, E>): Effect.Effect<State> => Effect.sync(() => internal.stateName(self))

/**
 * The future's current state, read synchronously.
 *
 * **Example** (Reading the state outside an Effect)
 *
 * ```ts
 * import { Future } from "effect-futures"
 *
 * declare const futures: ReadonlyArray<Future.Future<number>>
 * const running = futures.filter((f) => Future.stateUnsafe(f) === "running").length
 * ```
 *
 * @category getters
 * @since 0.1.0
 */
export const stateUnsafe = <A, E>(self: Future<A, E>): State => internal.stateName(self)

/**
 * Whether the future has settled (succeeded, failed or cancelled).
 *
 * **Example** (Counting settled futures)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Future } from "effect-futures"
 *
 * declare const future: Future.Future<number>
 * const flag: Effect.Effect<boolean> = Future.isDone(future)
 * ```
 *
 * @category getters
 * @since 0.1.0
 */
export const isDone = <A, E>(self: Future<A, E>): Effect.Effect<boolean> =>
  Effect.sync(() => internal.isDoneUnsafe(self))

/**
 * Whether the future's task is running now.
 *
 * **Example** (Checking a task has started)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Future } from "effect-futures"
 *
 * declare const future: Future.Future<number>
 * const flag: Effect.Effect<boolean> = Future.isRunning(future)
 * ```
 *
 * @category getters
 * @since 0.1.0
 */
export const isRunning = <A, E>(self: Future<A, E>): Effect.Effect<boolean> =>
  Effect.sync(() => internal.observedState(internal.impl(self)) === internal.RUNNING)

/**
 * Whether the future ended cancelled.
 *
 * **Example** (Checking a cancellation)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Future } from "effect-futures"
 *
 * declare const future: Future.Future<number>
 * const flag: Effect.Effect<boolean> = Future.isCancelled(future)
 * ```
 *
 * @category getters
 * @since 0.1.0
 */
export const isCancelled = <A, E>(self: Future<A, E>): Effect.Effect<boolean> =>
  Effect.sync(() => internal.impl(self).state === internal.CANCELLED)

/**
 * Registers a callback that runs exactly once after the future settles, with
 * the future as argument (Python's `add_done_callback`).
 *
 * Callbacks run one after another in registration order, in a fiber of their
 * own, each with the context of the fiber that registered it. If the future
 * has already settled, the callback runs at once, in the calling fiber. A
 * callback that fails or dies is logged at error level and affects neither the
 * future nor the other callbacks.
 *
 * **Example** (Logging each result)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Future } from "effect-futures"
 *
 * declare const future: Future.Future<number>
 * const register = future.pipe(
 *   Future.addDoneCallback((f) => Effect.flatMap(Future.exit(f), (exit) => Effect.log("done", exit)))
 * )
 * ```
 *
 * @category callbacks
 * @since 0.1.0
 */
export const addDoneCallback: {
  <A, E>(f: (future: Future<A, E>) => Effect.Effect<void, unknown>): (self: Future<A, E>) => Effect.Effect<void>
  <A, E>(self: Future<A, E>, f: (future: Future<A, E>) => Effect.Effect<void, unknown>): Effect.Effect<void>
} = dual(2, internal.addDoneCallback)

/**
 * Options of {@link wait}.
 *
 * @category models
 * @since 0.1.0
 */
export interface WaitOptions {
  /** Default `"ALL_COMPLETED"`. */
  readonly returnWhen?: ReturnWhen | undefined
  /** Return the partition as it is after this long. Default: no limit. */
  readonly timeout?: Duration.Input | undefined
}

/**
 * Waits for futures (from any executors) and partitions them into done and
 * not done (Python's `concurrent.futures.wait`). Never fails: on timeout it
 * returns the partition at that moment. Duplicates are counted once.
 *
 * Cancelled futures count as done. `FIRST_EXCEPTION` returns at the first
 * failed (not cancelled) future, or when all are done. Interrupting the
 * waiting fiber leaves the futures untouched.
 *
 * An invalid `timeout` (negative, `NaN`) or `returnWhen` is a defect carrying
 * an `InvalidOptionsError`.
 *
 * **Example** (Cancelling whatever did not finish in time)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Future } from "effect-futures"
 *
 * declare const futures: ReadonlyArray<Future.Future<number>>
 * const program = Effect.gen(function*() {
 *   const { done, notDone } = yield* Future.wait(futures, { timeout: "5 seconds" })
 *   yield* Future.cancelAll(notDone)
 *   return done.size
 * })
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const wait: {
  (options?: WaitOptions): <A, E>(futures: Iterable<Future<A, E>>) => Effect.Effect<DoneAndNotDone<A, E>>
  <A, E>(futures: Iterable<Future<A, E>>, options?: WaitOptions): Effect.Effect<DoneAndNotDone<A, E>>
} = dual((args) => isIterable(args[0]), wait_.wait)

/**
 * Options of {@link asCompleted}.
 *
 * @category models
 * @since 0.1.0
 */
export interface AsCompletedOptions {
  /** The stream fails with `Cause.TimeoutError` if not all futures are done this long after it starts. */
  readonly timeout?: Duration.Input | undefined
}

/**
 * A stream of the futures, each distinct future once, in the order they
 * complete; futures already done when the stream starts come first (Python's
 * `as_completed`). Futures from any executors can be mixed.
 *
 * The stream fails with `Cause.TimeoutError` if the timeout elapses before
 * every future is done. Ending the stream early leaves the futures untouched.
 *
 * **Example** (Handling results as they arrive)
 *
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Future } from "effect-futures"
 *
 * declare const futures: ReadonlyArray<Future.Future<string, Error>>
 * const program = Future.asCompleted(futures).pipe(
 *   Stream.mapEffect(Future.exit),
 *   Stream.runForEach((exit) => Effect.log(exit))
 * )
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const asCompleted: {
  (
    options?: AsCompletedOptions
  ): <A, E>(futures: Iterable<Future<A, E>>) => Stream.Stream<Future<A, E>, Cause.TimeoutError>
  <A, E>(futures: Iterable<Future<A, E>>, options?: AsCompletedOptions): Stream.Stream<Future<A, E>, Cause.TimeoutError>
} = dual((args) => isIterable(args[0]), wait_.asCompleted)
