// The dispatcher: the library's only queue, state machine, shutdown path,
// broken state and metrics hooks. Both executors are a dispatcher plus a
// `SlotDriver`; they differ only in how a slot runs a task (a fiber for the
// I/O executor, a worker thread for the CPU executor).
//
//   submit ──▶ admit ──┬─ a slot has room and the queue is empty ──▶ dispatch ──▶ driver.run(slot, future)
//                      ├─ queue has room ──▶ queue (FIFO, intrusive list) ──▶ pump ──▶ dispatch
//                      └─ queue full ──▶ whenFull "fail": QueueFullError
//                                        whenFull "suspend": room waiter (FIFO) ──▶ queue when room frees
//
//   driver reports ──▶ complete(slot, future, exit): bookkeeping first, then pump, then settle the future
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
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import { BrokenExecutorError, ExecutorShutdownError, QueueFullError, type SubmitError } from "../ExecutorError.ts"
import * as future_ from "./future.ts"
import type { FutureImpl } from "./future.ts"
import * as metrics_ from "./metrics.ts"
import type { Recorder } from "./metrics.ts"

type AnyFuture = FutureImpl<any, any>

/**
 * A unit of execution capacity: a fiber slot or a worker thread.
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
 * How one kind of slot is created, runs a task, stops a task, and is closed.
 * @internal
 */
export interface SlotDriver<S extends Slot> {
  /** Tasks one slot holds at once (running, plus any sent ahead). */
  readonly capacity: number
  /**
   * Of `capacity`, the tasks a slot runs at once; the rest are sent ahead
   * (prefetch), which happens only when no slot is still starting.
   */
  readonly concurrency: number
  /**
   * Creates a slot. Calls `ready` once it can run tasks (possibly at once) or
   * `failed` if it cannot (the executor then breaks). Returns a canceller, used
   * when the executor is released while the slot is still starting.
   */
  readonly spawn: (
    id: number,
    ready: (slot: S) => void,
    failed: (reason: string, cause: unknown) => void
  ) => (() => Effect.Effect<void>) | undefined
  /** Starts the future's job on the slot; reports the outcome with `complete`, exactly once. */
  readonly run: (slot: S, future: AnyFuture) => void
  /** Stops the future's running job; completes once the job has stopped and `complete` was called. */
  readonly interrupt: (slot: S, future: AnyFuture) => Effect.Effect<void>
  /** Destroys a slot that runs no task. */
  readonly close: (slot: S) => Effect.Effect<void>
}

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
  readonly queued: number
  readonly submitted: number
  readonly succeeded: number
  readonly failed: number
  readonly cancelled: number
}

interface RoomWaiter {
  readonly future: AnyFuture
  resume: ((effect: Effect.Effect<void, SubmitError>) => void) | undefined
  next: RoomWaiter | undefined
}

/** @internal */
export class Dispatcher<S extends Slot> implements future_.Owner {
  readonly options: Options
  readonly driver: SlotDriver<S>
  readonly recorder: Recorder | undefined
  private readonly clock: { currentTimeMillisUnsafe(): number } | undefined

  // the queue: an intrusive doubly linked list through the futures themselves
  private head: AnyFuture | undefined = undefined
  private tail: AnyFuture | undefined = undefined
  queued = 0

  // slots
  readonly slots = new Set<S>()
  // Slots with room, filed by how many tasks they run (levels[n] holds slots
  // running n): dispatch takes the least loaded, so an idle worker is used
  // before a busy one is sent a task ahead. One level when capacity is 1.
  private readonly levels: Array<Array<S>>
  private availableCount = 0
  private spawning = 0
  /** Slots in `slots` that take no new tasks (recycling after maxTasksPerSlot). */
  private retiringSlots = 0
  private nextSlotId = 1
  private readonly spawnCancellers = new Map<number, () => Effect.Effect<void>>()
  /** Slot closes under way; each removes itself when done. */
  private readonly closing = new Set<Fiber.Fiber<void>>()

  // room waiters (whenFull: "suspend"), FIFO
  private waitHead: RoomWaiter | undefined = undefined
  private waitTail: RoomWaiter | undefined = undefined

