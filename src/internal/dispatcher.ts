// The dispatcher: the library's only queue, state machine, shutdown path,
// broken state and metrics hooks. Every executor is a dispatcher plus a
// `SlotDriver`; they differ only in how a slot runs a task (a fiber for the
// I/O executor, a worker thread for the CPU executor). A driver reports back
// through the one `SlotHost` the dispatcher hands it; the dispatcher's record
// of a task is a `Work` node, which the executor extends with its job.
//
//   submit ──▶ admit ──┬─ a slot has room and the queue is empty ──▶ dispatch ──▶ driver.run(slot, work)
//                      ├─ queue has room ──▶ queue (FIFO, intrusive list) ──▶ pump ──▶ dispatch
//                      └─ queue full ──▶ whenFull "fail": QueueFullError
//                                        whenFull "suspend": room waiter (FIFO) ──▶ queue when room frees
//
//   driver reports ──▶ host.complete(slot, work, exit): bookkeeping first, then pump, then settle the future
//                      host.ready / startFailed (a slot started or could not), host.lost (a slot died),
//                      host.requeue (a dead slot's tasks it never started), host.breakWith
//
// Invariants:
// - a future is in at most one place: the room-waiter list (not yet submitted),
//   the queue (PENDING), or a slot (RUNNING); then it is settled exactly once.
// - when a slot has spare capacity, the queue is empty (pump restores it after
//   every change), so the hot path never scans slots; except while a retiring
//   slot runs its last tasks: at most maxWorkers × capacity tasks run at once.
// - counters: submitted = succeeded + failed + cancelled + running + queued.
// - bookkeeping happens before a future settles, because settling resumes its
//   awaiters synchronously and they may submit again.
// - idle (nothing running, nothing queued) is observed only when no host call
//   is under way: settling one task can start and finish a queued synchronous
//   one inside the same call, before the outer task's future has settled.
// - when the executor breaks, every queued future fails with its own
//   BrokenExecutorError (carrying the cause); running tasks go on.
import * as Cause from "effect/Cause"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import { BrokenExecutorError, ExecutorShutdownError, QueueFullError, type SubmitError } from "../ExecutorError.ts"
import * as future_ from "./future.ts"
import { FutureImpl } from "./future.ts"
import * as metrics_ from "./metrics.ts"
import type { Recorder } from "./metrics.ts"
import { LinkedList, type Node } from "./queue.ts"

/**
 * A unit of execution capacity: a fiber slot or a worker thread. A slot kind
 * extends it with what it needs (its worker, its running fiber).
 * @internal
 */
export interface Slot {
  readonly id: number
  /** Tasks running on this slot now. */
  active: number
  /** Tasks dispatched to this slot over its life. */
  dispatched: number
  /** No new tasks; closed once `active` reaches 0. */
  retiring: boolean
  /** Whether the slot is in the available stack. */
  available: boolean
  /** Whether the slot is closed or closing. */
  closed: boolean
  /** Cancels the idle-retirement timer, while one runs. */
  idleCancel: (() => void) | undefined
}

/**
 * Creates a fresh slot record for drivers.
 * @internal
 */
export const makeSlot = (id: number): Slot => ({
  id,
  active: 0,
  dispatched: 0,
  retiring: false,
  available: false,
  closed: false,
  idleCancel: undefined
})

/** What a work node cancels itself through (the dispatcher). */
interface Canceller<S extends Slot> {
  cancel(work: Work<S>): Effect.Effect<boolean>
}

/**
 * The dispatcher's record of one submitted task: the queue links, the slot
 * that runs it, its timings and its running-time limit. It owns the task's
 * future (and is its `Owner`: cancelling the future cancels the work). Each
 * executor extends it with its job (an effect and its context, a task and
 * its encoded payload), so a slot reads typed fields, never casts.
 * @internal
 */
export class Work<S extends Slot> implements future_.Owner, Node<Work<S>> {
  prev: this | undefined = undefined
  next: this | undefined = undefined
  /** The slot running it (set at dispatch). */
  slot: S | undefined = undefined
  /** When metrics or tracing are on (Clock millis): admission time, then start time. */
  t = 0
  /** Milliseconds spent in the queue, set at dispatch when metrics or tracing are on. */
  waited = 0
  readonly future: FutureImpl<any, any>
  private readonly canceller: Canceller<S>
  /** The running-time limit in milliseconds (-1: none). */
  readonly timeout: number

