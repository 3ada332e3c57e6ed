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
import * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import { type CancelledError, InvalidOptionsError } from "./ExecutorError.ts"
import * as internal from "./internal/future.ts"
import { fromPullScoped } from "./internal/stream.ts"
import * as timeout_ from "./internal/timeout.ts"

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

const _await: <A, E>(self: Future<A, E>) => Effect.Effect<A, E | CancelledError> = internal.await_ as any

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
export const exit: <A, E>(self: Future<A, E>) => Effect.Effect<Exit.Exit<A, E | CancelledError>> = internal.exit as any

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
export const cancel: <A, E>(self: Future<A, E>) => Effect.Effect<boolean> = internal.cancel as any

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
export const cancelAll: <A, E>(futures: Iterable<Future<A, E>>) => Effect.Effect<Array<boolean>> =
  internal.cancelAll as any

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
export const state = <A, E>(self: Future<A, E>): Effect.Effect<State> =>
  Effect.sync(() => internal.stateNames[(self as any as internal.FutureImpl<A, E>).state])

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
export const stateUnsafe = <A, E>(self: Future<A, E>): State =>
  internal.stateNames[(self as any as internal.FutureImpl<A, E>).state]

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
  Effect.sync(() => internal.isDoneUnsafe(self as any))

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
  Effect.sync(() => (self as any as internal.FutureImpl<A, E>).state === internal.RUNNING)

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
  Effect.sync(() => (self as any as internal.FutureImpl<A, E>).state === internal.CANCELLED)

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
} = dual(2, (self: any, f: any) => internal.addDoneCallback(self, f))

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
} = dual(
  (args) => isIterable(args[0]),
  <A, E>(futures: Iterable<Future<A, E>>, options?: WaitOptions): Effect.Effect<DoneAndNotDone<A, E>> =>
    Effect.flatMap(timeout_.parseOrDie(options?.timeout, "timeout"), (millis) => {
      const fs = Array.from(new Set(futures)) as any as Array<internal.FutureImpl<A, E>>
      const returnWhen = options?.returnWhen ?? "ALL_COMPLETED"
      if (!returnWhens.includes(returnWhen)) {
        return Effect.die(
          new InvalidOptionsError({ option: "returnWhen", value: returnWhen, expected: returnWhens.join(" | ") })
        )
      }
      const partition = Effect.sync(() => partitionOf(fs))
      const waiting = Effect.callback<void>((resume) => {
        let remaining = fs.length
        let resumed = false
        const removers: Array<() => void> = []
        const onDone = (f: internal.FutureImpl<any, any>) => {
          remaining--
          if (resumed) return
          if (
            remaining === 0 ||
            returnWhen === "FIRST_COMPLETED" ||
            (returnWhen === "FIRST_EXCEPTION" && f.state === internal.FAILED)
          ) {
            resumed = true
            // returning early: stop observing the futures still running (an
            // observer left on a long-running future would pile up, one per wait)
            for (const remove of removers) remove()
            resume(Effect.void)
          }
        }
        if (remaining === 0) return resume(Effect.void)
        // addObserver calls back at once for futures already done
        for (let i = 0; i < fs.length && !resumed; i++) removers.push(internal.addObserver(fs[i], onDone))
        if (resumed) return
        return Effect.sync(() => {
          for (const remove of removers) remove()
        })
      })
      const bounded = millis < 0 ? waiting : Effect.timeoutOption(waiting, millis)
      return Effect.andThen(bounded, partition)
    })
)

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
} = dual(
  (args) => isIterable(args[0]),
  <A, E>(futures: Iterable<Future<A, E>>, options?: AsCompletedOptions) =>
    fromPullScoped<Future<A, E>, Cause.TimeoutError | Cause.Done, never, never, never>((scope) =>
      Effect.gen(function* () {
        const millis = yield* timeout_.parseOrDie(options?.timeout, "timeout")
        const fs = Array.from(new Set(futures)) as any as Array<internal.FutureImpl<A, E>>
        const start = yield* Effect.clockWith((clock) => Effect.succeed(clock.currentTimeMillisUnsafe()))
        let ready: Array<Future<A, E>> = []
        let remaining = fs.length
        let wake: (() => void) | undefined
        const onDone = (f: internal.FutureImpl<any, any>) => {
          ready.push(f as any)
          remaining--
          if (wake !== undefined) {
            const w = wake
            wake = undefined
            w()
          }
        }
        // the finalizer first: an interruption between registering the
        // observers and adding it would leave them on the futures
        let removers: Array<() => void> = []
        yield* Scope.addFinalizer(
          scope,
          Effect.sync(() => {
            for (const remove of removers) remove()
          })
        )
        // already-settled futures are pushed at once, in input order
        removers = fs.map((f) => internal.addObserver(f, onDone))
        const take = Effect.sync(() => {
          const out = ready
          ready = []
          return out as any as readonly [Future<A, E>, ...Array<Future<A, E>>]
        })
        const waitForOne = Effect.callback<void>((resume) => {
          if (ready.length > 0) return resume(Effect.void)
          wake = () => resume(Effect.void)
          return Effect.sync(() => {
            wake = undefined
          })
        })
        return Effect.suspend((): Effect.Effect<readonly [Future<A, E>, ...Array<Future<A, E>>], any> => {
          if (ready.length > 0) return take
          if (remaining === 0) return Cause.done()
          if (millis < 0) return Effect.andThen(waitForOne, take)
          return Effect.clockWith((clock) => {
            const left = Math.max(0, start + millis - clock.currentTimeMillisUnsafe())
            return Effect.andThen(Effect.timeout(waitForOne, left), take)
          })
        })
      })
    )
)

// ---------------------------------------------------------------------------
// internal
// ---------------------------------------------------------------------------

const returnWhens: ReadonlyArray<ReturnWhen> = ["FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED"]

const partitionOf = <A, E>(fs: ReadonlyArray<internal.FutureImpl<A, E>>): DoneAndNotDone<A, E> => {
  const done = new Set<Future<A, E>>()
  const notDone = new Set<Future<A, E>>()
  for (const f of fs) (f.state >= internal.SUCCEEDED ? done : notDone).add(f as any)
  return { done, notDone }
}