  // fibers waiting in shutdown({ wait: true }) for running + queued to reach 0
  private idleWaiters: Array<() => void> = []

  isShutdown = false
  broken: BrokenExecutorError | undefined = undefined

  running = 0
  /** Slots closed after maxTasksPerSlot tasks. */
  recycled = 0
  submitted = 0
  succeeded = 0
  failed = 0
  cancelled = 0

  constructor(options: Options, driver: SlotDriver<S>) {
    // invariants the options validation must already have ensured
    if (!Number.isInteger(driver.capacity) || driver.capacity < 1)
      throw new Error("slot capacity must be an integer >= 1")
    if (!Number.isInteger(driver.concurrency) || driver.concurrency < 1 || driver.concurrency > driver.capacity)
      throw new Error("slot concurrency must be an integer in [1, capacity]")
    if (!Number.isInteger(options.maxWorkers) || options.maxWorkers < 1)
      throw new Error("maxWorkers must be an integer >= 1")
    this.options = options
    this.driver = driver
    this.levels = Array.from({ length: driver.capacity }, () => [])
    this.recorder =
      options.metricsContext === undefined ? undefined : metrics_.make(options.name, options.metricsContext, this)
    this.clock = options.clock
  }

  /** Starts the `minWorkers` slots. */
  start(): void {
    for (let i = 0; i < this.options.minWorkers; i++) this.spawnSlot()
  }

  // -------------------------------------------------------------------------
  // submit
  // -------------------------------------------------------------------------

  /**
   * Admits a future: dispatches it, queues it, or (queue full) fails or
   * suspends the caller until there is room. The common outcomes return an
   * `Exit` (no allocation beyond it): success with `value`, or the failure.
   */
  submit<A>(future: AnyFuture, value: A): Effect.Effect<A, SubmitError> {
    const error = this.rejection()
    if (error !== undefined) return Exit.fail(error)
    const slot = this.availableCount > 0 ? this.pickSlot() : undefined
    if (slot !== undefined) {
      this.accept(future)
      this.dispatch(slot, future)
      return Exit.succeed(value)
    }
    if (this.hasRoom()) {
      this.accept(future)
      this.enqueue(future)
      this.maybeSpawn()
      return Exit.succeed(value)
    }
    if (this.options.whenFull === "fail") {
      return Exit.fail(new QueueFullError({ executor: this.options.name, capacity: this.options.maxQueue }))
    }
    return Effect.as(this.waitForRoom(future), value)
  }

  private rejection(): SubmitError | undefined {
    if (this.broken !== undefined) return this.broken
    if (this.isShutdown) return new ExecutorShutdownError({ executor: this.options.name })
    return undefined
  }

  private accept(future: AnyFuture): void {
    future.owner = this
    if (this.clock !== undefined) future.t = this.clock.currentTimeMillisUnsafe()
    this.submitted++
  }

  /**
   * Admits a future that has already failed (its payload could not be
   * encoded): it counts as submitted and failed, and never reaches a slot.
   */
  failFast<A>(future: AnyFuture, exit: Exit.Exit<never, unknown>, value: A): Effect.Effect<A, SubmitError> {
    const error = this.rejection()
    if (error !== undefined) return Exit.fail(error)
    this.accept(future)
    this.settleUnstarted(future, exit, future_.FAILED)
    return Exit.succeed(value)
  }

  /**
   * Jobs that a slot still starting, or one the pool may still start, will
   * take do not count against maxQueue (so `maxQueue: 0` still admits a job
   * while the pool is below maxWorkers).
   */
  private hasRoom(): boolean {
    const startable = this.broken === undefined ? Math.max(0, this.options.maxWorkers - this.liveSlots()) : 0
    return this.queued - (this.spawning + startable) * this.driver.concurrency < this.options.maxQueue
  }

  private waitForRoom(future: AnyFuture): Effect.Effect<void, SubmitError> {
    return Effect.callback<void, SubmitError>((resume) => {
      const waiter: RoomWaiter = { future, resume, next: undefined }
      if (this.waitTail === undefined) this.waitHead = waiter
      else this.waitTail.next = waiter
      this.waitTail = waiter
      this.maybeSpawn()
      return Effect.sync(() => {
        // interrupted while waiting: forget the waiter (it was not admitted)
        waiter.resume = undefined
      })
    })
  }

