// The dispatcher against a fake slot kind: every slot report is made by the
// test, by hand, so each ordering is exact (no timers, no threads).
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import { BrokenExecutorError, ExecutorShutdownError, QueueFullError } from "../../src/ExecutorError.ts"
import {
  Dispatcher,
  makeSlot,
  type Options,
  type Slot,
  type SlotHost,
  type SlotKind,
  Work
} from "../../src/internal/dispatcher.ts"
import * as future_ from "../../src/internal/future.ts"

/** A fake task: completes when the test says so, or at once with `exit` when it starts. */
class FakeWork extends Work<Slot> {
  readonly name: string
  readonly exit: Exit.Exit<unknown, unknown> | undefined
  constructor(dispatcher: Dispatcher<Slot, FakeWork>, name: string, exit?: Exit.Exit<unknown, unknown>) {
    super(dispatcher, -1)
    this.name = name
    this.exit = exit
  }
}

interface Fake {
  readonly dispatcher: Dispatcher<Slot, FakeWork>
  readonly host: SlotHost<Slot, FakeWork>
  /** Works started, in order. */
  readonly started: Array<string>
  /** Slot ids asked to start and not yet reported (spawn: "manual"). */
  readonly spawning: Array<number>
  readonly closed: Array<number>
  readonly work: (name: string, exit?: Exit.Exit<unknown, unknown>) => FakeWork
  readonly submit: (work: FakeWork) => Effect.Effect<FakeWork, unknown>
  readonly finish: (work: FakeWork, exit?: Exit.Exit<unknown, unknown>) => void
}

const make = (options: Partial<Options> = {}, spawn: "auto" | "manual" = "auto", prefetch = 0): Fake => {
  const started: Array<string> = []
  const spawning: Array<number> = []
  const closed: Array<number> = []
  const sentAhead = new Map<Slot, Array<FakeWork>>()
  let host!: SlotHost<Slot, FakeWork>
  const kind: SlotKind<Slot, FakeWork> = (h) => {
    host = h
    return {
      capacity: 1 + prefetch,
      concurrency: 1,
      // a slot runs its first task; the ones after it wait (sent ahead) until it ends
      retract: (slot) => {
        const waiting = started.length > 0 ? sentAhead.get(slot) : undefined
        const work = waiting?.shift()
        if (work === undefined) return false
        h.requeue(slot, [work])
        return true
      },
      spawn: (id) => {
        if (spawn === "auto") h.ready(id, makeSlot(id))
        else spawning.push(id)
        return undefined
      },
      run: (slot, work) => {
        if (slot.active > 1) {
          const list = sentAhead.get(slot) ?? []
          list.push(work)
          sentAhead.set(slot, list)
          return
        }
        started.push(work.name)
        if (work.exit !== undefined) h.complete(slot, work, work.exit)
      },
      interrupt: (slot, work) => Effect.sync(() => h.complete(slot, work, Exit.interrupt())),
      close: (slot) =>
        Effect.sync(() => {
          closed.push(slot.id)
        })
    }
  }
  const dispatcher = new Dispatcher<Slot, FakeWork>(
    {
      name: "fake",
      maxWorkers: 1,
      maxQueue: Infinity,
      whenFull: "suspend",
      maxTasksPerSlot: 0,
      minWorkers: 0,
      idleTimeoutMs: -1,
      fork: (effect) => Effect.runFork(effect),
      schedule: undefined,
      metricsContext: undefined,
      clock: undefined,
      ...options
    },
    kind
  )
  return {
    dispatcher,
    host,
    started,
    spawning,
    closed,
    work: (name, exit) => new FakeWork(dispatcher, name, exit),
    submit: (work) => dispatcher.submit(work, work),
    finish: (work, exit = Exit.succeed(work.name)) => host.complete(work.slot!, work, exit)
  }
}

const state = (work: FakeWork) => future_.stateName(work.future)