  constructor(canceller: Canceller<S>, timeout: number) {
    this.canceller = canceller
    this.timeout = timeout
    this.future = new FutureImpl(this)
  }

  cancel(): Effect.Effect<boolean> {
    return this.canceller.cancel(this)
  }

  /** A slot starts what it is handed at once, unless its kind says otherwise. */
  started(): boolean {
    return true
  }
}

/**
 * How a slot reports back to the dispatcher. The dispatcher hands one to the
 * slot kind when it creates the driver.
 * @internal
 */
export interface SlotHost<S extends Slot, W extends Work<S>> {
  /** The slot that `spawn(id)` started can run tasks now. */
  ready(id: number, slot: S): void
  /** The slot that `spawn(id)` started could not start: the executor breaks. */
  startFailed(id: number, reason: string, cause: unknown): void
  /** The outcome of a task the slot ran, exactly once per `run`. */
  complete(slot: S, work: W, exit: Exit.Exit<unknown, unknown>): void
  /**
   * The slot died holding tasks it never started: they go back to the head of
   * the queue, in this order, and run on another slot.
   */
  requeue(slot: S, works: ReadonlyArray<W>): void
  /** The slot died on its own; its tasks were reported with `complete` or `requeue`. */
  lost(slot: S): void
  /** Breaks the executor (a crash loop). */
  breakWith(reason: string, cause: unknown): void
}

/**
 * How one kind of slot is created, runs a task, stops a task, and is closed.
 * @internal
 */
export interface SlotDriver<S extends Slot, W extends Work<S>> {
  /** Tasks one slot holds at once (running, plus any sent ahead). */
  readonly capacity: number
  /**
   * Of `capacity`, the tasks a slot runs at once; the rest are sent ahead
   * (prefetch), which happens only when no slot is still starting.
   */
  readonly concurrency: number
  /**
   * Starts a slot; reports `host.ready(id, slot)` once it can run tasks
   * (possibly at once) or `host.startFailed(id, …)` if it cannot. Returns a
   * canceller, used when the executor is released while the slot is still
   * starting (then neither needs to be reported).
   */
  readonly spawn: (id: number) => (() => Effect.Effect<void>) | undefined
  /** Starts the work's task on the slot; reports its outcome with `host.complete`, exactly once. */
  readonly run: (slot: S, work: W) => void
  /** Stops the work's running task; completes once it has stopped and `host.complete` was called. */
  readonly interrupt: (slot: S, work: W) => Effect.Effect<void>
  /** Destroys a slot that runs no task. */
  readonly close: (slot: S) => Effect.Effect<void>
  /**
   * Takes back the oldest task sent ahead to this slot that it has not
   * started (and that can be sent elsewhere), reporting it with
   * `host.requeue`; false if there is none. Used when another slot is idle.
   */
  readonly retract?: ((slot: S) => boolean) | undefined
  /** Cancels the tasks on this slot it has not started (sent ahead): `shutdown({ cancelFutures })`. */
  readonly dropUnstarted?: ((slot: S) => void) | undefined
  /** Of the tasks on this slot, those it has not started (sent ahead); counted as running otherwise. */
  readonly unstarted?: ((slot: S) => number) | undefined
  /** The task this slot runs in `fiber`, if any (so `shutdown` called from a task does not wait for itself). */
  readonly runningIn?: ((slot: S, fiber: Fiber.Fiber<unknown, unknown>) => W | undefined) | undefined
}

/**
 * A slot kind: builds its driver around the host it reports to.
 * @internal
 */
export type SlotKind<S extends Slot, W extends Work<S>> = (host: SlotHost<S, W>) => SlotDriver<S, W>

/** @internal */
export interface Options {
  readonly name: string
  readonly maxWorkers: number
  readonly maxQueue: number
  readonly whenFull: "suspend" | "fail"
  /** Recycle a slot after this many tasks (0 = never). */
  readonly maxTasksPerSlot: number
  /** Slots started at once and kept. */
  readonly minWorkers: number
  /** Slots above `minWorkers` idle this long are closed (-1: never). */
  readonly idleTimeoutMs: number
  /** Runs an effect in the background, in the executor's context (slot closes). */
  readonly fork: (effect: Effect.Effect<void>) => Fiber.Fiber<void>
  /** Runs `f` after `millis` (on the executor's Clock); returns a canceller. */
  readonly schedule: ((millis: number, f: () => void) => () => void) | undefined
  /** Record the `ExecutorMetrics` in this context's registry (undefined: metrics off). */
  readonly metricsContext: Context.Context<never> | undefined
  /** Set when metrics or tracing need task timings. */
  readonly clock: { currentTimeMillisUnsafe(): number } | undefined
}

