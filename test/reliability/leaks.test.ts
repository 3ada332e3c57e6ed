// Leak checks (issue 6): once an executor's layer is released, after normal
// work, crashes, cancelled synchronous loops, shutdown({ cancelFutures }), a
// broken executor, or a release while workers are still starting or waiting
// out a restart backoff, nothing it created remains:
// - no active resource that was not there before (threads' ports, timers,
//   sockets: `process.getActiveResourcesInfo()` compared as multisets, the
//   baseline taken in the same test);
// - no process listener added;
// - no executor timer still sleeping (a counting Clock is provided to the
//   layer, so every timeout, grace period, idle timer and backoff is seen);
// - every Worker it created has exited (workerTap.ts).
// And a child process using both executors exits on its own, with code 0.
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import * as CpuExecutor from "../../src/CpuExecutor.ts"
import * as Future from "../../src/Future.ts"
import * as IoExecutor from "../../src/IoExecutor.ts"
import * as F from "../fixtures/faults.ts"
import * as Gate from "../fixtures/gate.ts"
import { assertConsistent, bounded, eventually, failureOf } from "./helpers.ts"
import { countingClock, leaks, snapshot } from "./resources.ts"
import * as Tap from "./workerTap.ts"

Tap.install()
afterAll(() => Tap.uninstall())

const worker = new URL("../fixtures/faultWorker.ts", import.meta.url)

interface Executors {
  readonly io: IoExecutor.IoExecutorShape
  readonly cpu: CpuExecutor.CpuExecutorShape
}

/**
 * Builds both executors' layers in a scope of their own with a counting
 * clock, runs `body`, releases the scope, and checks that nothing remains.
 */
const leakCheck = (
  label: string,
  options: { readonly io?: IoExecutor.Options; readonly cpu?: Partial<CpuExecutor.Options> },
  body: (ex: Executors) => Effect.Effect<void, unknown>
) =>
  Effect.gen(function* () {
    const before = snapshot()
    const tapBefore = Tap.all().length
    const counting = countingClock(yield* Clock.Clock)
    const scope = yield* Scope.make()
    const layer = Layer.mergeAll(
      IoExecutor.layer(options.io ?? { maxWorkers: 4 }),
      CpuExecutor.layer({ worker, maxWorkers: 2, cancelGracePeriod: 30, ...options.cpu })
    )
    yield* Effect.gen(function* () {
      const context = yield* Layer.buildWithScope(layer, scope)
      yield* body({
        io: Context.get(context, IoExecutor.IoExecutor),
        cpu: Context.get(context, CpuExecutor.CpuExecutor)
      })
    }).pipe(
      Effect.provideService(Clock.Clock, counting.clock),
      // released however the body ends, so a failure does not leak into the next test
      Effect.onExit(() => bounded(`${label}: release`)(Scope.close(scope, Exit.void)))
    )

    const created = Tap.all().slice(tapBefore)
    assert.deepStrictEqual(
      created.filter((t) => !t.exited).map((t) => t.threadId),
      [],
      `${label}: worker threads still alive after release`
    )
    assert.strictEqual(counting.active(), 0, `${label}: executor timers still sleeping after release`)
    // a handle Node itself closes just after (seen once, on a loaded machine: one
    // Timeout after a broken executor's release) gets 2 s; a real leak stays.
    // Polled on setImmediate, so that no timer of the check's own is pending
    // while it looks
    let left = leaks(before, snapshot())
    const deadline = Date.now() + 2_000
    while (Object.keys(left).length > 0 && Date.now() < deadline) {
      yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
      left = leaks(before, snapshot())
    }
    assert.deepStrictEqual(left, {}, `${label}: resources or listeners left after release`)
    return created.length
  })

