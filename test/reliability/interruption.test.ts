// Interruption sweeps (issue 6), in the style of effect's own Semaphore leak
// tests: for k = 0, 1, 2, …, K, fork an operation, let it run for k
// scheduler yields, then interrupt the submitting fiber, the awaiting fiber,
// or the task itself (Future.cancel), so every yield point of submit /
// dispatch / settle / wait / asCompleted / map is hit. The I/O executor's
// fibers run with `MaxOpsBeforeYield = 3` (the smallest budget that still
// makes progress: a resumed fiber spends one op on its continuation), so they
// yield after every step and k walks through the operation one step at a
// time; the CPU
// executor's operations interleave with real worker messages, with a
// smaller K.
//
// After every episode: nothing hangs (every wait is bounded), the stats add
// up, running + queued drain back to 0, and the pool still runs exactly
// maxWorkers tasks at once (gated tasks all start, one more stays queued).
import { afterAll, assert, describe, it } from "@effect/vitest"
import type * as Vitest from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Scheduler from "effect/Scheduler"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as CpuExecutor from "../../src/CpuExecutor.ts"
import type { MapOptions, Stats } from "../../src/Executor.ts"
import { CancelledError } from "../../src/ExecutorError.ts"
import * as Future from "../../src/Future.ts"
import type { FutureImpl } from "../../src/internal/future.ts"
import * as IoExecutor from "../../src/IoExecutor.ts"
import * as F from "../fixtures/faults.ts"
import * as Gate from "../fixtures/gate.ts"
import { assertConsistent, bounded } from "./helpers.ts"

// ---------------------------------------------------------------------------
// the two executors, seen through one adapter
// ---------------------------------------------------------------------------

interface Pool<T> {
  readonly submit: (task: T) => Effect.Effect<Future.Future<unknown, unknown>, unknown>
  readonly map: (tasks: ReadonlyArray<T>, options?: MapOptions) => Stream.Stream<unknown, unknown>
  readonly stats: Effect.Effect<Stats>
}

/** A task that marks when it starts, finishes only when released, and marks when it is interrupted. */
interface Tracked<T> {
  readonly task: T
  readonly started: Effect.Effect<void>
  readonly hasStarted: Effect.Effect<boolean>
  readonly finalized: Effect.Effect<boolean>
  readonly release: Effect.Effect<void>
  /** What it succeeds with. */
  readonly value: () => unknown
}

interface Adapter<T> {
  readonly name: string
  readonly it: Vitest.Vitest.Tester<Scope.Scope>
  /** Yields swept: 0..K. */
  readonly K: number
  readonly make: (o: { maxWorkers: number; maxQueue?: number }) => Effect.Effect<Pool<T>, unknown, Scope.Scope>
  /** Held until released. */
  readonly gated: Effect.Effect<Tracked<T>>
  /** Released already: runs a few steps and succeeds. */
  readonly tracked: Effect.Effect<Tracked<T>>
  /** Succeeds with `n` after a few steps. */
  readonly quick: (n: number) => T
  /** Fails after a few steps. */
  readonly failing: T
  /** Interrupts itself after a few steps (`k` of them where it can). */
  readonly selfInterrupt: (k: number) => T
  /** Runs an effect so that it yields after every step or two. */
  readonly fine: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Fails the test, naming `label`, if `effect` does not finish. */
  readonly bound: (label: string) => <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Gives other fibers and threads a turn, while polling. */
  readonly pause: Effect.Effect<void>
}

/**
 * Every gate made, so a failing sweep releases them all before its executor's
 * release waits for the tasks (a failed assertion must not turn into a hang).
 */
const openGates: Array<Effect.Effect<void>> = []
const releaseAll = Effect.suspend(() => Effect.forEach(openGates.splice(0), (r) => r, { discard: true }))

/** Makes a pool whose gates are all released when the test's scope closes, before the pool's own release. */
const makePool = <T>(ad: Adapter<T>, o: { maxWorkers: number; maxQueue?: number }) =>
  Effect.tap(ad.make(o), () => Effect.addFinalizer(() => releaseAll))