/** @internal */
export interface Stats {
  readonly maxWorkers: number
  readonly workers: number
  readonly running: number
  readonly prefetched: number
  readonly queued: number
  readonly submitted: number
  readonly succeeded: number
  readonly failed: number
  readonly cancelled: number
}

/** A submitter suspended on a full queue (`whenFull: "suspend"`). */
class RoomWaiter<W> implements Node<RoomWaiter<W>> {
  prev: RoomWaiter<W> | undefined = undefined
  next: RoomWaiter<W> | undefined = undefined
  /** Taken into the queue: from here the submitter holds the future. */
  admitted = false
  readonly work: W
  readonly resume: (effect: Effect.Effect<void, SubmitError>) => void
  constructor(work: W, resume: (effect: Effect.Effect<void, SubmitError>) => void) {
    this.work = work
    this.resume = resume
  }
}

/** A fiber in `shutdown({ wait: true })`, and the task it runs in when it is one of ours. */
interface IdleWaiter<W> {
  readonly own: W | undefined
  readonly wake: () => void
}

/** @internal */
export class Dispatcher<S extends Slot, W extends Work<S>> implements SlotHost<S, W>, Canceller<S> {
  readonly options: Options
  readonly driver: SlotDriver<S, W>
  readonly recorder: Recorder | undefined
  private readonly clock: { currentTimeMillisUnsafe(): number } | undefined

  /** The queue (FIFO). */
  private readonly queue = new LinkedList<W>()
  /** Submitters waiting for room (whenFull: "suspend"), FIFO. */
  private readonly waiters = new LinkedList<RoomWaiter<W>>()

  // slots
  readonly slots = new Set<S>()
  // Slots with room, filed by how many tasks they run (levels[n] holds slots
  // running n): dispatch takes the least loaded, so an idle worker is used
  // before a busy one is sent a task ahead. One level when capacity is 1.
  private readonly levels: Array<Array<S>>
  private availableCount = 0
  /** Tasks slots run now or start at once: the sum over slots of min(active, concurrency). */
  private bodies = 0
  /** Slots starting: their ids, each until it reports ready or failed. */
  private readonly spawning = new Set<number>()
  /** Slots in `slots` that take no new tasks (recycling after maxTasksPerSlot). */
  private retiringSlots = 0
  private nextSlotId = 1
  private readonly spawnCancellers = new Map<number, () => Effect.Effect<void>>()
  /** Slot closes under way; each removes itself when done. */
  private readonly closing = new Set<Fiber.Fiber<void>>()

  /** Fibers in shutdown({ wait: true }) waiting for running + queued to reach 0. */
  private idleWaiters: Array<IdleWaiter<W>> = []
  /** Host calls under way (they nest): idle is observed only at depth 0. */
  private depth = 0

  isShutdown = false
  broken: BrokenExecutorError | undefined = undefined

  running = 0
  /** Slots closed after maxTasksPerSlot tasks. */
  recycled = 0
  submitted = 0
  succeeded = 0
  failed = 0
  cancelled = 0

  constructor(options: Options, kind: SlotKind<S, W>) {
    if (!Number.isInteger(options.maxWorkers) || options.maxWorkers < 1)
      throw new Error("maxWorkers must be an integer >= 1")
    this.options = options
    this.driver = kind(this)
    // invariants the options validation must already have ensured
    const driver = this.driver
    if (!Number.isInteger(driver.capacity) || driver.capacity < 1)
      throw new Error("slot capacity must be an integer >= 1")
    if (!Number.isInteger(driver.concurrency) || driver.concurrency < 1 || driver.concurrency > driver.capacity)
      throw new Error("slot concurrency must be an integer in [1, capacity]")
    this.levels = Array.from({ length: driver.capacity }, () => [])
    this.recorder =
      options.metricsContext === undefined ? undefined : metrics_.make(options.name, options.metricsContext, this)
    this.clock = options.clock
  }

  get queued(): number {
    return this.queue.size
  }

  /** Starts the `minWorkers` slots. */
  start(): void {
    for (let i = 0; i < this.options.minWorkers; i++) this.spawnSlot()
  }

  // -------------------------------------------------------------------------
  // submit
  // -------------------------------------------------------------------------