describe("leaks", () => {
  it.live(
    "release - after normal work on both executors (timeouts, map, wait, asCompleted, recycling, idle timers)",
    () =>
      Effect.gen(function* () {
        const threads = yield* leakCheck(
          "normal work",
          { cpu: { minWorkers: 2, maxTasksPerWorker: 3, prefetch: 1, idleTimeout: "1 minute" } },
          ({ cpu, io }) =>
            Effect.gen(function* () {
              const ioFs = yield* Effect.forEach(
                Array.from({ length: 20 }, (_, i) => i),
                (i) => io.submit(Effect.sleep(i % 3).pipe(Effect.as(i)), { timeout: "1 minute" })
              )
              const { notDone } = yield* Future.wait(ioFs, { timeout: "1 minute" })
              assert.strictEqual(notDone.size, 0)
              assert.strictEqual(
                (yield* Stream.runCollect(Future.asCompleted(ioFs, { timeout: "1 minute" }))).length,
                20
              )
              assert.deepStrictEqual(
                yield* Stream.runCollect(io.map([1, 2, 3], (n) => Effect.succeed(n), { timeout: "1 minute" })),
                [1, 2, 3]
              )
              assert.strictEqual(
                (yield* Effect.flip(Future.await(yield* io.submit(Effect.never, { timeout: 5 }))))._tag,
                "TimeoutError"
              )
              const cpuFs = yield* Effect.forEach(
                Array.from({ length: 12 }, (_, x) => x),
                (x) => cpu.submit(F.Scale, { x, times: 3 }, { timeout: "1 minute" })
              )
              assert.deepStrictEqual(
                yield* Effect.forEach(cpuFs, Future.await),
                cpuFs.map((_, x) => x * 3)
              )
              assert.strictEqual(
                (yield* Stream.runCollect(
                  cpu.map(
                    F.Scale,
                    Array.from({ length: 50 }, (_, x) => ({ x, times: 1 })),
                    {
                      chunksize: 8,
                      timeout: "1 minute"
                    }
                  )
                )).length,
                50
              )
              const s = yield* cpu.stats
              assertConsistent(s)
              assert.isAtLeast(s.recycled, 1)
            })
        )
        assert.isAtLeast(threads, 3, "recycling started replacement workers")
      }),
    30_000
  )

  it.live(
    "release - after crashes (exit, uncaught throw, killed from outside) and their replacements",
    () =>
      Effect.gen(function* () {
        yield* leakCheck("crashes", { cpu: { minWorkers: 1, maxCrashes: 10 } }, ({ cpu }) =>
          Effect.gen(function* () {
            for (const kind of ["exit", "throw-async"] as const) {
              const exit = yield* bounded(kind)(Future.exit(yield* cpu.submit(F.Fault, { kind, signal: Gate.make() })))
              assert.strictEqual(failureOf(exit)._tag, "WorkerCrashedError")
            }
            const hold = Gate.make()
            const f = yield* cpu.submit(F.Hold, hold)
            yield* bounded("hold")(Gate.awaitStarted(hold))
            yield* Effect.promise(() => Tap.byThread(Gate.get(hold, Gate.THREAD))!.worker.terminate())
            assert.strictEqual(failureOf(yield* Future.exit(f))._tag, "WorkerCrashedError")
            const replacement = yield* bounded("after")(Future.await(yield* cpu.submit(F.WhoAmI, null)))
            assert.notStrictEqual(replacement, Gate.get(hold, Gate.THREAD))
            assert.strictEqual((yield* cpu.stats).crashes, 3)
          })
        )
      }),
    30_000
  )

  it.live(
    "release - after synchronous loops stopped by cancel and by timeout",
    () =>
      Effect.gen(function* () {
        yield* leakCheck("cancelled loops", { cpu: { maxWorkers: 2 } }, ({ cpu }) =>
          Effect.gen(function* () {
            const loop = Gate.make()
            const f = yield* cpu.submit(F.Fault, { kind: "loop", signal: loop })
            yield* bounded("loop")(Gate.awaitStarted(loop))
            assert.isTrue(yield* bounded("cancel")(Future.cancel(f)))
            const timedOut = yield* cpu.submit(F.Fault, { kind: "loop", signal: Gate.make() }, { timeout: 30 })
            assert.strictEqual(failureOf(yield* bounded("timeout")(Future.exit(timedOut)))._tag, "TimeoutError")
            const s = yield* cpu.stats
            assert.deepStrictEqual([s.cancelled, s.failed, s.crashes], [1, 1, 0])
          })
        )
      }),
    30_000
  )

  it.live(
    "release - after shutdown({ cancelFutures }) with running and queued tasks on both executors",
    () =>
      Effect.gen(function* () {
        yield* leakCheck("shutdown(cancelFutures)", { io: { maxWorkers: 1 }, cpu: { maxWorkers: 1 } }, ({ cpu, io }) =>
          Effect.gen(function* () {
            const gate = yield* Deferred.make<void>()
            const ioRunning = yield* io.submit(Deferred.await(gate).pipe(Effect.as("ran")))
            const ioQueued = yield* Effect.forEach([1, 2, 3], (n) => io.submit(Effect.succeed(n), { timeout: 1000 }))
            const hold = Gate.make()
            const cpuRunning = yield* cpu.submit(F.Hold, hold)
            const cpuQueued = yield* Effect.forEach([1, 2, 3], () => cpu.submit(F.WhoAmI, null, { timeout: 1000 }))
            yield* bounded("hold")(Gate.awaitStarted(hold))
            yield* io.shutdown({ cancelFutures: true, wait: false })
            yield* cpu.shutdown({ cancelFutures: true, wait: false })
            for (const f of [...ioQueued, ...cpuQueued]) assert.strictEqual(Future.stateUnsafe(f), "cancelled")
            yield* Deferred.succeed(gate, undefined)
            yield* Gate.release(hold)
            assert.strictEqual(yield* Future.await(ioRunning), "ran")
            assert.strictEqual(yield* bounded("hold")(Future.await(cpuRunning)), Gate.get(hold, Gate.THREAD))
          })
        )
      }),
    30_000
  )

  it.live(
    "release - of a broken executor (failing initializer)",
    () =>
      Effect.gen(function* () {
        const initCounter = Gate.counter()
        yield* leakCheck(
          "broken",
          { cpu: { minWorkers: 2, workerData: { initCounter, allowed: 1 } satisfies F.FaultWorkerData } },
          ({ cpu }) =>
            Effect.gen(function* () {
              const f = yield* cpu.submit(F.WhoAmI, null)
              // it ran on the healthy worker, or failed when the other broke the executor
              const exit = yield* bounded("task")(Future.exit(f))
              if (Exit.isFailure(exit)) assert.strictEqual(failureOf(exit)._tag, "BrokenExecutorError")
              yield* eventually("broken", Effect.map(Effect.exit(cpu.submit(F.WhoAmI, null)), Exit.isFailure))
            })
        )
      }),
    30_000
  )

  it.live(
    "release - right after a worker's initializer failed waits for that worker's thread to exit",
    () =>
      Effect.gen(function* () {
        // regression: the failed worker was terminated but not awaited, so a
        // release at once returned while its thread was still alive
        for (let i = 0; i < 3; i++) {
          const initCounter = Gate.counter()
          yield* leakCheck(
            `initializer failed (${i})`,
            { cpu: { maxWorkers: 1, minWorkers: 1, workerData: { initCounter, allowed: 0 } } },
            ({ cpu }) =>
              Effect.gen(function* () {
                const exit = yield* bounded("broken")(Future.exit(yield* cpu.submit(F.WhoAmI, null)))
                assert.strictEqual(failureOf(exit)._tag, "BrokenExecutorError")
              })
          )
        }
      }),
    30_000
  )

  it.live(
    "release - while workers are still starting, and while a replacement waits out its backoff",
    () =>
      Effect.gen(function* () {
        const starting = yield* leakCheck(
          "still starting",
          { cpu: { maxWorkers: 2, minWorkers: 2 } },
          () => Effect.void
        )
        assert.isAtMost(starting, 2)
        yield* leakCheck("in backoff", { cpu: { maxWorkers: 1, minWorkers: 1, maxCrashes: 10 } }, ({ cpu }) =>
          Effect.gen(function* () {
            for (let i = 0; i < 3; i++) {
              const f = yield* cpu.submit(F.Fault, { kind: "exit", signal: Gate.make() })
              assert.strictEqual(failureOf(yield* bounded("crash")(Future.exit(f)))._tag, "WorkerCrashedError")
            }
            // the third replacement waits 100 ms before it starts: release now
            assert.strictEqual((yield* cpu.stats).threads, 0)
          })
        )
      }),
    30_000
  )

  it.live(
    "process - a program using both executors exits on its own with code 0",
    () =>
      Effect.gen(function* () {
        const script = fileURLToPath(new URL("./exitProgram.ts", import.meta.url))
        const result = yield* Effect.callback<{
          code: number | null
          signal: string | null
          stdout: string
          stderr: string
        }>((resume) => {
          const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "pipe"] })
          let stdout = ""
          let stderr = ""
          child.stdout.on("data", (d) => (stdout += d))
          child.stderr.on("data", (d) => (stderr += d))
          child.on("close", (code, signal) => resume(Effect.succeed({ code, signal, stdout, stderr })))
          return Effect.sync(() => child.kill("SIGKILL"))
        }).pipe(bounded("the child process exits on its own", 20_000))
        assert.strictEqual(result.code, 0, `exit code ${result.code} (${result.signal}): ${result.stderr}`)
        const line = JSON.parse(result.stdout.trim().split("\n").pop()!)
        assert.deepStrictEqual(line.done, {
          io: 1,
          ioTimeout: "TimeoutError",
          ioMap: [2, 4, 6],
          cpu: 42,
          crash: "WorkerCrashedError",
          cancelled: true,
          timeout: "TimeoutError",
          cpuMap: [2, 4, 6],
          queuedAtShutdown: ["cancelled", "cancelled"]
        })
        // nothing left active once the layers were released
        assert.deepStrictEqual(line.after, line.before)
      }),
    30_000
  )
})