const yields = (k: number) =>
  Effect.gen(function* () {
    for (let i = 0; i < k; i++) yield* Effect.yieldNow
  })

/** Bounds an in-memory effect by scheduler turns, not time (the I/O sweep runs under TestClock). */
const boundByYields =
  (label: string, turns = 20_000) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.gen(function* () {
      const fiber = yield* Effect.forkChild(effect)
      for (let i = 0; i < turns && fiber.pollUnsafe() === undefined; i++) yield* Effect.yieldNow
      if (fiber.pollUnsafe() === undefined)
        return yield* Effect.die(new Error(`${label}: still running after ${turns} turns`))
      return yield* Fiber.join(fiber)
    })

const ioGated = (preReleased: boolean) =>
  Effect.gen(function* () {
    const started = yield* Deferred.make<void>()
    const gate = yield* Deferred.make<void>()
    const finalized = yield* Deferred.make<void>()
    if (preReleased) yield* Deferred.succeed(gate, undefined)
    const n = Math.random()
    const task: Effect.Effect<unknown, unknown> = Deferred.succeed(started, undefined).pipe(
      Effect.andThen(Effect.yieldNow),
      Effect.andThen(Deferred.await(gate)),
      Effect.andThen(Effect.yieldNow),
      Effect.as(n),
      Effect.onInterrupt(() => Deferred.succeed(finalized, undefined))
    )
    const release = Effect.asVoid(Deferred.succeed(gate, undefined))
    openGates.push(release)
    return {
      task,
      started: Deferred.await(started),
      hasStarted: Deferred.isDone(started),
      finalized: Deferred.isDone(finalized),
      release,
      value: () => n
    } satisfies Tracked<Effect.Effect<unknown, unknown>>
  })

const io: Adapter<Effect.Effect<unknown, unknown>> = {
  name: "IoExecutor",
  it: it.effect,
  K: 40,
  make: (o) =>
    Effect.map(IoExecutor.make({ ...o, name: "sweep-io" }), (ex) => ({
      submit: (task) => ex.submit(task),
      map: (tasks, options) => ex.map(tasks, (t) => t, options),
      stats: ex.stats
    })),
  gated: ioGated(false),
  tracked: ioGated(true),
  quick: (n) => yields(3).pipe(Effect.as(n)),
  failing: yields(2).pipe(Effect.andThen(Effect.fail("boom"))),
  selfInterrupt: (k) => yields(k).pipe(Effect.andThen(Effect.interrupt)),
  fine: (effect) => Effect.provideService(effect, Scheduler.MaxOpsBeforeYield, 3),
  bound: (label) => boundByYields(label),
  pause: Effect.yieldNow
}

type CpuTask = F.MixedPayload

const cpuGated = (preReleased: boolean) =>
  Effect.sync(() => {
    const signal = Gate.make()
    if (preReleased) Gate.set(signal, Gate.RELEASE)
    openGates.push(Gate.release(signal))
    return {
      task: { kind: "hold", signal } as CpuTask,
      started: Gate.awaitStarted(signal),
      hasStarted: Effect.sync(() => Gate.isSet(signal, Gate.STARTED)),
      finalized: Effect.sync(() => Gate.isSet(signal, Gate.INTERRUPTED)),
      release: Gate.release(signal),
      value: () => Gate.get(signal, Gate.THREAD)
    } satisfies Tracked<CpuTask>
  })

const cpu: Adapter<CpuTask> = {
  name: "CpuExecutor",
  it: it.live,
  K: 10,
  make: (o) =>
    Effect.map(
      // all workers warm, so the sweep exercises the executor, not thread start-up
      CpuExecutor.make({
        worker: new URL("../fixtures/faultWorker.ts", import.meta.url),
        ...o,
        minWorkers: o.maxWorkers,
        name: "sweep-cpu"
      }),
      (ex) => ({
        submit: (payload) => ex.submit(F.Mixed, payload),
        map: (payloads, options) => ex.map(F.Mixed, payloads, options),
        stats: ex.stats
      })
    ),
  gated: cpuGated(false),
  tracked: cpuGated(true),
  quick: (n) => ({ kind: "value", n }),
  failing: { kind: "fail" },
  selfInterrupt: () => ({ kind: "interrupt" }),
  fine: (effect) => effect,
  bound: (label) => bounded(label, 10_000),
  pause: Effect.sleep(1)
}