  /** Moves waiters into the queue while there is room. */
  private admitWaiters(): void {
    while (this.waitHead !== undefined && (this.hasRoom() || this.pickSlot() !== undefined)) {
      const waiter = this.waitHead
      this.waitHead = waiter.next
      if (this.waitHead === undefined) this.waitTail = undefined
      const resume = waiter.resume
      if (resume === undefined) continue // its fiber was interrupted
      waiter.resume = undefined
      this.accept(waiter.future)
      this.enqueue(waiter.future)
      this.drainQueue()
      resume(Effect.void)
    }
    // a waiter admitted for a slot the pool may still start: start it
    this.maybeSpawn()
  }

  private rejectWaiters(error: SubmitError): void {
    let waiter = this.waitHead
    this.waitHead = this.waitTail = undefined
    while (waiter !== undefined) {
      const resume = waiter.resume
      waiter.resume = undefined
      if (resume !== undefined) resume(Effect.fail(error))
      waiter = waiter.next
    }
  }

  // -------------------------------------------------------------------------
  // queue
  // -------------------------------------------------------------------------

  private enqueue(future: AnyFuture): void {
    future.prev = this.tail
    future.next = undefined
    if (this.tail === undefined) this.head = future
    else this.tail.next = future
    this.tail = future
    this.queued++
  }

  /** Puts a future at the head of the queue: it was taken from it once already. */
  private enqueueFirst(future: AnyFuture): void {
    future.prev = undefined
    future.next = this.head
    if (this.head === undefined) this.tail = future
    else this.head.prev = future
    this.head = future
    this.queued++
  }

  private unlink(future: AnyFuture): void {
    const { prev, next } = future
    if (prev === undefined) this.head = next
    else prev.next = next
    if (next === undefined) this.tail = prev
    else next.prev = prev
    future.prev = future.next = undefined
    this.queued--
  }

  private isQueued(future: AnyFuture): boolean {
    return future.state === future_.PENDING && (future.prev !== undefined || this.head === future)
  }

  /** Hands queued futures to slots with room, then admits room waiters. */
  private pump(): void {
    this.drainQueue()
    if (this.waitHead !== undefined) this.admitWaiters()
  }

  private drainQueue(): void {
    while (this.head !== undefined && this.availableCount > 0) {
      const slot = this.pickSlot()
      if (slot === undefined) return
      const future = this.head
      this.unlink(future)
      this.dispatch(slot, future)
    }
  }

  // -------------------------------------------------------------------------
  // slots
  // -------------------------------------------------------------------------

