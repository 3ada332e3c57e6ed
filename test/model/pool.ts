// The reference model of an executor for the model-based tests (run by
// interpreter.ts): a FIFO queue in front of `maxWorkers` slots, each running
// `concurrency` tasks at once with `prefetch` more sent ahead, written as
// plainly as possible, with no knowledge of the dispatcher's data structures.
//
// A task handed to a slot either runs (its body has begun: `running`) or was
// sent ahead and waits there for a running one to end: it reads `pending`,
// counts as `prefetched` (not `running`), and is cancelled or timed out (its
// timeout counts from its start) without touching its slot. The slots run at
// most maxWorkers × concurrency bodies at once, a retiring (recycled) slot's
// last tasks included. When a worker dies, the tasks it started fail (crashed)
// and those it never started run on its replacement, in order.
//
// The model predicts, for every future, its state, its outcome and whether its
// task body started and completed; the executor's counters; and what every
// observer (`Future.await` with a deadline, `Future.wait`, `Future.asCompleted`,
// a partially consumed `map`) returns.
//
// Time is discrete. An *epoch* is one thing happening: a command, or one timed
// event (a sleep or a timeout ending, I/O only). Everything an epoch sets off
// synchronously (freed slots taking queued tasks that finish at once, waiting
// submitters admitted, and so on) belongs to that epoch, and observers look at
// the state at the end of an epoch. In Effect 4 a waiting fiber resumes
// synchronously, in the middle of an epoch, as the future it waits for
// settles; where that shows, the tests accept exactly the latitude the
// executor's contract leaves: a `Future.wait` partition lies between what was
// settled before the epoch and after it, and a map item handed to a slot in
// the epoch its stream ended may have been cancelled before it began
// (`mayBeUnstarted`, settled by what its body did). A task sent ahead (CPU,
// prefetch) and not started when a stream's end cancels it never starts.
//
// Two flavours:
// - `timed` (the I/O executor under TestClock): sleeps and timeouts are events
//   at exact times. Events at the same time run in the order they were
//   registered (TestClock's rule), which is the order their tasks started.
// - untimed (the CPU executor in real time): the model describes the state the
//   executor settles into after a command (its *eventual* state). A timeout
//   that can fire fires at once; crashes and kills are immediate.

/** What a task does. */
export type Kind =
  | "value" // succeeds with n at once
  | "fail" // fails with n at once
  | "die" // dies with Error(String(n)) at once
  | "interrupt" // interrupts itself at once
  | "gate" // runs until released, then succeeds with n
  | "block" // runs until interrupted
  | "sleep" // sleeps d ms (I/O: on the TestClock), then succeeds with n
  | "spin" // blocks its worker thread synchronously until released, then succeeds with n (CPU)
  | "exit" // kills its worker with process.exit (CPU)
  | "throw" // kills its worker with an uncaught exception (CPU)

export type State = "pending" | "running" | "succeeded" | "failed" | "cancelled"

/**
 * How a future ended, as the tests describe a real `Exit`: `ok:<json>`,
 * `fail:<json>`, `die:<message>`, `cancelled`, `timeout`, `crashed`,
 * `broken`; a rejected submission is `QueueFullError`,
 * `ExecutorShutdownError` or `broken`.
 */
export type Outcome = string

export interface TaskSpec {
  readonly kind: Kind
  readonly n: number
  /** Sleep duration (kind "sleep"). */
  readonly d?: number | undefined
  /** I/O: the running-time limit in ms. CPU: a short limit that fires (only given to "block" tasks). */
  readonly timeout?: number | undefined
}

export interface Entry {
  /** Index in `Pool.entries`: every accepted task, user-submitted or a map item. */
  readonly id: number
  readonly spec: TaskSpec
  /** The map run it belongs to, if any. */
  readonly group: number | undefined
  released: boolean
  /** "pending" while queued or sent ahead (handed to a slot, not started), "running" once started. */
  state: State
  outcome: Outcome | undefined
  /** The task body began. */
  started: boolean
  /** The task body was interrupted while it ran (its finalizer ran). */
  interrupted: boolean
  /** The epoch it settled in. */
  epoch: number
  /** The epoch it was handed to a slot in. */
  startEpoch: number
  /**
   * A map item that was handed to a slot as the stream ended: the stream's end
   * may have cancelled it before its body began (the executor does not say
   * whether a task handed to a slot in that instant starts first). Only that
   * way: one sent ahead (CPU, prefetch) and not started never starts, even
   * behind an item the end interrupts (`Future.cancelAll` drops the tasks sent
   * ahead before it stops the running ones). The test reads the body's flags
   * and calls `resolve`.
   */
  mayBeUnstarted: boolean
}