// ---------------------------------------------------------------------------
// invariants
// ---------------------------------------------------------------------------

/** Waits until nothing runs or waits, then checks the counters add up. */
const drained = <T>(ad: Adapter<T>, pool: Pool<T>, label: string) =>
  ad.bound(`${label}: running + queued drain to 0`)(
    Effect.gen(function* () {
      for (;;) {
        const s = yield* pool.stats
        if (s.running + s.prefetched + s.queued === 0) {
          assertConsistent(s, label)
          return s
        }
        yield* ad.pause
      }
    })
  )

/**
 * The pool still runs exactly maxWorkers tasks at once: that many gated
 * tasks all start, one more stays queued, and all complete once released.
 */
const gates = <T>(ad: Adapter<T>, pool: Pool<T>, maxWorkers: number, label: string) =>
  Effect.gen(function* () {
    yield* drained(ad, pool, label)
    const gs = yield* Effect.forEach(Array.from({ length: maxWorkers + 1 }), () => ad.gated)
    const fs = yield* Effect.forEach(gs, (g) => pool.submit(g.task))
    yield* ad.bound(`${label}: ${maxWorkers} tasks start at once`)(
      Effect.forEach(gs.slice(0, maxWorkers), (g) => g.started, { discard: true })
    )
    const s = yield* pool.stats
    assert.strictEqual(s.running, maxWorkers, `${label}: running ${JSON.stringify(s)}`)
    assert.strictEqual(s.queued + s.prefetched, 1, `${label}: waiting ${JSON.stringify(s)}`)
    assert.isFalse(yield* gs[maxWorkers].hasStarted, `${label}: more than maxWorkers tasks started`)
    yield* Effect.forEach(gs, (g) => g.release, { discard: true })
    const values = yield* ad.bound(`${label}: gated tasks complete`)(Effect.forEach(fs, Future.await))
    assert.deepStrictEqual(
      values,
      gs.map((g) => g.value())
    )
    assertConsistent(yield* drained(ad, pool, label), label)
  })

const observers = (f: Future.Future<unknown, unknown>) =>
  (f as unknown as FutureImpl<unknown, unknown>).observers?.length ?? 0

/** Outcome counts of a sweep, reported and checked for coverage. */
interface Tally {
  [outcome: string]: number
}
const tallies: Array<[string, Tally]> = []
const tally = (label: string): Tally => {
  const t: Tally = {}
  tallies.push([label, t])
  return t
}
const count = (t: Tally, outcome: string) => {
  t[outcome] = (t[outcome] ?? 0) + 1
}

afterAll(() => {
  if (tallies.length === 0) return
  console.log("interruption sweeps: outcomes per k")
  console.table(Object.fromEntries(tallies.map(([label, t]) => [label, JSON.stringify(t)])))
})

// ---------------------------------------------------------------------------
// sweeps
// ---------------------------------------------------------------------------