describe("Dispatcher", () => {
  it.effect("runs at most maxWorkers at once, the rest in FIFO order; counters add up", () =>
    Effect.gen(function* () {
      const fake = make({ maxWorkers: 2 })
      const works = ["a", "b", "c", "d"].map((n) => fake.work(n))
      for (const w of works) yield* fake.submit(w)
      assert.deepStrictEqual(fake.started, ["a", "b"])
      assert.deepStrictEqual(works.map(state), ["running", "running", "pending", "pending"])
      fake.finish(works[1])
      assert.deepStrictEqual(fake.started, ["a", "b", "c"])
      fake.finish(works[0], Exit.fail("boom"))
      fake.finish(works[2])
      fake.finish(works[3])
      assert.deepStrictEqual(works.map(state), ["failed", "succeeded", "succeeded", "succeeded"])
      const stats = fake.dispatcher.stats()
      assert.deepStrictEqual(
        [stats.submitted, stats.succeeded, stats.failed, stats.cancelled, stats.running, stats.queued],
        [4, 3, 1, 0, 0, 0]
      )
    })
  )

  it.effect("a report for a work that is not running on that slot is ignored", () =>
    Effect.gen(function* () {
      const fake = make()
      const a = fake.work("a")
      yield* fake.submit(a)
      const slot = a.slot!
      fake.finish(a)
      fake.host.complete(slot, a, Exit.fail("late"))
      assert.strictEqual(state(a), "succeeded")
      assert.strictEqual(fake.dispatcher.stats().failed, 0)
    })
  )

  it.effect("whenFull fail: QueueFullError once maxQueue works wait", () =>
    Effect.gen(function* () {
      const fake = make({ maxQueue: 1, whenFull: "fail" })
      yield* fake.submit(fake.work("a"))
      yield* fake.submit(fake.work("b"))
      const error = yield* Effect.flip(fake.submit(fake.work("c")))
      assert.instanceOf(error, QueueFullError)
      assert.strictEqual(fake.dispatcher.stats().submitted, 2)
    })
  )

  it.effect("a submitter interrupted while it waits for room leaves the waiter list at once", () =>
    Effect.gen(function* () {
      const fake = make({ maxQueue: 0 })
      const a = fake.work("a")
      yield* fake.submit(a)
      const fibers = []
      for (let i = 0; i < 100; i++) fibers.push(yield* Effect.forkChild(fake.submit(fake.work(`w${i}`))))
      yield* Effect.yieldNow
      assert.strictEqual(fake.dispatcher.waiting, 100)
      yield* Fiber.interruptAll(fibers)
      // the regression: interrupted entries (with their work) stayed until room appeared
      assert.strictEqual(fake.dispatcher.waiting, 0)
      fake.finish(a)
      assert.deepStrictEqual(fake.started, ["a"])
      assert.strictEqual(fake.dispatcher.stats().submitted, 1)
    })
  )

  it.effect("idle is observed only once everything in the call has settled", () =>
    Effect.gen(function* () {
      const fake = make()
      const a = fake.work("a")
      const b = fake.work("b", Exit.succeed("b")) // completes as soon as it starts
      yield* fake.submit(a)
      yield* fake.submit(b)
      let seen: string | undefined
      const waiter = yield* Effect.forkChild(
        fake.dispatcher.awaitIdle().pipe(Effect.andThen(Effect.sync(() => (seen = state(a)))))
      )
      yield* Effect.yieldNow
      // settling a starts b, which finishes inside the same call, before a's future settles
      fake.finish(a)
      yield* Fiber.join(waiter)
      assert.strictEqual(seen, "succeeded")
    })
  )

  it.effect("breaking fails each queued future with its own BrokenExecutorError carrying the cause", () =>
    Effect.gen(function* () {
      const fake = make()
      const a = fake.work("a")
      const queued = [fake.work("b"), fake.work("c")]
      yield* fake.submit(a)
      for (const w of queued) yield* fake.submit(w)
      const cause = new Error("init")
      fake.host.breakWith("initializer failed", cause)
      const errors = []
      for (const w of queued) {
        const exit = yield* future_.exit(w.future)
        const error = Exit.isFailure(exit) ? Cause.findErrorOption(exit.cause) : undefined
        assert.isTrue(error?._tag === "Some" && error.value instanceof BrokenExecutorError)
        errors.push((error as any).value as BrokenExecutorError)
      }
      assert.notStrictEqual(errors[0], errors[1])
      for (const e of errors) {
        assert.strictEqual(e.cause, cause)
        assert.strictEqual(e.reason, "initializer failed")
      }
      // the running one goes on; new submissions are refused
      assert.strictEqual(state(a), "running")
      assert.instanceOf(yield* Effect.flip(fake.submit(fake.work("d"))), BrokenExecutorError)
    })
  )

  it.effect("a dead slot's unstarted works go back to the head of the queue in their order", () =>
    Effect.gen(function* () {
      const fake = make({ maxWorkers: 1 }, "manual")
      const works = ["a", "b", "c"].map((n) => fake.work(n))
      for (const w of works) yield* fake.submit(w)
      fake.host.ready(1, makeSlot(1))
      const slot = works[0].slot!
      assert.deepStrictEqual(fake.started, ["a"])
      // the slot dies before starting a (it was only sent ahead)
      fake.host.lost(slot)
      fake.host.requeue(slot, [works[0]])
      assert.deepStrictEqual(works.map(state), ["pending", "pending", "pending"])
      assert.deepStrictEqual(fake.spawning, [1, 2])
      fake.host.ready(2, makeSlot(2))
      fake.finish(works[0])
      fake.finish(works[1])
      assert.deepStrictEqual(fake.started, ["a", "a", "b", "c"])
      assert.strictEqual(fake.dispatcher.stats().submitted, 3)
    })
  )

  it.effect("a slot that cannot start breaks the executor; one that starts later takes the queue", () =>
    Effect.gen(function* () {
      const fake = make({ maxWorkers: 2 }, "manual")
      const a = fake.work("a")
      yield* fake.submit(a)
      assert.deepStrictEqual(fake.spawning, [1])
      fake.host.ready(1, makeSlot(1))
      assert.deepStrictEqual(fake.started, ["a"])
      yield* fake.submit(fake.work("b"))
      assert.deepStrictEqual(fake.spawning, [1, 2])
      fake.host.startFailed(2, "no thread", new Error("EAGAIN"))
      assert.isDefined(fake.dispatcher.broken)
      // a late report of the failed slot is ignored
      fake.host.ready(2, makeSlot(2))
      assert.strictEqual(fake.dispatcher.stats().workers, 1)
    })
  )

  it.effect("recycling: a slot is closed after maxTasksPerSlot works and replaced", () =>
    Effect.gen(function* () {
      const fake = make({ maxTasksPerSlot: 2 })
      const works = ["a", "b", "c"].map((n) => fake.work(n))
      for (const w of works) yield* fake.submit(w)
      const first = works[0].slot!
      fake.finish(works[0])
      assert.strictEqual(works[1].slot, first)
      fake.finish(works[1])
      yield* Effect.yieldNow
      assert.deepStrictEqual(fake.closed, [first.id])
      assert.notStrictEqual(works[2].slot, first)
      assert.strictEqual(fake.dispatcher.recycled, 1)
    })
  )

  it.effect("cancel: a queued work never starts; a running one is interrupted through its slot", () =>
    Effect.gen(function* () {
      const fake = make()
      const a = fake.work("a")
      const b = fake.work("b")
      yield* fake.submit(a)
      yield* fake.submit(b)
      assert.isTrue(yield* future_.cancel(b.future))
      assert.isTrue(yield* future_.cancel(a.future))
      assert.deepStrictEqual(fake.started, ["a"])
      assert.deepStrictEqual([state(a), state(b)], ["cancelled", "cancelled"])
      assert.isFalse(yield* future_.cancel(fake.work("never submitted").future))
    })
  )

  it.effect("shutdown: later submissions fail, waiters are woken, cancelFutures cancels the queue", () =>
    Effect.gen(function* () {
      const fake = make({ maxQueue: 1 })
      const a = fake.work("a")
      const b = fake.work("b")
      yield* fake.submit(a)
      yield* fake.submit(b)
      const waiter = yield* Effect.forkChild(fake.submit(fake.work("c")))
      yield* Effect.yieldNow
      fake.dispatcher.shutdownNow(true)
      const exit = yield* Fiber.await(waiter)
      assert.isTrue(Exit.isFailure(exit) && Cause.squash(exit.cause) instanceof ExecutorShutdownError)
      assert.strictEqual(state(b), "cancelled")
      assert.strictEqual(state(a), "running")
      fake.finish(a)
      yield* fake.dispatcher.awaitIdle()
    })
  )

  it.effect("an idle slot takes back a task sent ahead to a busy one; the busy slot stays consistent", () =>
    Effect.gen(function* () {
      const fake = make({ maxWorkers: 2, minWorkers: 2 }, "manual", 1)
      fake.dispatcher.start()
      fake.host.ready(1, makeSlot(1))
      const [a, b, c] = ["a", "b", "c"].map((n) => fake.work(n))
      yield* fake.submit(a) // slot 1 runs a
      fake.host.ready(2, makeSlot(2))
      yield* fake.submit(b) // slot 2 runs b
      yield* fake.submit(c) // sent ahead to a busy slot
      assert.deepStrictEqual(fake.started, ["a", "b"])
      assert.strictEqual(fake.dispatcher.stats().running, 3)
      const aheadOn = c.slot!
      const other = aheadOn === a.slot ? b : a
      // the other slot frees: it takes c back from the busy one
      fake.finish(other)
      assert.deepStrictEqual(fake.started, ["a", "b", "c"])
      assert.notStrictEqual(c.slot, aheadOn)
      // the slot that gave c back still takes new work (it was refiled by its load)
      const busy = aheadOn === a.slot ? a : b
      fake.finish(busy)
      const d = fake.work("d")
      yield* fake.submit(d)
      assert.deepStrictEqual(fake.started, ["a", "b", "c", "d"])
      fake.finish(c)
      fake.finish(d)
      const stats = fake.dispatcher.stats()
      assert.deepStrictEqual([stats.running, stats.queued, stats.succeeded], [0, 0, 4])
    })
  )
})
