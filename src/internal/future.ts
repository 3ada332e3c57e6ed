// The future's state machine. This is the only code that changes a future's
// state; executors drive it through `markRunning`, `settle` and the `Owner`
// hooks.
//
//   PENDING ──markRunning──▶ RUNNING ──settle──▶ SUCCEEDED | FAILED | CANCELLED
//      ▲ └──────────────────────settle (cancel) ───────────▲
//      └──markPending (its worker died before starting it)─┘ (RUNNING → PENDING)
//
// Settling is synchronous and happens exactly once. It stores the exit, resumes
// the `Deferred` awaiters (created lazily: a future nobody awaits before it
// settles never allocates one), then notifies internal observers (`wait`,
// `asCompleted`) and finally runs the user's done-callbacks in one fiber, in
// registration order.
import * as Cause from "effect/Cause"
import type * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { pipeArguments } from "effect/Pipeable"
import { CancelledError } from "../ExecutorError.ts"
import type { Future } from "../Future.ts"

/** @internal */
export const TypeId = "~effect-futures/Future" as const

/** @internal */
export const PENDING = 0
/** @internal */
export const RUNNING = 1
/** @internal */
export const SUCCEEDED = 2
/** @internal */
export const FAILED = 3
/** @internal */
export const CANCELLED = 4

/** @internal */
export const stateNames = ["pending", "running", "succeeded", "failed", "cancelled"] as const

/** @internal */
export type StateName = (typeof stateNames)[number]

/**
 * What a future needs from the executor that owns it: a way to cancel it (the
 * owner is the dispatcher's record of the task). Standalone futures (no
 * owner) are cancelled by settling them directly.
 * @internal
 */
export interface Owner {
  cancel(): Effect.Effect<boolean>
  /**
   * Whether a task handed to its slot has started (a CPU task sent ahead to
   * a worker has not): until it has, the future reads as `pending`.
   */
  started?(): boolean
}

/** @internal */
export type Observer = (future: FutureImpl<any, any>) => void

interface DoneCallback {
  readonly f: (future: any) => Effect.Effect<void, unknown, never>
  readonly context: Context.Context<never>
}

let nextId = 1

/**
 * A future: its state, its outcome once settled, and who waits for it. What
 * an executor needs to run the task (the job, queue links, the slot) lives in
 * the executor's own record of the task, the future's `owner`.
 * @internal
 */
export class FutureImpl<A, E> implements Future<A, E> {
  declare readonly [TypeId]: Future<A, E>[typeof TypeId]
  readonly id: number
  state: number = PENDING
  exit: Exit.Exit<A, E | CancelledError> | undefined = undefined
  deferred: Deferred.Deferred<A, E | CancelledError> | undefined = undefined
  observers: Array<Observer> | undefined = undefined
  callbacks: Array<DoneCallback> | undefined = undefined
  owner: Owner | undefined

  constructor(owner: Owner | undefined) {
    this.id = nextId++
    this.owner = owner
  }

  pipe() {
    // biome-ignore lint/complexity/noArguments: Pipeable's variadic protocol, as in effect's own data types
    return pipeArguments(this, arguments)
  }

  toJSON() {
    return { _id: "Future", id: this.id, state: stateNames[this.state] }
  }

  toString() {
    return `Future(${this.id}, ${stateNames[this.state]})`
  }
}

const variance = { _A: (a: never) => a, _E: (e: never) => e }
;(FutureImpl.prototype as any)[TypeId] = variance

/** @internal */
export const makeUnsafe = <A, E>(owner?: Owner): FutureImpl<A, E> => new FutureImpl<A, E>(owner)

/**
 * The implementation behind a public `Future` (every future is one).
 * @internal
 */
export const impl = <A, E>(self: Future<A, E>): FutureImpl<A, E> => self as FutureImpl<A, E>

/** @internal */
export const isDoneUnsafe = <A, E>(self: Future<A, E>): boolean => impl(self).state >= SUCCEEDED

/**
 * Moves a pending future to running. Returns false when it is no longer pending.
 * @internal
 */
export const markRunning = (self: FutureImpl<any, any>): boolean => {
  if (self.state !== PENDING) return false
  self.state = RUNNING
  return true
}

/**
 * Moves a running future back to pending: its slot died before starting it.
 * @internal
 */
export const markPending = (self: FutureImpl<any, any>): void => {
  self.state = PENDING
}

/**
 * Settles the future with the exit of its task, exactly once.
 *
 * An exit whose cause holds only interruptions means the task was cancelled
 * (by `cancel`, or it interrupted itself): the future ends `cancelled` and
 * fails with `CancelledError`. A failure that also carries interruptions keeps
 * its failures and defects only, so an awaiter never inherits an interruption
 * that was not its own.
 *
 * @internal
 */
export const settle = <A, E>(
  self: FutureImpl<A, E>,
  exit: Exit.Exit<A, E>,
  /** `classify(exit)`, when the caller has it already. */
  state: number = classify(exit)
): boolean => {
  if (self.state >= SUCCEEDED) return false
  self.state = state
  const final: Exit.Exit<A, E | CancelledError> =
    state === SUCCEEDED
      ? exit
      : state === CANCELLED
        ? Exit.fail(new CancelledError({ futureId: self.id }))
        : Cause.hasInterrupts((exit as Exit.Failure<A, E>).cause)
          ? Exit.failCause(
              Cause.fromReasons((exit as Exit.Failure<A, E>).cause.reasons.filter((r) => !Cause.isInterruptReason(r)))
            )
          : exit
  self.exit = final
  self.owner = undefined
  if (self.deferred !== undefined) Deferred.doneUnsafe(self.deferred, final)
  const observers = self.observers
  if (observers !== undefined) {
    self.observers = undefined
    for (let i = 0; i < observers.length; i++) observers[i](self)
  }
  const callbacks = self.callbacks
  if (callbacks !== undefined) {
    self.callbacks = undefined
    Effect.runForkWith(callbacks[0].context)(runCallbacks(self, callbacks))
  }
  return true
}

