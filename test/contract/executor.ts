// The executor contract: one suite, run against every executor through an
// adapter (CPython's create_executor_tests). Tasks are opaque to the suite:
// the adapter makes them (an Effect for the I/O executor, a worker task for
// the CPU executor) and supplies gates that report "started" and wait for
// "release", so every ordering is forced, never hoped for.
import { assert, describe } from "@effect/vitest"
import type * as Vitest from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { MapOptions, ShutdownOptions, Stats, SubmitOptions, WhenFull } from "../../src/Executor.ts"
import type { InvalidOptionsError, SubmitError } from "../../src/ExecutorError.ts"
import * as Future from "../../src/Future.ts"

/** An executor under test, seen through its adapter. */
export interface Subject<T> {
  readonly submit: (task: T, options?: SubmitOptions) => Effect.Effect<Future.Future<unknown, unknown>, SubmitError>
  readonly map: (tasks: Iterable<T>, options?: MapOptions) => Stream.Stream<unknown, unknown>
  readonly shutdown: (options?: ShutdownOptions) => Effect.Effect<void>
  readonly stats: Effect.Effect<Stats>
}

/** A task that reports when it starts and finishes only when released. */
export interface Gated<T> {
  readonly task: T
  /** Waits until the task has started. */
  readonly started: Effect.Effect<void>
  readonly hasStarted: Effect.Effect<boolean>
  readonly release: Effect.Effect<void>
}

/** A task that runs until it is interrupted, and reports whether its interruption handler ran. */
export interface Blocking<T> {
  readonly task: T
  readonly started: Effect.Effect<void>
  readonly hasStarted: Effect.Effect<boolean>
  readonly finalized: Effect.Effect<boolean>
}

export interface ContractOptions {
  readonly maxWorkers: number
  readonly maxQueue?: number
  readonly whenFull?: WhenFull
}

export interface Adapter<T> {
  readonly name: string
  /** `it.effect` (TestClock) or `it.live`. */
  readonly it: Vitest.Vitest.Tester<Scope.Scope>
  readonly make: (options: ContractOptions) => Effect.Effect<Subject<T>, InvalidOptionsError, Scope.Scope>
  /** Succeeds with `n`. */
  readonly value: (n: number) => T
  /** Fails with the typed error value `e` (the adapter's error channel carries it as is). */
  readonly fail: (e: unknown) => T
  /** Dies with an Error whose message is `message`. */
  readonly die: (message: string) => T
  /** Interrupts itself. */
  readonly selfInterrupt: T
  readonly gated: (n: number) => Effect.Effect<Gated<T>>
  readonly blocking: Effect.Effect<Blocking<T>>
  /** Lets `millis` of (test or real) time pass. */
  readonly advance: (millis: number) => Effect.Effect<void>
  /** How the error `fail(e)` arrives in a future's failure. */
  readonly failureOf: (e: unknown) => unknown
  /**
   * Tasks wait in each slot's own queue (sent ahead, prefetch): they start in
   * submission order per slot, not across slots. Default: one FIFO for all.
   */
  readonly fifoPerSlot?: boolean
}

const settledCount = (s: Stats) => s.succeeded + s.failed + s.cancelled

const assertConsistent = (s: Stats) =>
  assert.strictEqual(s.submitted, settledCount(s) + s.running + s.prefetched + s.queued)