/** A rejected submission, described as the tests describe its error. */
export type Rejection = "QueueFullError" | "ExecutorShutdownError" | "broken"

export interface Config {
  readonly maxWorkers: number
  /** Tasks one slot runs at once (CPU concurrentTasksPerWorker). Default 1. */
  readonly concurrency?: number | undefined
  /**
   * Tasks sent ahead to a slot (CPU prefetch): handed to it, they read
   * "pending" and count as prefetched until their body starts, once a running
   * one ends. Default 0. Exact only with one slot (with more, which slot a
   * task is sent ahead to is the dispatcher's choice).
   */
  readonly prefetch?: number | undefined
  /**
   * With prefetch: a slot is replaced after this many tasks were handed to it
   * (recycling). Counted as the dispatcher counts `slot.dispatched`: at the
   * moment a task is handed to the slot, so one dropped later (cancelled
   * before it started) still counts; a dead slot's unstarted tasks count
   * toward its replacement, which they are handed to again. Its replacement takes over only once its last task has
   * ended, so tasks wait in the queue rather than be sent ahead beyond it.
   */
  readonly maxTasksPerWorker?: number | undefined
  /** With prefetch and maxTasksPerWorker: how many more tasks the current slot takes (default all). */
  readonly budget?: number | undefined
  /** Tasks that may wait (Infinity: unbounded). */
  readonly maxQueue: number
  /** Worker crashes tolerated before the executor breaks (CPU; Infinity: never). */
  readonly maxCrashes: number
  /** Exact TestClock time (I/O) or eventual states (CPU). */
  readonly timed: boolean
  /** whenFull "suspend": a submission that finds no room waits for it (FIFO) instead of failing. */
  readonly suspend?: boolean | undefined
}

/** A submission waiting for room (whenFull "suspend"). */
export interface Waiter {
  readonly waiting: true
  readonly spec: TaskSpec
  /** Set once admitted. */
  entry: Entry | undefined
  /** Set if rejected while waiting (shutdown, broken). */
  rejected: Rejection | undefined
}

export const isWaiter = (r: Entry | Rejection | Waiter): r is Waiter => typeof r === "object" && "waiting" in r

interface TimedEvent {
  readonly time: number
  readonly seq: number
  readonly entry: Entry
  readonly type: "sleep" | "timeout"
}

/** An observer: looks at the state after every epoch until it resolves. */
export interface Observer {
  /** Called after each epoch; returns true once resolved. */
  readonly onEpoch: () => boolean
  /** Called at its deadline if it has not resolved. */
  readonly onDeadline: () => void
}

export const isSettled = (e: Entry) => e.state === "succeeded" || e.state === "failed" || e.state === "cancelled"

export const stateOf = (outcome: Outcome): State =>
  outcome.startsWith("ok:") ? "succeeded" : outcome === "cancelled" ? "cancelled" : "failed"

/** The outcome a task of this spec reaches by itself once it starts, if it reaches one at once. */
const immediate = (spec: TaskSpec, released: boolean): Outcome | undefined => {
  switch (spec.kind) {
    case "value":
      return `ok:${spec.n}`
    case "fail":
      return `fail:${spec.n}`
    case "die":
      return `die:${spec.n}`
    case "interrupt":
      return "cancelled"
    case "gate":
    case "spin":
      return released ? `ok:${spec.n}` : undefined
    default:
      return undefined
  }
}

export class Pool {
  readonly cfg: Config
  readonly entries: Array<Entry> = []
  readonly queue: Array<Entry> = []
  /** Entries handed to slots (running, or sent ahead and not started), in the order they were handed. */
  readonly held = new Set<Entry>()
  /** Submitters waiting for room, FIFO. */
  readonly waiters: Array<Waiter> = []
  now = 0
  epoch = 0
  isShutdown = false
  broken = false
  crashes = 0
  submitted = 0
  succeeded = 0
  failed = 0
  cancelled = 0
  /** I/O: slots created so far (the most tasks ever running at once); 0 once shut down and idle. */
  slots = 0
  /** Becomes true once the executor is shut down and idle: `shutdown({ wait: true })` returns. */
  drained = false
  private events: Array<TimedEvent> = []
  private seq = 0
  private nextGroup = 1
  observer: Observer | undefined = undefined