/**
 * The state a task's exit settles its future in.
 * @internal
 */
export const classify = (exit: Exit.Exit<unknown, unknown>): number =>
  Exit.isSuccess(exit)
    ? SUCCEEDED
    : Cause.hasInterruptsOnly(exit.cause) || exit.cause.reasons.length === 0
      ? CANCELLED
      : FAILED

/** @internal */
export const cancelledExit: Exit.Exit<never> = Exit.interrupt()

/** @internal */
export const await_ = <A, E>(future: Future<A, E>): Effect.Effect<A, E | CancelledError> => {
  const self = impl(future)
  // a settled future's exit never changes, so it can be returned as is
  return self.exit !== undefined
    ? self.exit
    : Effect.suspend(() => {
        if (self.exit !== undefined) return self.exit
        self.deferred ??= Deferred.makeUnsafe()
        return Deferred.await(self.deferred)
      })
}

/** @internal */
export const exit = <A, E>(self: Future<A, E>): Effect.Effect<Exit.Exit<A, E | CancelledError>> =>
  Effect.exit(await_(self))

/**
 * The state a user sees: a task handed to a slot that has not started it yet
 * (sent ahead to a worker) is still `pending`.
 * @internal
 */
export const stateName = <A, E>(self: Future<A, E>): StateName => stateNames[observedState(impl(self))]

/** @internal */
export const observedState = (self: FutureImpl<any, any>): number =>
  self.state === RUNNING && self.owner?.started?.() === false ? PENDING : self.state

/** @internal */
export const cancel = <A, E>(future: Future<A, E>): Effect.Effect<boolean> =>
  Effect.suspend(() => {
    const self = impl(future)
    switch (self.state) {
      case SUCCEEDED:
      case FAILED:
        return Effect.succeed(false)
      case CANCELLED:
        return Effect.succeed(true)
    }
    if (self.owner !== undefined) return self.owner.cancel()
    settle(self, cancelledExit)
    return Effect.succeed(true)
  })

/**
 * Cancels every future: the ones still queued first, in one pass, so none of
 * them is handed to a slot that cancelling another one frees; then the ones
 * sent ahead to a worker that has not started them (dropped at once); then the
 * running ones concurrently, so their stops (a worker's grace period) overlap.
 * Results are in input order.
 * @internal
 */
export const cancelAll = <A, E>(futures: Iterable<Future<A, E>>): Effect.Effect<Array<boolean>> =>
  Effect.suspend(() => {
    const list = Array.from(futures, impl)
    const results = new Array<boolean>(list.length)
    const queued: Array<number> = []
    const sentAhead: Array<number> = []
    const started: Array<number> = []
    // the queued ones leave the queue first: dropping a task sent ahead frees
    // room on its worker, which one of them would otherwise take on the way
    // out (spending that worker's maxTasksPerWorker); then the ones sent ahead
    // are dropped, before any running task is stopped
    for (let i = 0; i < list.length; i++) {
      const f = list[i]
      ;(f.state === PENDING ? queued : observedState(f) === PENDING ? sentAhead : started).push(i)
    }
    const one = (i: number) =>
      Effect.map(cancel(list[i]), (cancelled) => {
        results[i] = cancelled
      })
    return Effect.forEach(queued, one, { discard: true }).pipe(
      Effect.andThen(Effect.forEach(sentAhead, one, { discard: true })),
      Effect.andThen(Effect.forEach(started, one, { concurrency: "unbounded", discard: true })),
      Effect.as(results)
    )
  })

/**
 * Registers a synchronous observer, called once when the future settles (at
 * once if it has). Returns a function that unregisters it.
 * @internal
 */
export const addObserver = (self: FutureImpl<any, any>, observer: Observer): (() => void) => {
  if (self.state >= SUCCEEDED) {
    observer(self)
    return noop
  }
  if (self.observers === undefined) self.observers = [observer]
  else self.observers.push(observer)
  return () => {
    const observers = self.observers
    if (observers === undefined) return
    const i = observers.indexOf(observer)
    if (i >= 0) observers.splice(i, 1)
  }
}

/** @internal */
export const addDoneCallback = <A, E>(
  future: Future<A, E>,
  f: (future: Future<A, E>) => Effect.Effect<void, unknown, never>
): Effect.Effect<void> =>
  Effect.withFiber((fiber) => {
    const self = impl(future)
    if (self.state >= SUCCEEDED) return guardCallback(self, f)
    const callback: DoneCallback = { f, context: fiber.context }
    if (self.callbacks === undefined) self.callbacks = [callback]
    else self.callbacks.push(callback)
    return Effect.void
  })

const runCallbacks = (self: FutureImpl<any, any>, callbacks: Array<DoneCallback>): Effect.Effect<void> =>
  Effect.forEach(callbacks, (cb) => Effect.provideContext(guardCallback(self, cb.f), cb.context), { discard: true })

const guardCallback = (
  self: FutureImpl<any, any>,
  f: (future: any) => Effect.Effect<void, unknown, never>
): Effect.Effect<void> =>
  Effect.suspend(() => f(self)).pipe(
    Effect.catchCause((cause) =>
      Effect.logError(`done callback of future ${self.id} failed`, cause).pipe(Effect.annotateLogs("future", self.id))
    )
  )

const noop = () => {}
