// Fault injection for the CPU executor (issue 6). For each fault, another
// task is in flight on another worker and more tasks are queued behind the
// fault: only the faulting task's future fails, with the expected typed
// error; every other task completes with its value; and the time from the
// fault to the pool's next completed task on a replacement worker is measured
// with the real clock (printed as a table at the end of the file's run).
//
// "Killed from outside" uses test/reliability/workerTap.ts to reach the
// executor's Worker objects and call `terminate()` on one, as a supervisor
// would.
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as CpuExecutor from "../../src/CpuExecutor.ts"
import { CancelledError, WorkerCrashedError } from "../../src/ExecutorError.ts"
import * as Future from "../../src/Future.ts"
import * as F from "../fixtures/faults.ts"
import * as Gate from "../fixtures/gate.ts"
import { assertConsistent, bounded, eventually, failureOf, median } from "./helpers.ts"
import * as Tap from "./workerTap.ts"

Tap.install()

const worker = new URL("../fixtures/faultWorker.ts", import.meta.url)

/** Runs per fault; the report uses their median. */
const RUNS = Number(process.env.FAULT_RUNS ?? 3)

interface Measure {
  /** fault → its future settled (the executor noticed) */
  readonly detectMs: number
  /** fault → the first task completed on a replacement worker */
  readonly recoverMs: number
}
const measured = new Map<string, Array<Measure>>()

afterAll(() => {
  Tap.uninstall()
  if (measured.size === 0) return
  const rows = Array.from(measured, ([fault, ms]) => ({
    fault,
    runs: ms.length,
    "detect ms (median)": +median(ms.map((m) => m.detectMs)).toFixed(1),
    "recover ms (median)": +median(ms.map((m) => m.recoverMs)).toFixed(1),
    "recover ms (all)": ms.map((m) => m.recoverMs.toFixed(1)).join(", ")
  }))
  console.log("CPU executor: recovery after a fault (real clock)")
  console.table(rows)
})

interface Context {
  readonly ex: CpuExecutor.CpuExecutorShape
  readonly signal: Gate.Gate
  readonly future: Future.Future<unknown, unknown>
}

interface FaultCase {
  readonly name: string
  readonly options?: Partial<CpuExecutor.Options>
  /** Submits the faulting task (it marks STARTED on its worker). */
  readonly submit: (ex: CpuExecutor.CpuExecutorShape, signal: Gate.Gate) => Effect.Effect<any, any>
  /** Triggers the fault from the test if it needs to; returns a getter of the fault's time (epoch ms). */
  readonly trigger: (c: Context) => Effect.Effect<() => number>
  /** Checks the faulting future's failure. */
  readonly expect: (exit: Exit.Exit<unknown, unknown>, c: Context & { readonly faultThread: number }) => void
  readonly outcome: "failed" | "cancelled"
  /** Whether the fault counts as a crash in stats. */
  readonly crash: boolean
}

const faultTime = (signal: Gate.Gate) => () => Gate.times(signal)[Gate.FAULT_AT]

const crashed = (exit: Exit.Exit<unknown, unknown>): WorkerCrashedError => {
  const error = failureOf(exit, "(worker crash)")
  assert.instanceOf(error, WorkerCrashedError)
  assert.strictEqual(error._tag, "WorkerCrashedError")
  assert.isNumber(error.workerId)
  return error
}