  /** Tasks the slots hold at once (running or sent ahead). */
  private readonly capacity: number
  /** Tasks whose bodies run at once. */
  private readonly executing: number
  /** With prefetch and recycling: tasks the current slot may still be handed (see Config.budget). */
  private budget = Infinity
  /**
   * With prefetch and recycling: hand-offs counted against `budget` that the
   * executor may not have made (see `resolve`); `fixBudget` settles them.
   */
  private refundable = 0

  constructor(cfg: Config) {
    this.cfg = cfg
    const concurrency = cfg.concurrency ?? 1
    const prefetch = cfg.prefetch ?? 0
    if (prefetch > 0 && cfg.maxWorkers !== 1) throw new Error("the model sends tasks ahead to one slot only")
    this.capacity = cfg.maxWorkers * (concurrency + prefetch)
    this.executing = cfg.maxWorkers * concurrency
    if (prefetch > 0 && cfg.maxTasksPerWorker !== undefined) this.budget = cfg.budget ?? cfg.maxTasksPerWorker
  }

  /** Whether a task can be handed to a slot now. */
  private canDispatch(): boolean {
    if (this.held.size >= this.capacity) return false
    // a recycled slot's replacement takes over once its last task has ended
    // (while the retiring slot holds one, it can run maxWorkers × concurrency bodies)
    return this.budget > 0 || this.held.size === 0
  }

  /** Tasks whose bodies run (`stats.running`). */
  get running(): number {
    let n = 0
    for (const e of this.held) if (e.started) n++
    return n
  }

  /** Tasks sent ahead to a slot that has not started them (`stats.prefetched`). */
  get prefetched(): number {
    return this.held.size - this.running
  }

  /** With prefetch and recycling: tasks the current slot may still be handed (else undefined). */
  get budgetLeft(): number | undefined {
    return this.budget === Infinity ? undefined : this.budget
  }

  /**
   * With prefetch and recycling: what `budgetLeft` may be, given the
   * hand-offs that may not have happened, as the executor reports it (a spent
   * budget is a fresh slot's: the next hand-off goes to the replacement).
   */
  get budgetCandidates(): ReadonlyArray<number> | undefined {
    if (this.budget === Infinity) return undefined
    const candidates: Array<number> = []
    for (let b = this.budget; b <= this.budget + this.refundable; b++) candidates.push(b)
    return candidates
  }

  /**
   * Settles the hand-offs `resolve` left uncertain: the current slot may
   * still be handed `left` tasks, as the executor says (one of
   * `budgetCandidates`, where a spent budget reads as a fresh slot's).
   */
  fixBudget(left: number): void {
    this.budget = left
    this.refundable = 0
  }

  /** A new slot replaces the one that held the running tasks; those sent ahead that it never started go to the new one. */
  private replaced(remaining: number): void {
    if (this.budget !== Infinity) this.budget = this.cfg.maxTasksPerWorker! - remaining
  }

  get idle(): boolean {
    return this.held.size === 0 && this.queue.length === 0
  }

  // -------------------------------------------------------------------------
  // commands
  // -------------------------------------------------------------------------

  /** Starts an epoch (a command). */
  begin(): void {
    this.epoch++
  }

  /** Ends an epoch: observers look at the state. */
  end(): void {
    if (this.observer !== undefined && this.observer.onEpoch()) this.observer = undefined
    if (this.isShutdown && this.idle) {
      this.drained = true
      this.slots = 0
    }
  }

  submit(spec: TaskSpec, group?: number): Entry | Rejection | Waiter {
    if (this.broken) return "broken"
    if (this.isShutdown) return "ExecutorShutdownError"
    if (this.waiters.length === 0 && this.hasRoom()) return this.admit(spec, group)
    if (!this.cfg.suspend) return "QueueFullError"
    const waiter: Waiter = { waiting: true, spec, entry: undefined, rejected: undefined }
    this.waiters.push(waiter)
    return waiter
  }