  /**
   * Admits a work: dispatches it, queues it, or (queue full) fails or
   * suspends the caller until there is room. The common outcomes return an
   * `Exit` (no allocation beyond it): success with `value`, or the failure.
   */
  submit<A>(work: W, value: A): Effect.Effect<A, SubmitError> {
    const error = this.rejection()
    if (error !== undefined) return Exit.fail(error)
    const slot = this.availableCount > 0 ? this.pickSlot() : undefined
    if (slot !== undefined && (slot.active < this.driver.concurrency || this.hasRoom())) {
      // admitted and started in one step: one clock read, no time queued
      this.submitted++
      this.dispatch(slot, work, this.clock === undefined ? 0 : this.clock.currentTimeMillisUnsafe())
      return Exit.succeed(value)
    }
    if (this.hasRoom()) {
      this.accept(work)
      this.queue.push(work)
      this.maybeSpawn()
      return Exit.succeed(value)
    }
    if (this.options.whenFull === "fail") {
      return Exit.fail(new QueueFullError({ executor: this.options.name, capacity: this.options.maxQueue }))
    }
    return this.waitForRoom(work, value)
  }

  private rejection(): SubmitError | undefined {
    if (this.broken !== undefined) return this.broken
    if (this.isShutdown) return new ExecutorShutdownError({ executor: this.options.name })
    return undefined
  }

  private accept(work: W): void {
    if (this.clock !== undefined) work.t = this.clock.currentTimeMillisUnsafe()
    this.submitted++
  }

  /**
   * Admits a work that has already failed (its payload could not be
   * encoded): it counts as submitted and failed, and never reaches a slot.
   */
  failFast<A>(work: W, exit: Exit.Exit<never, unknown>, value: A): Effect.Effect<A, SubmitError> {
    const error = this.rejection()
    if (error !== undefined) return Exit.fail(error)
    this.accept(work)
    this.settleUnstarted(work, exit, future_.FAILED)
    this.checkIdle()
    return Exit.succeed(value)
  }

  /**
   * Whether another task may wait. Waiting tasks are those in the queue and
   * those sent ahead to a slot that has not started them (prefetch only moves
   * where a task waits, never how many may). Jobs that a slot still starting,
   * or one the pool may still start, will take do not count against maxQueue
   * (so `maxQueue: 0` still admits a job while the pool is below maxWorkers).
   */
  private hasRoom(): boolean {
    const startable = this.broken === undefined ? Math.max(0, this.options.maxWorkers - this.liveSlots()) : 0
    const waiting = this.queue.size + this.running - this.bodies
    const concurrency = this.driver.concurrency
    // what new slots will start at once, as far as the running limit allows
    const takes = Math.min(
      (this.spawning.size + startable) * concurrency,
      Math.max(0, this.options.maxWorkers * concurrency - this.bodies)
    )
    return waiting - takes < this.options.maxQueue
  }

  /** A slot for a task that is not yet waiting: one that starts it at once, or (room permitting) sends it ahead. */
  private slotForNew(): S | undefined {
    const slot = this.pickSlot()
    return slot !== undefined && (slot.active < this.driver.concurrency || this.hasRoom()) ? slot : undefined
  }

  /**
   * Suspends the submitter until there is room. Admission is atomic with
   * respect to interruption up to the point this effect returns the future:
   * a submitter interrupted while it waits leaves the list at once (it holds
   * nothing there); one interrupted after it was let in, before this effect
   * returned, cancels the work it would never hold (still queued then, so it
   * never starts). As with any effect that returns a resource, a caller that
   * is interruptible after `submit` returns holds the future from there on.
   */
  private waitForRoom<A>(work: W, value: A): Effect.Effect<A, SubmitError> {
    let waiter: RoomWaiter<W> | undefined
    const wait = Effect.callback<void, SubmitError>((resume) => {
      waiter = new RoomWaiter(work, resume)
      this.waiters.push(waiter)
      this.maybeSpawn()
      return Effect.sync(() => {
        this.waiters.remove(waiter!)
      })
    })
    return Effect.onExit(Effect.as(wait, value), (exit) =>
      Exit.isFailure(exit) && waiter?.admitted === true && Cause.hasInterrupts(exit.cause)
        ? Effect.asVoid(this.cancel(work))
        : Effect.void
    )
  }