const sweeps = <T>(ad: Adapter<T>) =>
  describe(`${ad.name} interruption sweeps`, () => {
    ad.it(
      "submit - interrupting the submitter at every yield (a slot is free)",
      () =>
        Effect.gen(function* () {
          const pool = yield* makePool(ad, { maxWorkers: 2 })
          const t = tally(`${ad.name} submit (fast path)`)
          for (let k = 0; k <= ad.K; k++) {
            const label = `submit k=${k}`
            const before = (yield* pool.stats).submitted
            const g = yield* ad.gated
            const submitter = yield* Effect.forkChild(ad.fine(pool.submit(g.task)))
            yield* yields(k)
            yield* ad.bound(`${label}: interrupt`)(Fiber.interrupt(submitter))
            const exit = yield* Fiber.await(submitter)
            const admitted = (yield* pool.stats).submitted - before
            if (Exit.isSuccess(exit)) {
              count(t, "submitted")
              assert.strictEqual(admitted, 1, label)
              yield* g.release
              assert.strictEqual(yield* ad.bound(label)(Future.await(exit.value)), g.value())
            } else {
              assert.isTrue(Cause.hasInterruptsOnly(exit.cause), `${label}: ${String(exit.cause)}`)
              // admitted just before the interruption: the task runs on, unowned, to its end
              count(t, admitted === 1 ? "interrupted after admission" : "interrupted before admission")
              assert.include([0, 1], admitted)
              yield* g.release
              yield* drained(ad, pool, label)
              if (admitted === 0) assert.isFalse(yield* g.hasStarted, `${label}: a task not admitted started`)
            }
            yield* gates(ad, pool, 2, label)
          }
          assert.isAbove(t["submitted"] ?? 0, 0, "the sweep reached a completed submit")
        }),
      60_000
    )

    ad.it(
      "submit - interrupting a submitter suspended on a full queue while room frees",
      () =>
        Effect.gen(function* () {
          const pool = yield* makePool(ad, { maxWorkers: 1, maxQueue: 1 })
          const t = tally(`${ad.name} submit (suspended)`)
          for (let k = 0; k <= ad.K; k++) {
            const label = `suspended submit k=${k}`
            const running = yield* ad.gated
            const queued = yield* ad.gated
            const fRunning = yield* pool.submit(running.task)
            const fQueued = yield* pool.submit(queued.task)
            yield* ad.bound(label)(running.started)
            const before = (yield* pool.stats).submitted
            const x = yield* ad.gated
            const submitter = yield* Effect.forkChild(ad.fine(pool.submit(x.task)))
            // room frees (the running task ends, the queued one starts) while the sweep goes on
            const releaser = yield* Effect.forkChild(ad.fine(Effect.andThen(yields(3), running.release)))
            yield* yields(k)
            yield* ad.bound(`${label}: interrupt`)(Fiber.interrupt(submitter))
            yield* ad.bound(`${label}: releaser`)(Fiber.join(releaser))
            const exit = yield* Fiber.await(submitter)
            const admitted = (yield* pool.stats).submitted - before
            if (Exit.isSuccess(exit)) {
              count(t, "submitted")
              assert.strictEqual(admitted, 1, label)
            } else {
              assert.isTrue(Cause.hasInterruptsOnly(exit.cause), `${label}: ${String(exit.cause)}`)
              count(t, admitted === 1 ? "interrupted after admission" : "interrupted while waiting")
              assert.include([0, 1], admitted)
            }
            yield* Effect.forEach([running, queued, x], (g) => g.release, { discard: true })
            assert.strictEqual(yield* ad.bound(label)(Future.await(fRunning)), running.value())
            assert.strictEqual(yield* ad.bound(label)(Future.await(fQueued)), queued.value())
            if (Exit.isSuccess(exit)) assert.strictEqual(yield* ad.bound(label)(Future.await(exit.value)), x.value())
            yield* drained(ad, pool, label)
            if (admitted === 0) assert.isFalse(yield* x.hasStarted, `${label}: a task not admitted started`)
            // the queue's room is intact: 1 runs, 1 waits, the next submitter suspends until room frees
            yield* gates(ad, pool, 1, label)
            const g1 = yield* ad.gated
            const g2 = yield* ad.gated
            const g3 = yield* ad.gated
            const fs = [yield* pool.submit(g1.task), yield* pool.submit(g2.task)]
            yield* ad.bound(label)(g1.started)
            const third = yield* Effect.forkChild(pool.submit(g3.task))
            yield* yields(5)
            assert.isUndefined(third.pollUnsafe(), `${label}: a submit did not wait for room in a full queue`)
            yield* Effect.forEach([g1, g2, g3], (g) => g.release, { discard: true })
            const f3 = yield* ad.bound(label)(Fiber.join(third))
            yield* ad.bound(label)(Effect.forEach([...fs, f3], Future.await))
            yield* drained(ad, pool, label)
          }
          if (ad.name === "IoExecutor") {
            // deterministic here (the CPU executor's room frees on a worker's reply, in real time)
            assert.isAbove(t["submitted"] ?? 0, 0, "the sweep reached a submit admitted when room freed")
            assert.isAbove(t["interrupted while waiting"] ?? 0, 0, "the sweep interrupted a waiting submitter")
          }
        }),
      60_000
    )

    ad.it(
      "dispatch - cancelling a queued task, or interrupting its awaiter, as a slot frees",
      () =>
        Effect.gen(function* () {
          const pool = yield* makePool(ad, { maxWorkers: 1 })
          const tc = tally(`${ad.name} dispatch (cancel the task)`)
          const ta = tally(`${ad.name} dispatch (interrupt the awaiter)`)
          for (const target of ["task", "awaiter"] as const) {
            for (let k = 0; k <= ad.K; k++) {
              const label = `dispatch/${target} k=${k}`
              const blocker = yield* ad.gated
              const fBlocker = yield* pool.submit(blocker.task)
              yield* ad.bound(label)(blocker.started)
              const x = yield* ad.tracked
              const fx = yield* pool.submit(x.task)
              assert.strictEqual(Future.stateUnsafe(fx), "pending")
              const awaiter = yield* Effect.forkChild(ad.fine(Future.await(fx)))
              yield* Effect.forkChild(ad.fine(blocker.release))
              yield* yields(k)
              if (target === "task") {
                const cancelled = yield* ad.bound(`${label}: cancel`)(ad.fine(Future.cancel(fx)))
                const state = Future.stateUnsafe(fx)
                count(tc, `${state}${(yield* x.hasStarted) ? " after starting" : " before starting"}`)
                assert.strictEqual(cancelled, state === "cancelled", `${label}: cancel() said ${cancelled}, ${state}`)
                const awaited = yield* ad.bound(label)(Fiber.await(awaiter))
                if (cancelled) {
                  const error = Exit.isFailure(awaited) ? Cause.findError(awaited.cause) : undefined
                  assert.isTrue(
                    error?._tag === "Success" && error.success instanceof CancelledError,
                    `${label}: ${String(awaited)}`
                  )
                  // stopped while running: its interruption handler ran
                  if (yield* x.hasStarted) {
                    yield* ad.bound(`${label}: finalizer`)(
                      Effect.gen(function* () {
                        while (!(yield* x.finalized)) yield* ad.pause
                      })
                    )
                  }
                } else {
                  assert.strictEqual(state, "succeeded", label)
                  assert.deepStrictEqual(awaited, Exit.succeed(x.value()))
                }
              } else {
                yield* ad.bound(`${label}: interrupt`)(Fiber.interrupt(awaiter))
                // the task is not affected by its awaiter going away
                assert.strictEqual(yield* ad.bound(label)(Future.await(fx)), x.value())
                count(ta, "task succeeded")
              }
              assert.strictEqual(yield* ad.bound(label)(Future.await(fBlocker)), blocker.value())
              const s = yield* drained(ad, pool, label)
              if (!(yield* x.hasStarted)) assert.strictEqual(Future.stateUnsafe(fx), "cancelled", label)
              assertConsistent(s, label)
              yield* gates(ad, pool, 1, label)
            }
          }
          if (ad.name === "IoExecutor") {
            // the sweep covered both sides of the dispatch
            assert.isAbove(tc["cancelled before starting"] ?? 0, 0)
            assert.isAbove(tc["succeeded after starting"] ?? 0, 0)
          }
        }),
      60_000
    )

    ad.it(
      "settle - cancelling a task, or interrupting its awaiter, while it completes; done-callbacks run once",
      () =>
        Effect.gen(function* () {
          const pool = yield* makePool(ad, { maxWorkers: 2 })
          const t = tally(`${ad.name} settle (cancel the task)`)
          for (const target of ["task", "awaiter"] as const) {
            for (let k = 0; k <= ad.K; k++) {
              const label = `settle/${target} k=${k}`
              const x = yield* ad.tracked
              const fx = yield* pool.submit(x.task)
              let calls = 0
              yield* Future.addDoneCallback(fx, () =>
                Effect.sync(() => {
                  calls++
                })
              )
              const awaiter = yield* Effect.forkChild(ad.fine(Future.exit(fx)))
              yield* yields(k)
              if (target === "task") {
                const cancelled = yield* ad.bound(`${label}: cancel`)(ad.fine(Future.cancel(fx)))
                const state = Future.stateUnsafe(fx)
                count(t, state)
                assert.strictEqual(cancelled, state === "cancelled", label)
                if (!cancelled) assert.strictEqual(yield* Future.await(fx), x.value())
                assert.deepStrictEqual(yield* ad.bound(label)(Fiber.join(awaiter)), yield* Future.exit(fx))
              } else {
                yield* ad.bound(`${label}: interrupt`)(Fiber.interrupt(awaiter))
                assert.strictEqual(yield* ad.bound(label)(Future.await(fx)), x.value())
              }
              yield* ad.bound(`${label}: done callback`)(
                Effect.gen(function* () {
                  while (calls === 0) yield* ad.pause
                })
              )
              yield* yields(3)
              assert.strictEqual(calls, 1, `${label}: done callback ran ${calls} times`)
              yield* gates(ad, pool, 2, label)
            }
          }
        }),
      60_000
    )

    ad.it(
      "wait / asCompleted - interrupting the waiter, or cancelling a task it waits for, at every yield",
      () =>
        Effect.gen(function* () {
          const pool = yield* makePool(ad, { maxWorkers: 3 })
          const t = tally(`${ad.name} wait/asCompleted`)
          type Waiter = "wait ALL" | "wait FIRST_COMPLETED" | "wait FIRST_EXCEPTION" | "asCompleted"
          const waiters: ReadonlyArray<Waiter> = [
            "wait ALL",
            "wait FIRST_COMPLETED",
            "wait FIRST_EXCEPTION",
            "asCompleted"
          ]
          const run = (w: Waiter, fs: ReadonlyArray<Future.Future<unknown, unknown>>) =>
            w === "asCompleted"
              ? Effect.map(Stream.runCollect(Future.asCompleted(fs)), (out) => out.length)
              : Effect.map(
                  Future.wait(fs, {
                    returnWhen:
                      w === "wait ALL"
                        ? "ALL_COMPLETED"
                        : w === "wait FIRST_COMPLETED"
                          ? "FIRST_COMPLETED"
                          : "FIRST_EXCEPTION"
                  }),
                  (r) => r.done.size
                )
          for (const w of waiters) {
            for (const target of ["waiter", "task"] as const) {
              for (let k = 0; k <= ad.K; k++) {
                const label = `${w}/${target} k=${k}`
                const z = yield* ad.gated
                const fs = [yield* pool.submit(ad.quick(7)), yield* pool.submit(ad.failing), yield* pool.submit(z.task)]
                const waiter = yield* Effect.forkChild(ad.fine(run(w, fs)))
                yield* yields(k)
                if (target === "waiter") {
                  yield* ad.bound(`${label}: interrupt`)(Fiber.interrupt(waiter))
                  const exit = yield* Fiber.await(waiter)
                  count(t, `${w} ${Exit.isSuccess(exit) ? "returned" : "interrupted"}`)
                  // the held task cannot be done: ALL_COMPLETED and asCompleted never return before it
                  if (w === "wait ALL" || w === "asCompleted") assert.isTrue(Exit.isFailure(exit), label)
                  if (Exit.isSuccess(exit) && w === "wait FIRST_EXCEPTION") {
                    assert.strictEqual(Future.stateUnsafe(fs[1]), "failed", label)
                  }
                  // the waiter left nothing registered on the future still running
                  assert.strictEqual(observers(fs[2]), 0, `${label}: observers left on a pending future`)
                } else {
                  assert.isTrue(yield* ad.bound(`${label}: cancel`)(Future.cancel(fs[2])))
                  // every waiter returns once the held task is cancelled
                  const done = yield* ad.bound(`${label}: the waiter returns`)(Fiber.join(waiter))
                  if (w === "wait ALL" || w === "asCompleted") assert.strictEqual(done, 3, label)
                  else assert.isAtLeast(done, 1, label)
                  count(t, `${w} returned after cancel`)
                }
                yield* z.release
                const exits = yield* ad.bound(label)(Effect.forEach(fs, Future.exit))
                assert.deepStrictEqual(exits[0], Exit.succeed(7), label)
                assert.isTrue(Exit.isFailure(exits[1]), label)
                assert.strictEqual(Future.stateUnsafe(fs[2]), target === "task" ? "cancelled" : "succeeded", label)
                for (const f of fs) assert.strictEqual(observers(f), 0)
                yield* gates(ad, pool, 3, label)
              }
            }
          }
        }),
      60_000
    )

    ad.it(
      "map - interrupting the consuming fiber at every yield cancels every unfinished task it submitted",
      () =>
        Effect.gen(function* () {
          const pool = yield* makePool(ad, { maxWorkers: 2 })
          const t = tally(`${ad.name} map`)
          for (const buffersize of [undefined, 1]) {
            for (let k = 0; k <= ad.K; k++) {
              const label = `map buffersize=${buffersize} k=${k}`
              const held = yield* Effect.forEach([1, 2, 3], () => ad.gated)
              const consumer = yield* Effect.forkChild(
                ad.fine(
                  Stream.runCollect(
                    pool.map(
                      held.map((g) => g.task),
                      buffersize === undefined ? undefined : { buffersize }
                    )
                  )
                )
              )
              yield* yields(k)
              // let the first task finish: the stream emits it while the sweep goes on
              yield* held[0].release
              yield* ad.bound(`${label}: interrupt`)(Fiber.interrupt(consumer))
              // the stream's finalizer has cancelled (and stopped) what it submitted
              const s = yield* pool.stats
              assert.strictEqual(s.running + s.prefetched + s.queued, 0, `${label}: left running ${JSON.stringify(s)}`)
              assertConsistent(s, label)
              for (const g of held.slice(1)) {
                if (yield* g.hasStarted) {
                  assert.isTrue(yield* g.finalized, `${label}: a started task was cancelled without its finalizer`)
                }
              }
              count(t, `${(yield* Fiber.await(consumer))._tag}, ${s.cancelled} cancelled so far`)
              yield* Effect.forEach(held, (g) => g.release, { discard: true })
              yield* gates(ad, pool, 2, label)
            }
          }
        }),
      60_000
    )

    ad.it(
      "map - a task that interrupts itself fails the stream with CancelledError and cancels the rest",
      () =>
        Effect.gen(function* () {
          const pool = yield* makePool(ad, { maxWorkers: 2 })
          for (let k = 0; k <= Math.min(ad.K, 10); k++) {
            const label = `map self-interrupt k=${k}`
            const held = yield* ad.gated
            const error = yield* ad.bound(label)(
              Effect.flip(Stream.runCollect(pool.map([ad.quick(1), ad.selfInterrupt(k), held.task])))
            )
            assert.instanceOf(error, CancelledError, label)
            const s = yield* pool.stats
            assert.strictEqual(s.running + s.prefetched + s.queued, 0, `${label}: ${JSON.stringify(s)}`)
            if (yield* held.hasStarted) assert.isTrue(yield* held.finalized, label)
            yield* held.release
            yield* gates(ad, pool, 2, label)
          }
        }),
      60_000
    )
  })

describe("regressions found by the sweeps", () => {
  it.effect("wait - returning early (FIRST_COMPLETED) stops observing the futures still pending", () =>
    Effect.gen(function* () {
      const ex = yield* IoExecutor.make({ maxWorkers: 2 })
      const gate = yield* Deferred.make<void>()
      const never = yield* ex.submit(Effect.never)
      yield* Effect.addFinalizer(() => Future.cancel(never))
      const later = yield* ex.submit(Deferred.await(gate))
      for (let i = 0; i < 3; i++) {
        const waiter = yield* Effect.forkChild(Future.wait([never, later], { returnWhen: "FIRST_COMPLETED" }))
        yield* Effect.yieldNow
        if (i === 2) yield* Deferred.succeed(gate, undefined)
        else yield* Fiber.interrupt(waiter)
        if (i === 2) assert.strictEqual((yield* Fiber.join(waiter)).done.size, 1)
        // before the fix, each early return left one observer behind on `never`
        assert.strictEqual(observers(never), 0, `round ${i}`)
      }
    })
  )
})

sweeps(io)
sweeps(cpu)