  /** The submitter waiting for room is interrupted: it was never admitted. */
  interruptWaiter(waiter: Waiter): void {
    this.waiters.splice(this.waiters.indexOf(waiter), 1)
  }

  private hasRoom(): boolean {
    return this.canDispatch() || this.queue.length < this.cfg.maxQueue
  }

  private admit(spec: TaskSpec, group: number | undefined): Entry {
    const entry: Entry = {
      id: this.entries.length,
      spec,
      group,
      released: false,
      state: "pending",
      outcome: undefined,
      started: false,
      interrupted: false,
      epoch: -1,
      startEpoch: -1,
      mayBeUnstarted: false
    }
    this.entries.push(entry)
    this.submitted++
    if (this.canDispatch()) this.dispatch(entry)
    else this.queue.push(entry)
    return entry
  }

  private rejectWaiters(rejection: Rejection): void {
    for (const waiter of this.waiters.splice(0)) waiter.rejected = rejection
  }

  release(entry: Entry): void {
    entry.released = true
    if (entry.started && entry.state === "running" && (entry.spec.kind === "gate" || entry.spec.kind === "spin")) {
      this.finish(entry, `ok:${entry.spec.n}`)
    }
  }

  /** Returns what `Future.cancel` returns. */
  cancel(entry: Entry): boolean {
    if (entry.state === "pending" && !this.held.has(entry)) {
      this.queue.splice(this.queue.indexOf(entry), 1)
      this.pump()
      this.settle(entry, "cancelled")
      return true
    }
    if (entry.state === "pending") {
      // sent ahead, not started: dropped at once, its slot untouched; it never starts
      this.drop(entry)
      return true
    }
    if (entry.state === "running") {
      // a gate or block task runs its interruption finalizer; a spin task's
      // thread is terminated (no crash), and the tasks sent ahead to it run on
      // its replacement
      if (entry.spec.kind !== "spin") entry.interrupted = true
      else this.replaced(this.held.size - 1)
      this.finish(entry, "cancelled")
      return true
    }
    return entry.state === "cancelled"
  }

  /** CPU: the worker running `entry` dies (killed from outside, or the task killed it). */
  crash(entry: Entry): void {
    this.countCrash()
    // (the tasks it never started rerun on its replacement, in order: they stay held)
    this.replaced(this.held.size - 1)
    this.finish(entry, "crashed")
  }

  /** CPU: an idle worker dies. */
  crashIdle(): void {
    this.countCrash()
    this.replaced(0)
  }

  shutdown(cancelFutures: boolean): void {
    this.isShutdown = true
    this.rejectWaiters("ExecutorShutdownError")
    if (cancelFutures) {
      for (const entry of this.queue.splice(0)) this.settle(entry, "cancelled")
      // and those sent ahead to a slot that has not started them
      for (const entry of Array.from(this.held)) if (!entry.started) this.drop(entry)
    }
  }

  /** I/O: lets `ms` pass, running the timed events due, each as an epoch. */
  advance(ms: number): void {
    const target = this.now + ms
    for (let next = this.nextEvent(); next !== undefined && next.time <= target; next = this.nextEvent()) {
      this.events.splice(this.events.indexOf(next), 1)
      this.now = next.time
      this.begin()
      if (next.type === "timeout") next.entry.interrupted = true
      this.finish(next.entry, next.type === "sleep" ? `ok:${next.entry.spec.n}` : "timeout")
      this.end()
    }
    this.now = target
  }

  /** The open observer's deadline passes (an epoch of its own: no task event is ever due at that instant). */
  expire(): void {
    const observer = this.observer
    if (observer === undefined) return
    this.observer = undefined
    this.begin()
    observer.onDeadline()
    this.end()
  }

  // -------------------------------------------------------------------------
  // internal
  // -------------------------------------------------------------------------

  private nextEvent(): TimedEvent | undefined {
    let best: TimedEvent | undefined
    for (const e of this.events) {
      if (best === undefined || e.time < best.time || (e.time === best.time && e.seq < best.seq)) best = e
    }
    return best
  }

  private countCrash(): void {
    this.crashes++
    if (!this.broken && this.crashes > this.cfg.maxCrashes) {
      this.broken = true
      this.rejectWaiters("broken")
      for (const entry of this.queue.splice(0)) this.settle(entry, "broken")
    }
  }