  /** Moves waiters into the queue while there is room. */
  private admitWaiters(): void {
    while (this.waiters.head !== undefined && (this.hasRoom() || this.slotForNew() !== undefined)) {
      const waiter = this.waiters.shift()!
      waiter.admitted = true
      this.accept(waiter.work)
      this.queue.push(waiter.work)
      // resumed before the work can start: if its fiber is interrupted right
      // here, it cancels the work while it is still queued
      waiter.resume(Effect.void)
      this.drainQueue()
    }
    // a waiter admitted for a slot the pool may still start: start it
    this.maybeSpawn()
  }

  private rejectWaiters(error: SubmitError): void {
    for (const waiter of this.waiters.drain()) waiter.resume(Effect.fail(error))
  }

  /** Waiters in the list (for tests: an interrupted submitter leaves at once). */
  get waiting(): number {
    return this.waiters.size
  }

  // -------------------------------------------------------------------------
  // queue
  // -------------------------------------------------------------------------

  /** Hands queued works to slots with room, then admits room waiters. */
  private pump(): void {
    this.drainQueue()
    if (this.waiters.head !== undefined) this.admitWaiters()
  }

  private drainQueue(): void {
    while (this.queue.head !== undefined && this.availableCount > 0) {
      const slot = this.pickSlot()
      if (slot === undefined) return
      this.dispatch(slot, this.queue.shift()!)
    }
  }

  // -------------------------------------------------------------------------
  // slots
  // -------------------------------------------------------------------------

  /** Starts a work on a slot; `admittedAt` is when it was admitted, when it was this very step (else its `t`). */
  private dispatch(slot: S, work: W, admittedAt = -1): void {
    if (slot.idleCancel !== undefined) {
      slot.idleCancel()
      slot.idleCancel = undefined
    }
    future_.markRunning(work.future)
    work.slot = slot
    this.running++
    this.removeAvailable(slot) // filed by its load, which changes now
    if (slot.active++ < this.driver.concurrency) this.bodies++
    slot.dispatched++
    const limit = this.options.maxTasksPerSlot
    if (limit > 0 && slot.dispatched >= limit) {
      slot.retiring = true
      this.retiringSlots++
      // the replacement starts while the last task runs (if work waits, or to keep minWorkers warm)
      this.maybeSpawn()
      this.keepWarm()
    } else {
      this.addAvailable(slot)
    }
    if (this.clock !== undefined) {
      if (admittedAt >= 0) {
        work.t = admittedAt
      } else {
        const now = this.clock.currentTimeMillisUnsafe()
        work.waited = now - work.t
        work.t = now
      }
      this.recorder?.started(work.waited)
    }
    this.driver.run(slot, work)
  }

  /**
   * The least loaded slot with room. A task is sent ahead to a slot that runs
   * its full concurrency only when no slot is still starting and the pool has
   * all its slots: a new one will take it sooner than the busy one. Never more than maxWorkers slots'
   * worth of tasks at once: a recycled slot's replacement, started while the
   * retiring slot runs its last tasks, takes over only as they end.
   */
  private pickSlot(): S | undefined {
    if (this.running >= this.options.maxWorkers * this.driver.capacity) return undefined
    // send ahead only to a pool that is complete: a slot still starting, or one
    // the pool may still start, will take the task sooner than a busy one
    const levels =
      this.spawning.size > 0 || this.liveSlots() < this.options.maxWorkers
        ? this.driver.concurrency
        : this.levels.length
    // a slot running fewer than `concurrency` tasks starts what it is given at
    // once: only while fewer than maxWorkers × concurrency tasks can be running
    // (a retiring slot's last tasks count); beyond that, only send ahead
    const concurrency = this.driver.concurrency
    for (let i = this.bodies < this.options.maxWorkers * concurrency ? 0 : concurrency; i < levels; i++) {
      const level = this.levels[i]
      if (level.length > 0) return level[level.length - 1]
    }
    return undefined
  }

  private removeAvailable(slot: S): void {
    if (!slot.available) return
    slot.available = false
    this.availableCount--
    const stack = this.levels[slot.active]
    // the slot is almost always on top of its stack
    if (stack[stack.length - 1] === slot) stack.pop()
    else {
      const i = stack.indexOf(slot)
      if (i >= 0) stack.splice(i, 1)
    }
  }

  private addAvailable(slot: S): void {
    if (slot.available || slot.retiring || slot.closed || slot.active >= this.driver.capacity) return
    slot.available = true
    this.availableCount++
    this.levels[slot.active].push(slot)
  }