const faultCases: ReadonlyArray<FaultCase> = [
  {
    name: "process.exit in a handler",
    submit: (ex, signal) => ex.submit(F.Fault, { kind: "exit", signal }),
    trigger: (c) => Effect.succeed(faultTime(c.signal)),
    expect: (exit) => {
      const error = crashed(exit)
      assert.strictEqual(error.exitCode, F.EXIT_CODE)
      assert.strictEqual(error.reason, `exited with code ${F.EXIT_CODE}`)
    },
    outcome: "failed",
    crash: true
  },
  {
    name: "uncaught exception thrown asynchronously",
    submit: (ex, signal) => ex.submit(F.Fault, { kind: "throw-async", signal }),
    trigger: (c) => Effect.succeed(faultTime(c.signal)),
    expect: (exit) => {
      const error = crashed(exit)
      assert.strictEqual(error.reason, "Error: async boom")
      assert.strictEqual(error.exitCode, 1)
    },
    outcome: "failed",
    crash: true
  },
  {
    name: "out of memory under resourceLimits",
    options: { resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 } },
    submit: (ex, signal) => ex.submit(F.Fault, { kind: "oom", signal }),
    trigger: (c) => Effect.succeed(faultTime(c.signal)),
    expect: (exit) => {
      const error = crashed(exit)
      assert.match(error.reason, /memory/i)
      assert.strictEqual(error.exitCode, 1)
    },
    outcome: "failed",
    crash: true
  },
  {
    name: "synchronous infinite loop, cancelled",
    submit: (ex, signal) => ex.submit(F.Fault, { kind: "loop", signal }),
    trigger: (c) =>
      Effect.gen(function* () {
        const at = Gate.now()
        // cancel returns true only once the worker is really gone
        assert.isTrue(yield* bounded("cancel of a synchronous loop")(Future.cancel(c.future)))
        return () => at
      }),
    expect: (exit, c) => {
      const error = failureOf(exit, "(cancelled)")
      assert.instanceOf(error, CancelledError)
      assert.strictEqual(error.futureId, (c.future as any).id)
    },
    outcome: "cancelled",
    crash: false
  },
  {
    name: "synchronous infinite loop, timed out (200 ms)",
    submit: (ex, signal) => ex.submit(F.Fault, { kind: "loop", signal }, { timeout: 200 }),
    // the deadline: when the task started (in its worker) plus the timeout
    trigger: (c) => Effect.succeed(() => Gate.times(c.signal)[Gate.STARTED_AT] + 200),
    expect: (exit) => {
      const error = failureOf(exit, "(timed out)")
      assert.isTrue(Cause.isTimeoutError(error), String(error))
      assert.strictEqual(error._tag, "TimeoutError")
    },
    outcome: "failed",
    crash: false
  },
  {
    name: "worker killed from outside (Worker.terminate)",
    submit: (ex, signal) => ex.submit(F.Hold, signal),
    trigger: (c) =>
      Effect.gen(function* () {
        const tapped = Tap.byThread(Gate.get(c.signal, Gate.THREAD))
        assert.isDefined(tapped, "the worker running the task was found")
        const at = Gate.now()
        yield* Effect.promise(() => tapped!.worker.terminate())
        return () => at
      }),
    expect: (exit) => {
      const error = crashed(exit)
      assert.strictEqual(error.exitCode, 1)
      assert.strictEqual(error.reason, "exited with code 1")
    },
    outcome: "failed",
    crash: true
  }
]

/** Threads created by the executor under test that are still alive. */
const aliveSince = (before: number) =>
  Tap.all()
    .slice(before)
    .filter((t) => !t.exited).length

const runOnce = (c: FaultCase) =>
  Effect.gen(function* () {
    const tapBefore = Tap.all().length
    const scope = yield* Scope.make()
    const ex = yield* CpuExecutor.make({
      worker,
      maxWorkers: 2,
      minWorkers: 2,
      cancelGracePeriod: 50,
      ...c.options
    }).pipe(Scope.provide(scope))

    // another task in flight, on the other worker
    const hold = Gate.make()
    const fHold = yield* ex.submit(F.Hold, hold)
    yield* bounded("hold started")(Gate.awaitStarted(hold))
    const holdThread = Gate.get(hold, Gate.THREAD)

    const signal = Gate.make()
    const future = yield* c.submit(ex, signal)
    yield* bounded("fault started")(Gate.awaitStarted(signal))
    const faultThread = Gate.get(signal, Gate.THREAD)
    assert.notStrictEqual(faultThread, holdThread)

    const ctx: Context = { ex, signal, future }
    const faultAt = yield* c.trigger(ctx)
    // queued behind the fault: both workers are busy, so they run on the replacement
    const probe = yield* ex.submit(F.WhoAmI, null)
    const queued = yield* Effect.forEach([1, 2, 3], (x) => ex.submit(F.Scale, { x, times: 10 }))

    const exit = yield* bounded(`${c.name}: the faulting future settles`)(Future.exit(future))
    const detectedAt = Gate.now()
    c.expect(exit, { ...ctx, faultThread })
    assert.strictEqual(Future.stateUnsafe(future), c.outcome)

    const probeThread = yield* bounded(`${c.name}: a task completes on a replacement`)(Future.await(probe))
    const recoveredAt = Gate.now()
    assert.notStrictEqual(probeThread, holdThread, "the probe ran on a replacement, not the busy worker")
    assert.notStrictEqual(probeThread, faultThread, "the probe ran on a replacement, not the dead worker")
    assert.deepStrictEqual(yield* bounded("queued tasks")(Effect.forEach(queued, Future.await)), [10, 20, 30])

    // the task on the other worker was untouched and completes normally
    assert.strictEqual(Future.stateUnsafe(fHold), "running")
    assert.strictEqual(Gate.get(hold, Gate.INTERRUPTED), 0)
    yield* Gate.release(hold)
    assert.strictEqual(yield* bounded("hold completes")(Future.await(fHold)), holdThread)

    const s = yield* ex.stats
    assertConsistent(s, c.name)
    assert.strictEqual(s.submitted, 6)
    assert.strictEqual(s.succeeded, 5)
    assert.strictEqual(s.failed, c.outcome === "failed" ? 1 : 0)
    assert.strictEqual(s.cancelled, c.outcome === "cancelled" ? 1 : 0)
    assert.strictEqual(s.crashes, c.crash ? 1 : 0)
    assert.strictEqual(s.running + s.prefetched + s.queued, 0)

    yield* bounded("release")(Scope.close(scope, Exit.void))
    assert.strictEqual(aliveSince(tapBefore), 0, "every worker thread of the executor has exited")
    const t0 = faultAt()
    assert.isTrue(Number.isFinite(t0) && t0 > 0, "the fault time was recorded")
    return { detectMs: detectedAt - t0, recoverMs: recoveredAt - t0 } satisfies Measure
  })