  /**
   * Drops a task sent ahead to a slot before it started. Handed over in this
   * very epoch, it may still have been waiting in the executor's queue for a
   * slot that was starting (the model has no start-up time), and then it never
   * counted against maxTasksPerWorker: the executor's count settles it
   * (`fixBudget`). One handed over in an earlier epoch was seen sent ahead.
   */
  private drop(entry: Entry): void {
    this.mayNotHaveBeenHanded(entry)
    this.finish(entry, "cancelled")
  }

  /** An unstarted task handed over in this very epoch may never have left the executor's queue (see `drop`). */
  private mayNotHaveBeenHanded(entry: Entry): void {
    if (this.budget !== Infinity && entry.startEpoch === this.epoch) this.refundable++
  }

  /** Hands a task to a slot: it runs, or waits there (sent ahead, still pending) for a running one to end. */
  private dispatch(entry: Entry): void {
    if (this.budget === 0) this.budget = this.cfg.maxTasksPerWorker!
    this.budget--
    entry.startEpoch = this.epoch
    this.held.add(entry)
    if (this.held.size > this.slots) this.slots = this.held.size
    this.promote()
  }

  /** Tasks sent ahead begin, in the order they were sent, while fewer than `executing` run. */
  private promote(): void {
    for (;;) {
      let bodies = 0
      let next: Entry | undefined
      for (const e of this.held) {
        if (e.started) bodies++
        else next ??= e
      }
      if (next === undefined || bodies >= this.executing) return
      this.start(next)
    }
  }

  /** A task's body begins. */
  private start(entry: Entry): void {
    entry.started = true
    entry.state = "running"
    const spec = entry.spec
    const now = immediate(spec, entry.released)
    if (now !== undefined) return this.finish(entry, now)
    if (spec.kind === "exit" || spec.kind === "throw") return this.crash(entry)
    if (this.cfg.timed) {
      if (spec.kind === "sleep") this.events.push({ time: this.now + spec.d!, seq: this.seq++, entry, type: "sleep" })
      if (spec.timeout !== undefined) {
        this.events.push({ time: this.now + spec.timeout, seq: this.seq++, entry, type: "timeout" })
      }
    } else if (spec.timeout !== undefined) {
      // CPU: a short timeout on a task that never ends by itself fires
      if (spec.kind !== "spin") entry.interrupted = true
      this.finish(entry, "timeout")
    }
  }

  /** A task held by a slot ends (or is dropped before it started); its slot takes the next queued task. */
  private finish(entry: Entry, outcome: Outcome): void {
    this.held.delete(entry)
    this.events = this.events.filter((e) => e.entry !== entry)
    this.settle(entry, outcome)
    this.promote()
    this.pump()
  }

  /** Freed slots take queued tasks, then waiting submitters are admitted while there is room (FIFO). */
  private pump(): void {
    while (this.canDispatch() && this.queue.length > 0) this.dispatch(this.queue.shift()!)
    while (this.waiters.length > 0 && this.hasRoom()) {
      const waiter = this.waiters.shift()!
      waiter.entry = this.admit(waiter.spec, undefined)
    }
  }

  private settle(entry: Entry, outcome: Outcome): void {
    entry.outcome = outcome
    entry.state = stateOf(outcome)
    entry.epoch = this.epoch
    this.count(entry.state, 1)
  }

  count(state: State, delta: number): void {
    if (state === "succeeded") this.succeeded += delta
    else if (state === "failed") this.failed += delta
    else if (state === "cancelled") this.cancelled += delta
  }

  // -------------------------------------------------------------------------
  // map
  // -------------------------------------------------------------------------

  /**
   * `map(items).pipe(Stream.take(take))`: submits the items (all, or
   * `buffersize` ahead of the consumer), then emits results in input order;
   * the first failure in input order fails the stream; however it ends, its
   * unfinished tasks are cancelled (newest first). Returns the run; its
   * `result` is set once the stream has ended.
   */
  mapStart(items: ReadonlyArray<TaskSpec>, take: number, buffersize: number | undefined): MapRun {
    const run: MapRun = { group: this.nextGroup++, items, take, buffersize, submitted: [], emitted: 0, values: [] }
    const initial = buffersize === undefined ? items.length : Math.min(buffersize, items.length)
    for (let i = 0; i < initial; i++) if (!this.mapSubmit(run, i)) return run
    this.mapStep(run)
    return run
  }