export const executorContract = <T>(adapter: Adapter<T>) => {
  const it = adapter.it
  const { make } = adapter

  /** Starts `n` slots (worker threads boot in real time) so a later deadline measures only the work. */
  const warm = (ex: Subject<T>, n: number) =>
    Effect.gen(function* () {
      const gates = yield* Effect.forEach(
        Array.from({ length: n }, (_, i) => i),
        adapter.gated
      )
      const fs = yield* Effect.forEach(gates, (g) => ex.submit(g.task))
      for (const g of gates) yield* g.started
      for (const g of gates) yield* g.release
      yield* Effect.forEach(fs, Future.await)
    })

  describe(`${adapter.name} contract`, () => {
    describe("submit", () => {
      it("submit - the future succeeds with the task's value", () =>
        Effect.gen(function* () {
          const ex = yield* make({ maxWorkers: 2 })
          const f = yield* ex.submit(adapter.value(21))
          assert.strictEqual(yield* Future.await(f), 21)
          assert.strictEqual(Future.stateUnsafe(f), "succeeded")
          assert.isTrue(yield* Future.isDone(f))
        }))

      it("submit - falsy failure values are failures", () =>
        Effect.gen(function* () {
          const ex = yield* make({ maxWorkers: 2 })
          for (const e of [undefined, 0, "", false, null]) {
            const f = yield* ex.submit(adapter.fail(e))
            const exit = yield* Future.exit(f)
            assert.isTrue(Exit.isFailure(exit), `failure ${String(e)}`)
            assert.strictEqual(Future.stateUnsafe(f), "failed")
            if (Exit.isFailure(exit)) {
              const error = Cause.findError(exit.cause)
              assert.isTrue(error._tag === "Success", `typed failure ${String(e)}`)
              if (error._tag === "Success") assert.deepStrictEqual(error.success, adapter.failureOf(e))
            }
          }
        }))

      it("submit - a task that dies fails its future with the defect and frees its slot", () =>
        Effect.gen(function* () {
          const ex = yield* make({ maxWorkers: 1 })
          const f = yield* ex.submit(adapter.die("boom"))
          const exit = yield* Future.exit(f)
          assert.isTrue(Exit.isFailure(exit) && Cause.hasDies(exit.cause))
          if (Exit.isFailure(exit)) assert.include(String((Cause.squash(exit.cause) as Error).message), "boom")
          assert.strictEqual(Future.stateUnsafe(f), "failed")
          const g = yield* ex.submit(adapter.value(1))
          assert.strictEqual(yield* Future.await(g), 1)
        }))

      it("submit - a task that interrupts itself ends cancelled", () =>
        Effect.gen(function* () {
          const ex = yield* make({ maxWorkers: 1 })
          const f = yield* ex.submit(adapter.selfInterrupt)
          const error = yield* Effect.flip(Future.await(f))
          assert.strictEqual((error as any)._tag, "CancelledError")
          assert.strictEqual(Future.stateUnsafe(f), "cancelled")
          const g = yield* ex.submit(adapter.value(2))
          assert.strictEqual(yield* Future.await(g), 2)
        }))

      it("submit - at most maxWorkers tasks run; the rest queue in FIFO order", () =>
        Effect.gen(function* () {
          const ex = yield* make({ maxWorkers: 2 })
          const gates = yield* Effect.forEach([0, 1, 2, 3, 4], adapter.gated)
          const fs = yield* Effect.forEach(gates, (g) => ex.submit(g.task))
          yield* gates[0].started
          yield* gates[1].started
          const s = yield* ex.stats
          assert.strictEqual(s.running, 2)
          // waiting: in the queue, or sent ahead to a worker that has not started them (prefetch)
          assert.strictEqual(s.queued + s.prefetched, 3)
          assertConsistent(s)
          assert.deepStrictEqual(fs.map(Future.stateUnsafe), ["running", "running", "pending", "pending", "pending"])
          // releasing the first lets exactly the next queued one start (with
          // prefetch: the next one sent ahead to that slot)
          yield* gates[0].release
          if (adapter.fifoPerSlot === true) {
            yield* Effect.raceAll([gates[2].started, gates[3].started, gates[4].started])
          } else {
            yield* gates[2].started
            assert.isFalse(yield* gates[3].hasStarted)
            assert.isFalse(yield* gates[4].hasStarted)
          }
          yield* Effect.forEach(gates, (g) => g.release)
          assert.deepStrictEqual(yield* Effect.forEach(fs, Future.await), [0, 1, 2, 3, 4])
          const end = yield* ex.stats
          assert.strictEqual(end.succeeded, 5)
          assertConsistent(end)
        }))

      it("submit - timeout bounds running time from start, not time in queue", () =>
        Effect.gen(function* () {
          const ex = yield* make({ maxWorkers: 1 })
          const first = yield* adapter.gated(1)
          const f1 = yield* ex.submit(first.task)
          const queuedGate = yield* adapter.gated(2)
          const f2 = yield* ex.submit(queuedGate.task, { timeout: 200 })
          yield* first.started
          // f2 waits in the queue far longer than its timeout
          yield* adapter.advance(500)
          assert.strictEqual(Future.stateUnsafe(f2), "pending")
          yield* first.release
          yield* queuedGate.started
          yield* queuedGate.release
          assert.strictEqual(yield* Future.await(f1), 1)
          assert.strictEqual(yield* Future.await(f2), 2)
        }))

      it("submit - a task over its timeout is interrupted and fails with TimeoutError", () =>
        Effect.gen(function* () {
          const ex = yield* make({ maxWorkers: 1 })
          const b = yield* adapter.blocking
          const f = yield* ex.submit(b.task, { timeout: 100 })
          yield* b.started
          yield* adapter.advance(150)
          const error = yield* Effect.flip(Future.await(f))
          assert.isTrue(Cause.isTimeoutError(error))
          assert.strictEqual(Future.stateUnsafe(f), "failed")
          assert.isTrue(yield* b.finalized)
          const g = yield* ex.submit(adapter.value(3))
          assert.strictEqual(yield* Future.await(g), 3)
        }))

      it("submit - invalid timeouts are defects naming the option", () =>
        Effect.gen(function* () {
          const ex = yield* make({ maxWorkers: 1 })
          for (const timeout of [Number.NaN, -1]) {
            const exit = yield* Effect.exit(ex.submit(adapter.value(1), { timeout }))
            assert.isTrue(Exit.isFailure(exit) && Cause.hasDies(exit.cause))
            if (Exit.isFailure(exit)) {
              const defect = Cause.squash(exit.cause) as InvalidOptionsError
              assert.strictEqual(defect._tag, "InvalidOptionsError")
              assert.strictEqual(defect.option, "timeout")
            }
          }
          const s = yield* ex.stats
          assert.strictEqual(s.submitted, 0)
        }))
    })

    describe("cancel", () => {
      it("cancel - a pending future is removed from the queue and never starts", () =>
        Effect.gen(function* () {
          const ex = yield* make({ maxWorkers: 1 })
          const busy = yield* adapter.gated(0)
          yield* ex.submit(busy.task)
          yield* busy.started
          const queued = yield* adapter.gated(1)
          const f = yield* ex.submit(queued.task)
          assert.isTrue(yield* Future.cancel(f))
          assert.strictEqual(Future.stateUnsafe(f), "cancelled")
          const error = yield* Effect.flip(Future.await(f))
          assert.strictEqual((error as any)._tag, "CancelledError")
          assert.strictEqual((yield* ex.stats).queued, 0)
          yield* busy.release
          const after = yield* ex.submit(adapter.value(5))
          assert.strictEqual(yield* Future.await(after), 5)
          assert.isFalse(yield* queued.hasStarted)
          assertConsistent(yield* ex.stats)
        }))

      it("cancel - a running task is interrupted and its finalizers have run before cancel returns", () =>
        Effect.gen(function* () {
          const ex = yield* make({ maxWorkers: 1 })
          const b = yield* adapter.blocking
          const f = yield* ex.submit(b.task)
          yield* b.started
          assert.strictEqual(Future.stateUnsafe(f), "running")
          assert.isTrue(yield* Future.cancel(f))
          assert.isTrue(yield* b.finalized)
          assert.strictEqual(Future.stateUnsafe(f), "cancelled")
          const s = yield* ex.stats
          assert.strictEqual(s.running, 0)
          assert.strictEqual(s.cancelled, 1)
          const g = yield* ex.submit(adapter.value(7))
          assert.strictEqual(yield* Future.await(g), 7)
        }))

      it("cancel - settled futures: false for succeeded and failed, true again for cancelled", () =>
        Effect.gen(function* () {
          const ex = yield* make({ maxWorkers: 1 })
          const ok = yield* ex.submit(adapter.value(1))
          yield* Future.await(ok)
          assert.isFalse(yield* Future.cancel(ok))
          assert.strictEqual(Future.stateUnsafe(ok), "succeeded")
          const bad = yield* ex.submit(adapter.fail("e"))
          yield* Future.exit(bad)
          assert.isFalse(yield* Future.cancel(bad))
          assert.strictEqual(Future.stateUnsafe(bad), "failed")
          const b = yield* adapter.blocking
          const c = yield* ex.submit(b.task)
          yield* b.started
          assert.isTrue(yield* Future.cancel(c))
          assert.isTrue(yield* Future.cancel(c))
        }))

      it("cancel - racing dispatch: a future cancelled while pending never starts", () =>
        Effect.gen(function* () {
          const ex = yield* make({ maxWorkers: 1 })
          const busy = yield* adapter.gated(0)
          yield* ex.submit(busy.task)
          yield* busy.started
          const next = yield* adapter.gated(1)
          const f = yield* ex.submit(next.task)
          // release the slot and cancel the queued future in the same step
          const [, cancelled] = yield* Effect.all([busy.release, Future.cancel(f)], { concurrency: "unbounded" })
          const started = yield* next.hasStarted
          if (cancelled) {
            assert.strictEqual(Future.stateUnsafe(f), "cancelled")
          } else {
            yield* next.release
            assert.strictEqual(yield* Future.await(f), 1)
          }
          const g = yield* ex.submit(adapter.value(2))
          assert.strictEqual(yield* Future.await(g), 2)
          if (cancelled && started) assert.strictEqual(Future.stateUnsafe(f), "cancelled")
          assertConsistent(yield* ex.stats)
        }))

      it("cancel - racing completion: cancel's answer always matches the final state", () =>
        Effect.gen(function* () {
          const ex = yield* make({ maxWorkers: 1 })
          for (let round = 0; round < 5; round++) {
            const g = yield* adapter.gated(round)
            const f = yield* ex.submit(g.task)
            yield* g.started
            const [, cancelled] = yield* Effect.all([g.release, Future.cancel(f)], { concurrency: "unbounded" })
            const exit = yield* Future.exit(f)
            if (cancelled) {
              assert.strictEqual(Future.stateUnsafe(f), "cancelled")
              assert.isTrue(Exit.isFailure(exit))
            } else {
              assert.strictEqual(Future.stateUnsafe(f), "succeeded")
              assert.deepStrictEqual(exit, Exit.succeed(round))
            }
          }
          const s = yield* ex.stats
          assert.strictEqual(s.succeeded + s.cancelled, 5)
          assertConsistent(s)
        }))

      it("cancel - interrupting the awaiting fiber leaves the task running", () =>
        Effect.gen(function* () {
          const ex = yield* make({ maxWorkers: 1 })
          const g = yield* adapter.gated(9)
          const f = yield* ex.submit(g.task)
          yield* g.started
          const waiter = yield* Effect.forkChild(Future.await(f))
          yield* Effect.yieldNow
          yield* Fiber.interrupt(waiter)
          assert.strictEqual(Future.stateUnsafe(f), "running")
          yield* g.release
          assert.strictEqual(yield* Future.await(f), 9)
        }))

      it("cancel - an await timeout stops the wait, never the task; zero timeout on a settled future returns it", () =>
        Effect.gen(function* () {
          const ex = yield* make({ maxWorkers: 1 })
          const g = yield* adapter.gated(4)
          const f = yield* ex.submit(g.task)
          yield* g.started
          const waiter = yield* Effect.forkChild(Effect.flip(Future.await(f).pipe(Effect.timeout(50))))
          yield* adapter.advance(60)
          assert.isTrue(Cause.isTimeoutError(yield* Fiber.join(waiter)))
          assert.strictEqual(Future.stateUnsafe(f), "running")
          yield* g.release
          assert.strictEqual(yield* Future.await(f), 4)
          assert.strictEqual(yield* Future.await(f).pipe(Effect.timeout(0)), 4)
        }))
    })

    describe("shutdown", () => {
      it("shutdown - submit afterwards fails with ExecutorShutdownError; shutdown is idempotent", () =>
        Effect.gen(function* () {
          const ex = yield* make({ maxWorkers: 1 })
          yield* ex.shutdown()
          yield* ex.shutdown()
          const error = yield* Effect.flip(ex.submit(adapter.value(1)))
          assert.strictEqual(error._tag, "ExecutorShutdownError")
          yield* ex.shutdown({ wait: false, cancelFutures: true })
        }))

      it("shutdown - cancelFutures cancels queued, not running, futures; wait waits for running ones", () =>
        Effect.gen(function* () {
          const ex = yield* make({ maxWorkers: 1 })
          const running = yield* adapter.gated(1)
          const fr = yield* ex.submit(running.task)
          yield* running.started
          const queued = yield* Effect.forEach([2, 3], adapter.gated)
          const fq = yield* Effect.forEach(queued, (g) => ex.submit(g.task))
          const shutdown = yield* Effect.forkChild(ex.shutdown({ wait: true, cancelFutures: true }))
          yield* Effect.yieldNow
          assert.deepStrictEqual(fq.map(Future.stateUnsafe), ["cancelled", "cancelled"])
          assert.strictEqual(Future.stateUnsafe(fr), "running")
          assert.isUndefined(shutdown.pollUnsafe())
          yield* running.release
          yield* Fiber.join(shutdown)
          assert.strictEqual(Future.stateUnsafe(fr), "succeeded")
          for (const g of queued) assert.isFalse(yield* g.hasStarted)
          assertConsistent(yield* ex.stats)
        }))

      it("shutdown - queued work still runs without cancelFutures, and wait never hangs", () =>
        Effect.gen(function* () {
          const ex = yield* make({ maxWorkers: 1 })
          const gates = yield* Effect.forEach([1, 2, 3], adapter.gated)
          const fs = yield* Effect.forEach(gates, (g) => ex.submit(g.task))
          yield* gates[0].started
          yield* ex.shutdown({ wait: false })
          assert.deepStrictEqual(fs.map(Future.stateUnsafe), ["running", "pending", "pending"])
          const shutdown = yield* Effect.forkChild(ex.shutdown({ wait: true }))
          for (const g of gates) {
            yield* g.started
            yield* g.release
          }
          yield* Fiber.join(shutdown)
          assert.deepStrictEqual(yield* Effect.forEach(fs, Future.await), [1, 2, 3])
        }))

      it("shutdown - a fiber suspended for room is woken with ExecutorShutdownError", () =>
        Effect.gen(function* () {
          const ex = yield* make({ maxWorkers: 1, maxQueue: 0, whenFull: "suspend" })
          const busy = yield* adapter.gated(0)
          yield* ex.submit(busy.task)
          yield* busy.started
          const waiting = yield* Effect.forkChild(Effect.flip(ex.submit(adapter.value(1))))
          yield* Effect.yieldNow
          yield* ex.shutdown({ wait: false })
          assert.strictEqual((yield* Fiber.join(waiting))._tag, "ExecutorShutdownError")
          yield* busy.release
        }))
    })

    describe("backpressure", () => {
      it("backpressure - whenFull fail: QueueFullError once maxQueue tasks wait", () =>
        Effect.gen(function* () {
          const ex = yield* make({ maxWorkers: 1, maxQueue: 2, whenFull: "fail" })
          const gates = yield* Effect.forEach([0, 1, 2], adapter.gated)
          const fs = yield* Effect.forEach(gates, (g) => ex.submit(g.task))
          yield* gates[0].started
          const error = yield* Effect.flip(ex.submit(adapter.value(9)))
          assert.strictEqual(error._tag, "QueueFullError")
          if (error._tag === "QueueFullError") assert.strictEqual(error.capacity, 2)
          for (const g of gates) yield* g.release
          assert.deepStrictEqual(yield* Effect.forEach(fs, Future.await), [0, 1, 2])
          assert.strictEqual((yield* ex.stats).submitted, 3)
        }))

      it("backpressure - whenFull suspend: the submitter waits for room, FIFO, and an interrupted waiter loses nothing", () =>
        Effect.gen(function* () {
          const ex = yield* make({ maxWorkers: 1, maxQueue: 1, whenFull: "suspend" })
          const gates = yield* Effect.forEach([0, 1, 2, 3], adapter.gated)
          yield* ex.submit(gates[0].task)
          yield* gates[0].started
          yield* ex.submit(gates[1].task) // fills the queue
          const w2 = yield* Effect.forkChild(ex.submit(gates[2].task))
          const wInterrupted = yield* Effect.forkChild(ex.submit(adapter.value(99)))
          const w3 = yield* Effect.forkChild(ex.submit(gates[3].task))
          yield* Effect.yieldNow
          assert.isUndefined(w2.pollUnsafe())
          yield* Fiber.interrupt(wInterrupted)
          yield* gates[0].release
          yield* gates[1].started
          const f2 = yield* Fiber.join(w2)
          assert.strictEqual(Future.stateUnsafe(f2), "pending")
          assert.isUndefined(w3.pollUnsafe())
          yield* gates[1].release
          yield* gates[2].started
          const f3 = yield* Fiber.join(w3)
          yield* gates[2].release
          yield* gates[3].started
          yield* gates[3].release
          assert.strictEqual(yield* Future.await(f3), 3)
          const s = yield* ex.stats
          assert.strictEqual(s.submitted, 4)
          assert.strictEqual(s.succeeded, 4)
        }))
    })

    describe("map", () => {
      it("map - results come in input order", () =>
        Effect.gen(function* () {
          const ex = yield* make({ maxWorkers: 3 })
          const gates = yield* Effect.forEach([0, 1, 2], adapter.gated)
          const collect = yield* Effect.forkChild(Stream.runCollect(ex.map(gates.map((g) => g.task))))
          for (const g of gates) yield* g.started
          // release in reverse order
          for (const g of [...gates].reverse()) yield* g.release
          assert.deepStrictEqual(yield* Fiber.join(collect), [0, 1, 2])
        }))

      it("map - the first failure in input order fails the stream and unfinished tasks are cancelled", () =>
        Effect.gen(function* () {
          const ex = yield* make({ maxWorkers: 3 })
          const b = yield* adapter.blocking
          const exit = yield* Effect.exit(
            Stream.runCollect(ex.map([adapter.value(1), adapter.fail("bad"), b.task, adapter.value(4)]))
          )
          assert.isTrue(Exit.isFailure(exit))
          if (Exit.isFailure(exit)) {
            const error = Cause.findError(exit.cause)
            assert.isTrue(error._tag === "Success" && error.success === adapter.failureOf("bad"))
          }
          if (yield* b.hasStarted) assert.isTrue(yield* b.finalized)
          const s = yield* ex.stats
          assert.strictEqual(s.running, 0)
          assert.strictEqual(s.queued, 0)
          assertConsistent(s)
        }))

      it("map - a consumer that stops early cancels what it submitted", () =>
        Effect.gen(function* () {
          const ex = yield* make({ maxWorkers: 1 })
          const blockers = yield* Effect.all([adapter.blocking, adapter.blocking])
          const taken = yield* Stream.runCollect(
            Stream.take(ex.map([adapter.value(1), blockers[0].task, blockers[1].task]), 1)
          )
          assert.deepStrictEqual(taken, [1])
          const s = yield* ex.stats
          assert.strictEqual(s.running + s.queued, 0)
          assert.strictEqual(s.cancelled, 2)
          if (yield* blockers[0].hasStarted) assert.isTrue(yield* blockers[0].finalized)
          assert.isFalse(yield* blockers[1].hasStarted)
        }))

      it("map - submission starts when the stream runs; buffersize bounds it", () =>
        Effect.gen(function* () {
          const ex = yield* make({ maxWorkers: 4 })
          const gates = yield* Effect.forEach([0, 1, 2, 3, 4, 5], adapter.gated)
          const stream = ex.map(
            gates.map((g) => g.task),
            { buffersize: 2 }
          )
          assert.strictEqual((yield* ex.stats).submitted, 0)
          const collect = yield* Effect.forkChild(Stream.runCollect(stream))
          yield* gates[0].started
          yield* gates[1].started
          assert.strictEqual((yield* ex.stats).submitted, 2)
          yield* gates[0].release
          yield* gates[2].started
          assert.strictEqual((yield* ex.stats).submitted, 3)
          for (const g of gates.slice(1)) yield* g.release
          assert.deepStrictEqual(yield* Fiber.join(collect), [0, 1, 2, 3, 4, 5])
        }))

      it("map - timeout is one deadline from the stream's start", () =>
        Effect.gen(function* () {
          const ex = yield* make({ maxWorkers: 2 })
          yield* warm(ex, 2)
          const b = yield* adapter.blocking
          const collect = yield* Effect.forkChild(
            Effect.flip(Stream.runCollect(ex.map([adapter.value(1), b.task], { timeout: 100 })))
          )
          yield* b.started
          yield* adapter.advance(150)
          const error = yield* Fiber.join(collect)
          assert.isTrue(Cause.isTimeoutError(error))
          assert.isTrue(yield* b.finalized)
        }))
    })

    describe("wait and asCompleted", () => {
      it("wait - every returnWhen over live futures", () =>
        Effect.gen(function* () {
          const ex = yield* make({ maxWorkers: 3 })
          const g1 = yield* adapter.gated(1)
          const g2 = yield* adapter.gated(2)
          const f1 = yield* ex.submit(g1.task)
          const f2 = yield* ex.submit(g2.task)
          const bad = yield* ex.submit(adapter.fail("x"))
          yield* Future.exit(bad)
          const first = yield* Future.wait([f1, f2], { returnWhen: "FIRST_COMPLETED", timeout: 0 })
          assert.strictEqual(first.done.size, 0)
          const exc = yield* Future.wait([f1, f2, bad], { returnWhen: "FIRST_EXCEPTION" })
          assert.isTrue(exc.done.has(bad))
          assert.strictEqual(exc.notDone.size, 2)
          const waitAll = yield* Effect.forkChild(Future.wait([f1, f2, f1]))
          yield* g1.started
          yield* g1.release
          yield* Effect.yieldNow
          assert.isUndefined(waitAll.pollUnsafe())
          yield* g2.started
          yield* g2.release
          const all = yield* Fiber.join(waitAll)
          assert.strictEqual(all.done.size, 2)
          assert.strictEqual(all.notDone.size, 0)
        }))

      it("asCompleted - yields each future once, in completion order", () =>
        Effect.gen(function* () {
          const ex = yield* make({ maxWorkers: 3 })
          const gates = yield* Effect.forEach([0, 1, 2], adapter.gated)
          const fs = yield* Effect.forEach(gates, (g) => ex.submit(g.task))
          for (const g of gates) yield* g.started
          const order: Array<number> = []
          const consume = yield* Effect.forkChild(
            Future.asCompleted([...fs, fs[0]]).pipe(
              Stream.runForEach((f) => Effect.sync(() => order.push(fs.indexOf(f))))
            ),
            { startImmediately: true }
          )
          yield* gates[2].release
          yield* Future.await(fs[2])
          yield* gates[0].release
          yield* Future.await(fs[0])
          yield* gates[1].release
          yield* Fiber.join(consume)
          assert.deepStrictEqual(order, [2, 0, 1])
        }))
    })

    describe("options", () => {
      it("options - invalid options fail with InvalidOptionsError naming the option", () =>
        Effect.gen(function* () {
          const cases: Array<[ContractOptions, string]> = [
            [{ maxWorkers: 0 }, "maxWorkers"],
            [{ maxWorkers: 1.5 }, "maxWorkers"],
            [{ maxWorkers: Number.NaN }, "maxWorkers"],
            [{ maxWorkers: 1, maxQueue: -1 }, "maxQueue"],
            [{ maxWorkers: 1, whenFull: "drop" as any }, "whenFull"]
          ]
          for (const [options, option] of cases) {
            const error = yield* Effect.flip(make(options))
            assert.strictEqual(error._tag, "InvalidOptionsError")
            assert.strictEqual(error.option, option)
            assert.include(error.message, option)
          }
        }))
    })
  })
}