describe("CpuExecutor faults", () => {
  for (const c of faultCases) {
    it.live(
      `fault - ${c.name}: only its future fails, others complete, a replacement serves the queue`,
      () =>
        Effect.gen(function* () {
          const runs: Array<Measure> = []
          for (let i = 0; i < RUNS; i++) runs.push(yield* runOnce(c))
          measured.set(c.name, runs)
        }),
      60_000
    )
  }

  it.live(
    "fault - a failing initializer breaks the executor; the task running on a healthy worker finishes",
    () =>
      Effect.gen(function* () {
        const tapBefore = Tap.all().length
        const scope = yield* Scope.make()
        const initCounter = Gate.counter()
        const ex = yield* CpuExecutor.make({
          worker,
          maxWorkers: 2,
          workerData: { initCounter, allowed: 1 } satisfies F.FaultWorkerData
        }).pipe(Scope.provide(scope))
        const hold = Gate.make()
        const fHold = yield* ex.submit(F.Hold, hold)
        yield* bounded("hold started")(Gate.awaitStarted(hold))
        // needs a second worker, whose initializer fails
        const fQueued = yield* ex.submit(F.Scale, { x: 1, times: 2 })
        const error = failureOf(yield* bounded("queued task fails")(Future.exit(fQueued)), "(broken)")
        assert.strictEqual(error._tag, "BrokenExecutorError")
        assert.strictEqual(error.reason, "initializer failed")
        assert.strictEqual((error.cause as Error).message, "initializer of worker #2 refused")
        const rejected = yield* Effect.flip(ex.submit(F.WhoAmI, null))
        assert.strictEqual(rejected._tag, "BrokenExecutorError")
        // running tasks go on
        assert.strictEqual(Future.stateUnsafe(fHold), "running")
        yield* Gate.release(hold)
        assert.strictEqual(yield* bounded("hold")(Future.await(fHold)), Gate.get(hold, Gate.THREAD))
        const s = yield* ex.stats
        assertConsistent(s)
        assert.deepStrictEqual([s.succeeded, s.failed, s.running, s.queued], [1, 1, 0, 0])
        // a broken executor closes its last worker once it is idle, without waiting for release
        yield* eventually(
          "threads close",
          Effect.sync(() => aliveSince(tapBefore) === 0)
        )
        yield* bounded("release")(Scope.close(scope, Exit.void))
        assert.strictEqual(Tap.all().length - tapBefore, 2, "no worker was started after the executor broke")
      }),
    30_000
  )

  it.live(
    "fault - a worker entry that throws at load breaks the executor instead of restarting it",
    () =>
      Effect.gen(function* () {
        const tapBefore = Tap.all().length
        const scope = yield* Scope.make()
        const ex = yield* CpuExecutor.make({
          worker,
          maxWorkers: 2,
          workerData: { throwAtLoad: true } satisfies F.FaultWorkerData
        }).pipe(Scope.provide(scope))
        const fs = yield* Effect.forEach([1, 2, 3], (x) => ex.submit(F.Scale, { x, times: 1 }))
        for (const f of fs) {
          const error = failureOf(yield* bounded("broken")(Future.exit(f)), "(load failure)")
          assert.strictEqual(error._tag, "BrokenExecutorError")
          assert.match(error.reason, /exited during startup \(exit code 1\)/)
          assert.strictEqual((error.cause as Error).message, "fault worker refused to load")
        }
        assert.strictEqual((yield* Effect.flip(ex.submit(F.WhoAmI, null)))._tag, "BrokenExecutorError")
        yield* eventually(
          "threads exit",
          Effect.sync(() => aliveSince(tapBefore) === 0)
        )
        yield* bounded("release")(Scope.close(scope, Exit.void))
        assert.isAtMost(Tap.all().length - tapBefore, 2, "one start per worker slot, no retries")
      }),
    30_000
  )

  it.live(
    "fault - a crash loop (a poison task resubmitted) breaks the executor after maxCrashes; others finish",
    () =>
      Effect.gen(function* () {
        const tapBefore = Tap.all().length
        const scope = yield* Scope.make()
        const ex = yield* CpuExecutor.make({ worker, maxWorkers: 2, maxCrashes: 2 }).pipe(Scope.provide(scope))
        const hold = Gate.make()
        const fHold = yield* ex.submit(F.Hold, hold)
        yield* bounded("hold started")(Gate.awaitStarted(hold))
        const crashAt: Array<number> = []
        let behind: Future.Future<number, unknown> | undefined
        for (let i = 1; i <= 3; i++) {
          const signal = Gate.make()
          const f = yield* ex.submit(F.Fault, { kind: "exit", signal })
          // on the last round, a task waits behind the crash: the break fails it
          if (i === 3) behind = yield* ex.submit(F.Scale, { x: 1, times: 1 })
          const error = crashed(yield* bounded(`crash ${i}`)(Future.exit(f)))
          assert.strictEqual(error.exitCode, F.EXIT_CODE)
          crashAt.push(Gate.times(signal)[Gate.FAULT_AT])
        }
        const broken = failureOf(yield* bounded("behind")(Future.exit(behind!)), "(queued at the break)")
        assert.strictEqual(broken._tag, "BrokenExecutorError")
        assert.match(broken.reason, /3 worker crashes within 60000 ms \(maxCrashes 2\)/)
        const rejected = yield* Effect.flip(ex.submit(F.WhoAmI, null))
        assert.strictEqual(rejected._tag, "BrokenExecutorError")
        // the backoff grew between the replacements (25 ms, then 50 ms)
        assert.isAtLeast(crashAt[2] - crashAt[1], 50)
        // the healthy worker's task finishes
        yield* Gate.release(hold)
        assert.strictEqual(yield* bounded("hold")(Future.await(fHold)), Gate.get(hold, Gate.THREAD))
        const s = yield* ex.stats
        assertConsistent(s)
        assert.deepStrictEqual([s.crashes, s.restarts, s.succeeded, s.failed], [3, 2, 1, 4])
        yield* eventually(
          "threads close",
          Effect.sync(() => aliveSince(tapBefore) === 0)
        )
        // hold's worker + 3 crashing workers, and nothing started after the break
        assert.strictEqual(Tap.all().length - tapBefore, 4)
        yield* bounded("release")(Scope.close(scope, Exit.void))
      }),
    30_000
  )

  it.live(
    "fault - workers that die on their own right after starting (minWorkers) break the executor, not spin",
    () =>
      Effect.gen(function* () {
        const tapBefore = Tap.all().length
        const scope = yield* Scope.make()
        const ex = yield* CpuExecutor.make({
          worker,
          maxWorkers: 1,
          minWorkers: 1,
          maxCrashes: 2,
          workerData: { exitAfterReady: 20 } satisfies F.FaultWorkerData
        }).pipe(Scope.provide(scope))
        yield* eventually(
          "three crashes",
          Effect.map(ex.stats, (s) => s.crashes >= 3)
        )
        const rejected: any = yield* Effect.flip(ex.submit(F.WhoAmI, null))
        assert.strictEqual(rejected._tag, "BrokenExecutorError")
        assert.match(rejected.reason, /maxCrashes 2/)
        yield* eventually(
          "threads exit",
          Effect.sync(() => aliveSince(tapBefore) === 0)
        )
        const s = yield* ex.stats
        assert.deepStrictEqual([s.crashes, s.restarts, s.threads, s.submitted], [3, 2, 0, 0])
        assert.strictEqual(Tap.all().length - tapBefore, 3, "no worker was started after the executor broke")
        yield* bounded("release")(Scope.close(scope, Exit.void))
      }),
    30_000
  )
})