  private mapSubmit(run: MapRun, i: number): boolean {
    const r = this.submit(run.items[i], run.group)
    if (isWaiter(r)) throw new Error("the model runs map only where submissions do not wait")
    if (typeof r === "string") {
      this.mapEnd(run, r, run.emitted)
      return false
    }
    run.submitted.push(r)
    return true
  }

  /** The consumer takes what it can; call after every epoch. */
  mapStep(run: MapRun): void {
    while (run.result === undefined && run.emitted < run.take) {
      const head = run.submitted[run.emitted]
      if (head === undefined || !isSettled(head)) return
      if (head.state !== "succeeded") return this.mapEnd(run, head.outcome!, run.emitted)
      run.values.push(head.spec.n)
      run.emitted++
      const next = run.emitted - 1 + (run.buffersize ?? Infinity)
      if (run.buffersize !== undefined && next < run.items.length && !this.mapSubmit(run, next)) return
    }
    if (run.result === undefined) this.mapEnd(run, `ok:${JSON.stringify(run.values)}`, run.take - 1)
  }

  /** The stream ends (`decided`: the index of the item that decided it) and cancels what is unfinished. */
  mapEnd(run: MapRun, result: Outcome, decided: number): void {
    run.result = result
    for (let i = 0; i < run.submitted.length; i++) {
      const item = run.submitted[i]
      // I/O: an item after the deciding one, handed to a slot in this very
      // epoch, may not have begun when the stream ended. CPU (eventual states):
      // any item after the deciding one, or any item at all if the stream timed
      // out, may not have reached its worker. An item sent ahead and not
      // started never starts (cancelAll drops it before stopping running ones).
      const raced = this.cfg.timed
        ? i > decided && item.startEpoch === this.epoch
        : item.started && (result === "timeout" || i > decided)
      if (raced) item.mayBeUnstarted = true
    }
    // queued items first, then those sent ahead (dropped), then the running
    // ones: none of them starts on the way out
    const open = run.submitted.filter((e) => !isSettled(e)).reverse()
    for (const e of open) if (e.state === "pending" && !this.held.has(e)) this.cancel(e)
    for (const e of open) if (e.state === "pending") this.cancel(e)
    for (const e of open) if (e.state === "running") this.cancel(e)
  }

  /**
   * Settles a race of a `mayBeUnstarted` map item: if its body did not begin,
   * the stream's end cancelled it before it started.
   */
  resolve(entry: Entry, bodyStarted: boolean): void {
    if (!entry.mayBeUnstarted) return
    entry.mayBeUnstarted = false
    if (bodyStarted) return
    // it may never have been handed to a slot either (the executor's slot was
    // still starting, so it waited in the queue when the end cancelled it):
    // then it did not count against maxTasksPerWorker
    this.mayNotHaveBeenHanded(entry)
    this.count(entry.state, -1)
    entry.outcome = "cancelled"
    entry.state = "cancelled"
    entry.started = false
    entry.interrupted = false
    this.count(entry.state, 1)
  }
}

export interface MapRun {
  readonly group: number
  readonly items: ReadonlyArray<TaskSpec>
  readonly take: number
  readonly buffersize: number | undefined
  readonly submitted: Array<Entry>
  emitted: number
  readonly values: Array<number>
  result?: Outcome
}

// ---------------------------------------------------------------------------
// observers
// ---------------------------------------------------------------------------

export type ReturnWhen = "FIRST_COMPLETED" | "FIRST_EXCEPTION" | "ALL_COMPLETED"

/** Whether `Future.wait` returns, given these (deduplicated) futures. */
export const waitSatisfied = (entries: ReadonlyArray<Entry>, returnWhen: ReturnWhen): boolean => {
  const done = entries.filter(isSettled)
  if (done.length === entries.length) return true
  if (returnWhen === "FIRST_COMPLETED") return done.length > 0
  if (returnWhen === "FIRST_EXCEPTION") return done.some((e) => e.state === "failed")
  return false
}

/** Deduplicates, keeping the first occurrence (as `Future.wait` and `asCompleted` do). */
export const unique = <A>(xs: ReadonlyArray<A>): Array<A> => Array.from(new Set(xs))