  private dispatch(slot: S, future: AnyFuture): void {
    if (slot.idleCancel !== undefined) {
      slot.idleCancel()
      slot.idleCancel = undefined
    }
    future_.markRunning(future)
    future.slot = slot
    this.running++
    this.removeAvailable(slot) // filed by its load, which changes now
    slot.active++
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
      const now = this.clock.currentTimeMillisUnsafe()
      future.waited = now - future.t
      future.t = now
      this.recorder?.started(future)
    }
    this.driver.run(slot, future)
  }

  /**
   * The least loaded slot with room. A task is sent ahead to a slot that runs
   * its full concurrency only when no slot is still starting: the one starting
   * will take it sooner than the busy one. Never more than maxWorkers slots'
   * worth of tasks at once: a recycled slot's replacement, started while the
   * retiring slot runs its last tasks, takes over only as they end.
   */
  private pickSlot(): S | undefined {
    if (this.running >= this.options.maxWorkers * this.driver.capacity) return undefined
    const levels = this.spawning > 0 ? this.driver.concurrency : this.levels.length
    for (let i = 0; i < levels; i++) {
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
    else stack.splice(stack.indexOf(slot), 1)
  }

  private addAvailable(slot: S): void {
    if (slot.available || slot.retiring || slot.closed || slot.active >= this.driver.capacity) return
    slot.available = true
    this.availableCount++
    this.levels[slot.active].push(slot)
  }

  /** Slots that take tasks or will: started and not retiring, plus those starting. */
  private liveSlots(): number {
    return this.spawning + this.slots.size - this.retiringSlots
  }

  /** Starts a slot if work is waiting, no starting slot will take it, and the pool has room. */
  private maybeSpawn(): void {
    if (this.broken !== undefined) return
    const waiting = this.queued + (this.waitHead !== undefined ? 1 : 0)
    if (waiting <= this.spawning * this.driver.concurrency) return
    if (this.liveSlots() >= this.options.maxWorkers) return
    this.spawnSlot()
  }

  private spawnSlot(): void {
    const id = this.nextSlotId++
    this.spawning++
    let settled = false
    const cancel = this.driver.spawn(
      id,
      (slot) => {
        if (settled) return
        settled = true
        this.spawning--
        this.spawnCancellers.delete(id)
        this.slots.add(slot)
        if (this.broken !== undefined || (this.isShutdown && this.queued === 0)) {
          this.closeSlot(slot)
          return
        }
        this.addAvailable(slot)
        this.pump()
        this.maybeSpawn()
        this.watchIdle(slot)
      },
      (reason, cause) => {
        if (settled) return
        settled = true
        this.spawning--
        this.spawnCancellers.delete(id)
        this.breakWith(reason, cause)
      }
    )
    if (!settled && cancel !== undefined) this.spawnCancellers.set(id, cancel)
  }

  /** Starts the idle-retirement timer of a slot that runs nothing, when the pool is above minWorkers. */
  private watchIdle(slot: S): void {
    const schedule = this.options.schedule
    if (schedule === undefined || this.options.idleTimeoutMs < 0 || slot.active > 0 || slot.closed) return
    if (slot.idleCancel !== undefined || this.liveSlots() <= this.options.minWorkers) return
    slot.idleCancel = schedule(this.options.idleTimeoutMs, () => {
      slot.idleCancel = undefined
      // (an idle slot may face a queue while a retiring slot finishes: it is needed)
      if (slot.active === 0 && !slot.closed && this.queued === 0 && this.liveSlots() > this.options.minWorkers) {
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

  /**
   * Called by the driver when a slot dies on its own (a crashed worker). Its
   * running tasks must already have been reported with `complete`.
   */
  slotLost(slot: S): void {
    if (!this.detach(slot)) return
    this.maybeSpawn()
    this.keepWarm()
  }

  /**
   * Called by the driver when a slot dies holding jobs it never started (sent
   * ahead to a worker that crashed or was terminated): they go back to the
   * head of the queue, in their order, and run on another slot. Jobs the slot
   * may have started are reported with `complete` instead.
   */
  requeue(slot: S, futures: ReadonlyArray<AnyFuture>): void {
    for (let i = futures.length - 1; i >= 0; i--) {
      const future = futures[i]
      if (future.state !== future_.RUNNING || future.slot !== slot) continue
      this.running--
      slot.active--
      future_.markPending(future)
      if (this.broken !== undefined) {
        this.settleUnstarted(future, Exit.fail(this.broken), future_.FAILED)
        continue
      }
      this.enqueueFirst(future)
    }
    this.pump()
    this.maybeSpawn()
  }

  /** Keeps the warm pool warm: starts the replacement of a crashed or recycled slot below minWorkers. */
  private keepWarm(): void {
    if (!this.isShutdown && this.broken === undefined && this.liveSlots() < this.options.minWorkers) this.spawnSlot()
  }

  // -------------------------------------------------------------------------
  // completion
  // -------------------------------------------------------------------------

  /** The driver reports the outcome of a job it ran. */
  complete(slot: S, future: AnyFuture, exit: Exit.Exit<unknown, unknown>): void {
    if (future.state !== future_.RUNNING || future.slot !== slot) return
    this.running--
    this.removeAvailable(slot) // filed by its load, which changes now
    slot.active--
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
    this.watchIdle(slot)
    this.recorder?.settled(this.clock!.currentTimeMillisUnsafe() - future.t)
    future_.settle(future, exit, outcome)
    this.checkIdle()
  }

  private count(outcome: number): void {
    if (outcome === future_.SUCCEEDED) this.succeeded++
    else if (outcome === future_.FAILED) this.failed++
    else this.cancelled++
  }

  /** Settles a future that never reached a slot (cancelled or failed in the queue, or failed at submit). */
  private settleUnstarted(future: AnyFuture, exit: Exit.Exit<never, unknown>, outcome: number): void {
    this.count(outcome)
    this.recorder?.settled(-1)
    future_.settle(future, exit, outcome)
  }

  // -------------------------------------------------------------------------
  // cancel
  // -------------------------------------------------------------------------

  cancel(future: AnyFuture): Effect.Effect<boolean> {
    return Effect.suspend(() => {
      if (this.isQueued(future)) {
        this.unlink(future)
        this.pump()
        this.settleUnstarted(future, future_.cancelledExit, future_.CANCELLED)
        this.checkIdle()
        return Effect.succeed(true)
      }
      if (future.state === future_.RUNNING) {
        return Effect.map(this.driver.interrupt(future.slot as S, future), () => future.state === future_.CANCELLED)
      }
      return Effect.succeed(future.state === future_.CANCELLED)
    })
  }

  // -------------------------------------------------------------------------
  // broken, shutdown
  // -------------------------------------------------------------------------

  /** Breaks the executor: queued and later submissions fail; running tasks go on. */
  breakWith(reason: string, cause: unknown): void {
    if (this.broken !== undefined) return
    const error = new BrokenExecutorError({ executor: this.options.name, reason, cause })
    this.broken = error
    this.rejectWaiters(error)
    const failure = Exit.fail(error)
    while (this.head !== undefined) {
      const future = this.head
      this.unlink(future)
      this.settleUnstarted(future, failure, future_.FAILED)
    }
    for (const slot of this.levels[0].slice()) this.closeSlot(slot) // idle ones; busy ones close when done
    this.checkIdle()
  }

  /** Stops accepting work; optionally cancels queued futures. Idempotent. */
  shutdownNow(cancelFutures: boolean): void {
    if (!this.isShutdown) {
      this.isShutdown = true
      this.rejectWaiters(new ExecutorShutdownError({ executor: this.options.name }))
    }
    if (cancelFutures) {
      while (this.head !== undefined) {
        const future = this.head
        this.unlink(future)
        this.settleUnstarted(future, future_.cancelledExit, future_.CANCELLED)
      }
    }
    this.checkIdle()
  }

  private checkIdle(): void {
    if (this.running !== 0 || this.queued !== 0) return
    if (this.isShutdown || this.broken !== undefined) {
      for (const slot of this.slots) if (slot.active === 0) this.closeSlot(slot)
    }
    if (this.idleWaiters.length === 0) return
    const waiters = this.idleWaiters
    this.idleWaiters = []
    for (const wake of waiters) wake()
  }

  /** Waits until nothing runs and nothing is queued. */
  awaitIdle(): Effect.Effect<void> {
    return Effect.callback<void>((resume) => {
      if (this.running === 0 && this.queued === 0) return resume(Effect.void)
      const wake = () => resume(Effect.void)
      this.idleWaiters.push(wake)
      return Effect.sync(() => {
        const i = this.idleWaiters.indexOf(wake)
        if (i >= 0) this.idleWaiters.splice(i, 1)
      })
    })
  }

  /** Closes every slot (and stops slots still starting); waits until they are gone. */
  closeAll(): Effect.Effect<void> {
    return Effect.suspend(() => {
      for (const slot of this.slots) this.closeSlot(slot)
      const cancellers = Array.from(this.spawnCancellers.values(), (cancel) => cancel())
      this.spawnCancellers.clear()
      const closing = Array.from(this.closing, (fiber) => Effect.asVoid(Fiber.await(fiber)))
      return Effect.all([...cancellers, ...closing], { concurrency: "unbounded", discard: true })
    })
  }

  stats(): Stats {
    return {
      maxWorkers: this.options.maxWorkers,
      workers: this.slots.size,
      running: this.running,
      queued: this.queued,
      submitted: this.submitted,
      succeeded: this.succeeded,
      failed: this.failed,
      cancelled: this.cancelled
    }
  }
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