  /** Slots that take tasks or will: started and not retiring, plus those starting. */
  private liveSlots(): number {
    return this.spawning.size + this.slots.size - this.retiringSlots
  }

  /** Starts a slot if work is waiting, no starting slot will take it, and the pool has room. */
  private maybeSpawn(): void {
    if (this.broken !== undefined) return
    const waiting = this.queue.size + (this.waiters.head !== undefined ? 1 : 0)
    if (waiting <= this.spawning.size * this.driver.concurrency) return
    if (this.liveSlots() >= this.options.maxWorkers) return
    this.spawnSlot()
  }

  private spawnSlot(): void {
    const id = this.nextSlotId++
    this.spawning.add(id)
    const cancel = this.driver.spawn(id)
    if (this.spawning.has(id) && cancel !== undefined) this.spawnCancellers.set(id, cancel)
  }

  /** Host: a slot started by `spawn(id)` is ready. */
  ready(id: number, slot: S): void {
    if (!this.spawning.delete(id)) return
    this.spawnCancellers.delete(id)
    this.slots.add(slot)
    if (this.broken !== undefined || (this.isShutdown && this.queue.size === 0)) {
      this.closeSlot(slot)
      return
    }
    this.addAvailable(slot)
    this.pump()
    if (this.queue.size === 0 && this.running > this.bodies) this.rebalance()
    this.maybeSpawn()
    this.watchIdle(slot)
  }

  /**
   * No task waits in the queue but some wait in a busy slot (sent ahead) while
   * a slot could start one now: take them back, so no task waits behind a
   * busy worker while another is free. The slot kind makes this exact (a task
   * it takes back is one the busy slot will never start).
   */
  private rebalance(): void {
    const retract = this.driver.retract
    if (retract === undefined) return
    const concurrency = this.driver.concurrency
    while (this.queue.size === 0 && this.running > this.bodies && this.bodies < this.options.maxWorkers * concurrency) {
      let idle = false
      for (let i = 0; i < concurrency && !idle; i++) idle = this.levels[i].length > 0
      if (!idle) return
      let from: S | undefined
      for (const slot of this.slots)
        if (slot.active > concurrency && (from === undefined || slot.active > from.active)) from = slot
      if (from === undefined || !retract(from)) return
    }
  }

  /** Host: a slot started by `spawn(id)` could not start. */
  startFailed(id: number, reason: string, cause: unknown): void {
    if (!this.spawning.delete(id)) return
    this.spawnCancellers.delete(id)
    this.breakWith(reason, cause)
  }

  /** Starts the idle-retirement timer of a slot that runs nothing, when the pool is above minWorkers. */
  private watchIdle(slot: S): void {
    const schedule = this.options.schedule
    if (schedule === undefined || this.options.idleTimeoutMs < 0 || slot.active > 0 || slot.closed) return
    if (slot.idleCancel !== undefined || this.liveSlots() <= this.options.minWorkers) return
    slot.idleCancel = schedule(this.options.idleTimeoutMs, () => {
      slot.idleCancel = undefined
      // (an idle slot may face a queue while a retiring slot finishes: it is needed)
      if (slot.active === 0 && !slot.closed && this.queue.size === 0 && this.liveSlots() > this.options.minWorkers) {
        this.closeSlot(slot)
      }
    })
  }

  /** Takes a slot out of the pool; false if it was out already. */
  private detach(slot: S): boolean {
    if (slot.closed) return false
    if (slot.idleCancel !== undefined) {
      slot.idleCancel()
      slot.idleCancel = undefined
    }
    slot.closed = true
    this.removeAvailable(slot)
    if (this.slots.delete(slot) && slot.retiring) this.retiringSlots--
    return true
  }

  private closeSlot(slot: S): void {
    if (!this.detach(slot)) return
    // start closing now: a retired or recycled worker must not live on until release
    const fiber = this.options.fork(this.driver.close(slot))
    this.closing.add(fiber)
    fiber.addObserver(() => this.closing.delete(fiber))
  }

  /** Host: a slot died on its own (a crashed worker). */
  lost(slot: S): void {
    if (!this.detach(slot)) return
    this.maybeSpawn()
    this.keepWarm()
  }

  /** Host: a dead slot's tasks it never started go back to the head of the queue, in their order. */
  requeue(slot: S, works: ReadonlyArray<W>): void {
    this.depth++
    try {
      for (let i = works.length - 1; i >= 0; i--) {
        const work = works[i]
        if (work.future.state !== future_.RUNNING || work.slot !== slot) continue
        this.running--
        this.removeAvailable(slot) // filed by its load, which changes now
        if (slot.active-- <= this.driver.concurrency) this.bodies--
        work.slot = undefined
        future_.markPending(work.future)
        if (this.broken !== undefined) {
          this.settleUnstarted(work, Exit.fail(this.brokenError()), future_.FAILED)
          continue
        }
        this.queue.unshift(work)
      }
      // a live slot gives back what it never started (taken back for an idle slot): refile it
      if (!slot.closed) this.addAvailable(slot)
      this.pump()
      this.maybeSpawn()
    } finally {
      this.depth--
    }
    this.checkIdle()
  }

  /** Keeps the warm pool warm: starts the replacement of a crashed or recycled slot below minWorkers. */
  private keepWarm(): void {
    if (!this.isShutdown && this.broken === undefined && this.liveSlots() < this.options.minWorkers) this.spawnSlot()
  }

  // -------------------------------------------------------------------------
  // completion
  // -------------------------------------------------------------------------

  /** Host: the outcome of a task a slot ran. */
  complete(slot: S, work: W, exit: Exit.Exit<unknown, unknown>): void {
    if (work.future.state !== future_.RUNNING || work.slot !== slot) return
    this.depth++
    try {
      this.running--
      this.removeAvailable(slot) // filed by its load, which changes now
      if (slot.active-- <= this.driver.concurrency) this.bodies--
      const outcome = future_.classify(exit)
      this.count(outcome)
      if (slot.retiring) {
        if (slot.active === 0 && !slot.closed) {
          this.recycled++
          this.closeSlot(slot)
        }
      } else if (!slot.closed) {
        this.addAvailable(slot)
      }
      this.pump()
      if (this.queue.size === 0 && this.running > this.bodies) this.rebalance()
      this.watchIdle(slot)
      if (this.recorder !== undefined) this.recorder.settled(this.clock!.currentTimeMillisUnsafe() - work.t)
      future_.settle(work.future, exit, outcome)
    } finally {
      this.depth--
    }
    this.checkIdle()
  }

  private count(outcome: number): void {
    if (outcome === future_.SUCCEEDED) this.succeeded++
    else if (outcome === future_.FAILED) this.failed++
    else this.cancelled++
  }

  /** Settles a work that never reached a slot (cancelled or failed in the queue, or failed at submit). */
  private settleUnstarted(work: W, exit: Exit.Exit<never, unknown>, outcome: number): void {
    this.count(outcome)
    this.recorder?.settled(-1)
    future_.settle(work.future, exit, outcome)
  }

  // -------------------------------------------------------------------------
  // cancel
  // -------------------------------------------------------------------------

  cancel(work: W): Effect.Effect<boolean> {
    return Effect.suspend(() => {
      const future = work.future
      if (future.state === future_.PENDING && this.queue.remove(work)) {
        this.depth++
        try {
          this.pump()
          this.settleUnstarted(work, future_.cancelledExit, future_.CANCELLED)
        } finally {
          this.depth--
        }
        this.checkIdle()
        return Effect.succeed(true)
      }
      if (future.state === future_.RUNNING) {
        return Effect.map(this.driver.interrupt(work.slot!, work), () => future.state === future_.CANCELLED)
      }
      return Effect.succeed(future.state === future_.CANCELLED)
    })
  }

  // -------------------------------------------------------------------------
  // broken, shutdown
  // -------------------------------------------------------------------------

  /** A fresh `BrokenExecutorError` like the one the executor broke with: each future fails with its own. */
  private brokenError(): BrokenExecutorError {
    const broken = this.broken!
    return new BrokenExecutorError({ executor: broken.executor, reason: broken.reason, cause: broken.cause })
  }

  /** Host: breaks the executor. Queued and later submissions fail; running tasks go on. */
  breakWith(reason: string, cause: unknown): void {
    if (this.broken !== undefined) return
    this.broken = new BrokenExecutorError({ executor: this.options.name, reason, cause })
    this.depth++
    try {
      this.rejectWaiters(this.broken)
      for (let work = this.queue.shift(); work !== undefined; work = this.queue.shift()) {
        this.settleUnstarted(work, Exit.fail(this.brokenError()), future_.FAILED)
      }
      for (const slot of this.levels[0].slice()) this.closeSlot(slot) // idle ones; busy ones close when done
    } finally {
      this.depth--
    }
    this.checkIdle()
  }

  /** Stops accepting work; optionally cancels queued futures. Idempotent. */
  shutdownNow(cancelFutures: boolean): void {
    this.depth++
    try {
      if (!this.isShutdown) {
        this.isShutdown = true
        this.rejectWaiters(new ExecutorShutdownError({ executor: this.options.name }))
      }
      if (cancelFutures) {
        for (let work = this.queue.shift(); work !== undefined; work = this.queue.shift()) {
          this.settleUnstarted(work, future_.cancelledExit, future_.CANCELLED)
        }
        // and those sent ahead to a slot that has not started them
        const drop = this.driver.dropUnstarted
        if (drop !== undefined) for (const slot of Array.from(this.slots)) if (slot.active > 0) drop(slot)
      }
    } finally {
      this.depth--
    }
    this.checkIdle()
  }

  /**
   * Nothing queued, and nothing running but the caller's own task (`own`,
   * when `shutdown` is called from inside one), with no host call under way.
   */
  private isIdle(own: W | undefined): boolean {
    if (this.depth > 0 || this.queue.size > 0) return false
    return this.running === 0 || (this.running === 1 && own !== undefined && own.future.state === future_.RUNNING)
  }

  private checkIdle(): void {
    if (this.depth > 0 || this.queue.size > 0 || this.running > 1) return
    if (this.running === 0 && (this.isShutdown || this.broken !== undefined)) {
      for (const slot of this.slots) if (slot.active === 0) this.closeSlot(slot)
    }
    if (this.idleWaiters.length === 0) return
    const waiters = this.idleWaiters
    this.idleWaiters = []
    for (const waiter of waiters) {
      if (this.isIdle(waiter.own)) waiter.wake()
      else this.idleWaiters.push(waiter)
    }
  }

  /** The work whose task runs in `fiber`, when `fiber` runs one of this executor's tasks. */
  private ownWork(fiber: Fiber.Fiber<unknown, unknown>): W | undefined {
    const runningIn = this.driver.runningIn
    if (runningIn === undefined || this.running === 0) return undefined
    for (const slot of this.slots) {
      if (slot.active === 0) continue
      const work = runningIn(slot, fiber)
      if (work !== undefined) return work
    }
    return undefined
  }

  /**
   * Waits until nothing runs and nothing is queued. Called from inside one of
   * this executor's tasks, it waits for every other task, not for itself.
   */
  awaitIdle(): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.driver.runningIn === undefined || this.running === 0) return this.waitIdle(undefined)
      // after one yield the calling task (if it is one) is known by its fiber:
      // a task that runs synchronously from its start has none until it suspends
      return Effect.andThen(
        Effect.yieldNow,
        Effect.withFiber((fiber) => this.waitIdle(this.ownWork(fiber)))
      )
    })
  }

  private waitIdle(own: W | undefined): Effect.Effect<void> {
    return Effect.callback<void>((resume) => {
      if (this.isIdle(own)) return resume(Effect.void)
      const waiter: IdleWaiter<W> = { own, wake: () => resume(Effect.void) }
      this.idleWaiters.push(waiter)
      return Effect.sync(() => {
        const i = this.idleWaiters.indexOf(waiter)
        if (i >= 0) this.idleWaiters.splice(i, 1)
      })
    })
  }

  /** Closes every slot (and stops slots still starting); waits until they are gone. */
  closeAll(): Effect.Effect<void> {
    return Effect.suspend(() => {
      for (const slot of this.slots) this.closeSlot(slot)
      const cancellers = Array.from(this.spawnCancellers.values(), (cancel) => cancel())
      // a slot stopped while starting reports nothing: it no longer counts as starting
      for (const id of this.spawnCancellers.keys()) this.spawning.delete(id)
      this.spawnCancellers.clear()
      const closing = Array.from(this.closing, (fiber) => Effect.asVoid(Fiber.await(fiber)))
      return Effect.all([...cancellers, ...closing], { concurrency: "unbounded", discard: true })
    })
  }

  stats(): Stats {
    let prefetched = 0
    const unstarted = this.driver.unstarted
    if (unstarted !== undefined) for (const slot of this.slots) if (slot.active > 0) prefetched += unstarted(slot)
    return {
      maxWorkers: this.options.maxWorkers,
      workers: this.slots.size,
      running: this.running - prefetched,
      prefetched,
      queued: this.queue.size,
      submitted: this.submitted,
      succeeded: this.succeeded,
      failed: this.failed,
      cancelled: this.cancelled
    }
  }
}
