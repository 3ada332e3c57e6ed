import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import { spawn } from "node:child_process"
import * as os from "node:os"
import { fileURLToPath } from "node:url"
import { TestClock } from "effect/testing"
import * as CpuExecutor from "../src/CpuExecutor.ts"
import { CancelledError, TaskCodecError, WorkerCrashedError } from "../src/ExecutorError.ts"
import * as Future from "../src/Future.ts"
import { type Adapter, executorContract } from "./contract/executor.ts"
import { blocking, gated } from "./fixtures/contract.ts"
import * as Gate from "./fixtures/gate.ts"
import * as T from "./fixtures/tasks.ts"
import { bounded } from "./reliability/helpers.ts"
import { bundled, removeBundles } from "./utils/bundle.ts"
import * as cpuJob from "../src/internal/cpuJob.ts"

const worker = new URL("./fixtures/worker.ts", import.meta.url)

const cpuAdapter: Adapter<T.ContractPayload> = {
  name: "CpuExecutor",
  it: it.live,
  make: (options) =>
    Effect.map(CpuExecutor.make({ worker, ...options, name: "contract-cpu" }), (ex) => ({
      submit: (payload, o) => ex.submit(T.Contract, payload, o),
      map: (payloads, o) => ex.map(T.Contract, payloads, o),
      shutdown: ex.shutdown,
      stats: ex.stats
    })),
  value: (n) => ({ k: "value", n }),
  fail: (e) => ({ k: "fail", e }),
  die: (m) => ({ k: "die", m }),
  selfInterrupt: { k: "interrupt" },
  gated,
  blocking,
  advance: (millis) => Effect.sleep(millis),
  failureOf: (e) => e
}

// the defaults send tasks ahead (prefetch): tasks start in submission order per worker
executorContract({ ...cpuAdapter, fifoPerSlot: true })

// the contract holds over the configurations users turn on, not only the defaults
const configured = (name: string, config: Partial<CpuExecutor.Options>): Adapter<T.ContractPayload> => ({
  ...cpuAdapter,
  name: `CpuExecutor (${name})`,
  make: (options) =>
    Effect.map(CpuExecutor.make({ worker, ...config, ...options, name: "contract-cpu" }), (ex) => ({
      submit: (payload, o) => ex.submit(T.Contract, payload, o),
      map: (payloads, o) => ex.map(T.Contract, payloads, o),
      shutdown: ex.shutdown,
      stats: ex.stats
    }))
})
executorContract(configured("prefetch 0", { prefetch: 0 }))
executorContract({ ...configured("recycled every 3 tasks", { maxTasksPerWorker: 3 }), fifoPerSlot: true })
executorContract({ ...configured("idleSpin 0", { idleSpin: 0 }), fifoPerSlot: true })

// the worker entry bundled into one file (effect inside), as README "Fast worker start" ships it
afterAll(removeBundles)
executorContract({
  ...cpuAdapter,
  name: "CpuExecutor (worker entry bundled into one file)",
  fifoPerSlot: true,
  make: (options) =>
    Effect.flatMap(bundled(worker), (bundle) =>
      Effect.map(CpuExecutor.make({ worker: bundle, ...options, name: "contract-cpu" }), (ex) => ({
        submit: (payload, o) => ex.submit(T.Contract, payload, o),
        map: (payloads, o) => ex.map(T.Contract, payloads, o),
        shutdown: ex.shutdown,
        stats: ex.stats
      }))
    )
})

const crashOf = (exit: Exit.Exit<unknown, unknown>): WorkerCrashedError => {
  assert.isTrue(Exit.isFailure(exit))
  const error = Exit.isFailure(exit) ? Cause.findError(exit.cause) : undefined
  assert.isTrue(error?._tag === "Success" && error.success instanceof WorkerCrashedError, String(exit))
  return (error as any).success
}

describe("CpuExecutor", () => {
  const typedErrors = (entry: Effect.Effect<URL>) => () =>
    Effect.gen(function* () {
      const ex = yield* CpuExecutor.make({ worker: yield* entry, maxWorkers: 1 })
      assert.strictEqual(yield* Future.await(yield* ex.submit(T.Sqrt, 16)), 4)
      const error = yield* Effect.flip(Future.await(yield* ex.submit(T.Sqrt, -4)))
      assert.instanceOf(error, T.Negative)
      assert.strictEqual((error as T.Negative).value, -4)
      assert.strictEqual((error as T.Negative).message, "negative: -4")
      const parsed = yield* Future.await(yield* ex.submit(T.Parse, "42.5"))
      assert.strictEqual(parsed, 42.5)
      assert.strictEqual(yield* Effect.flip(Future.await(yield* ex.submit(T.Parse, "x"))), "not a number: x")
    })

  it.live(
    "errors - typed errors arrive as the same class; successes decode through their schema",
    typedErrors(Effect.succeed(worker))
  )

  // its own copy of effect makes its own Negative class: the parent's schema decodes it into the parent's
  it.live(
    "errors - from a worker entry bundled into one file (effect inside), typed errors arrive as the parent's class",
    typedErrors(bundled(worker))
  )

  it.live("errors - a defect keeps its name, message and worker stack", () =>
    Effect.gen(function* () {
      const ex = yield* CpuExecutor.make({ worker, maxWorkers: 1 })
      const exit = yield* Future.exit(yield* ex.submit(T.Contract, { k: "die", m: "kaboom" }))
      assert.isTrue(Exit.isFailure(exit) && Cause.hasDies(exit.cause))
      const defect = Exit.isFailure(exit) ? (Cause.squash(exit.cause) as Error) : undefined
      assert.instanceOf(defect, Error)
      assert.strictEqual(defect?.message, "kaboom")
      assert.include(defect?.stack ?? "", "worker.ts")
    })
  )

  it.live("transfer - payload buffers move to the worker and result buffers move back", () =>
    Effect.gen(function* () {
      const ex = yield* CpuExecutor.make({ worker, maxWorkers: 1 })
      const input = new Uint8Array([1, 2, 3])
      const f = yield* ex.submit(T.DoubleBytes, input, { transfer: [input.buffer] })
      const out = (yield* Future.await(f)) as Uint8Array
      // moved, not copied (it was posted once a worker was up)
      assert.strictEqual(input.buffer.byteLength, 0)
      assert.deepStrictEqual(Array.from(out), [2, 4, 6])
    })
  )

  it.live("initialize - runs once per worker with workerData before the worker takes tasks", () =>
    Effect.gen(function* () {
      const initCounter = Gate.counter()
      const ex = yield* CpuExecutor.make({
        worker,
        maxWorkers: 2,
        minWorkers: 2,
        workerData: { tag: "hello", initCounter }
      })
      const gates = yield* Effect.forEach([1, 2], gated)
      const fs = yield* Effect.forEach(gates, (g) => ex.submit(T.Contract, g.task))
      for (const g of gates) yield* g.started
      assert.strictEqual(Atomics.load(initCounter, 0), 2)
      for (const g of gates) yield* g.release
      yield* Effect.forEach(fs, Future.await)
      const info = (yield* Future.await(yield* ex.submit(T.Info, null))) as any
      assert.strictEqual(info.data.tag, "hello")
      assert.strictEqual(info.inits, 1)
      assert.strictEqual((yield* ex.stats).workers, 2)
    })
  )

  it.live("initialize - a failing initializer breaks the executor", () =>
    Effect.gen(function* () {
      const ex = yield* CpuExecutor.make({ worker, maxWorkers: 1, workerData: { failInit: true } })
      const f = yield* ex.submit(T.Square, 3)
      const error = yield* Effect.flip(Future.await(f))
      assert.strictEqual(error._tag, "BrokenExecutorError")
      if (error._tag === "BrokenExecutorError") {
        assert.include(error.reason, "initializer failed")
        assert.strictEqual((error.cause as Error).message, "initializer refused")
      }
      assert.strictEqual((yield* Effect.flip(ex.submit(T.Square, 1)))._tag, "BrokenExecutorError")
    })
  )

  it.live("recycle - maxTasksPerWorker replaces workers between tasks without losing the backlog", () =>
    Effect.gen(function* () {
      const ex = yield* CpuExecutor.make({ worker, maxWorkers: 1, maxTasksPerWorker: 2 })
      const fs = yield* Effect.forEach(Array.from({ length: 7 }), () => ex.submit(T.Info, null))
      const infos = (yield* Effect.forEach(fs, Future.await)) as Array<any>
      const threads = infos.map((i) => i.threadId)
      assert.strictEqual(new Set(threads).size, 4)
      assert.strictEqual(threads[0], threads[1])
      assert.notStrictEqual(threads[1], threads[2])
      assert.strictEqual(threads[4], threads[5])
      const s = yield* ex.stats
      assert.strictEqual(s.succeeded, 7)
      assert.isAtLeast(s.recycled, 3)
      assert.strictEqual(s.crashes, 0)
    })
  )

  for (const kind of ["exit", "throw-async", "oom"] as const) {
    it.live(
      `crash - ${kind}: only the task on that worker fails, the worker is replaced`,
      () =>
        Effect.gen(function* () {
          const ex = yield* CpuExecutor.make({
            worker,
            maxWorkers: 2,
            resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 }
          })
          const other = yield* gated(5)
          const fOther = yield* ex.submit(T.Contract, other.task)
          yield* other.started
          const crash = yield* Future.exit(yield* ex.submit(T.Crash, kind))
          const error = crashOf(crash)
          if (kind === "exit") assert.strictEqual(error.exitCode, 7)
          if (kind === "throw-async") assert.include(error.reason, "uncaught in worker")
          if (kind === "oom") assert.match(error.reason, /memory/i)
          assert.strictEqual(Future.stateUnsafe(fOther), "running")
          yield* other.release
          assert.strictEqual(yield* Future.await(fOther), 5)
          assert.strictEqual(yield* Future.await(yield* ex.submit(T.Square, 9)), 81)
          const s = yield* ex.stats
          assert.strictEqual(s.crashes, 1)
          assert.strictEqual(s.failed, 1)
        }),
      30_000
    )
  }

  it.live("crash - a crashed worker is replaced even with no work waiting, keeping minWorkers warm", () =>
    Effect.gen(function* () {
      const ex = yield* CpuExecutor.make({ worker, maxWorkers: 2, minWorkers: 2 })
      crashOf(yield* Future.exit(yield* ex.submit(T.Crash, "exit")))
      // the replacement boots in real time (bounded by the test timeout)
      while ((yield* ex.stats).workers < 2) yield* Effect.sleep(10)
      const s = yield* ex.stats
      assert.strictEqual(s.workers, 2)
      assert.strictEqual(s.restarts, 1)
    })
  )

  it.live("crash - repeated crashes beyond maxCrashes break the executor instead of looping", () =>
    Effect.gen(function* () {
      const ex = yield* CpuExecutor.make({ worker, maxWorkers: 1, maxCrashes: 1 })
      crashOf(yield* Future.exit(yield* ex.submit(T.Crash, "exit")))
      crashOf(yield* Future.exit(yield* ex.submit(T.Crash, "exit")))
      const error = yield* Effect.flip(ex.submit(T.Square, 2))
      assert.strictEqual(error._tag, "BrokenExecutorError")
      if (error._tag === "BrokenExecutorError") assert.include(error.reason, "crashes")
    })
  )

  it.live("cancel - a synchronous task is stopped by terminating its worker; only that task ends cancelled", () =>
    Effect.gen(function* () {
      const ex = yield* CpuExecutor.make({ worker, maxWorkers: 2, cancelGracePeriod: 50 })
      const other = yield* gated(1)
      const fOther = yield* ex.submit(T.Contract, other.task)
      yield* other.started
      const g = Gate.make()
      const f = yield* ex.submit(T.Contract, { k: "spin", g, n: 2 })
      yield* Gate.awaitStarted(g)
      assert.isTrue(yield* Future.cancel(f))
      assert.strictEqual(Future.stateUnsafe(f), "cancelled")
      assert.isFalse(Gate.isSet(g, Gate.COMPLETED)) // it was stopped, not finished
      yield* other.release
      assert.strictEqual(yield* Future.await(fOther), 1)
      assert.strictEqual(yield* Future.await(yield* ex.submit(T.Square, 3)), 9)
      const s = yield* ex.stats
      assert.strictEqual(s.cancelled, 1)
      assert.strictEqual(s.crashes, 0)
    })
  )

  it.live("concurrency - concurrentTasksPerWorker runs async handlers side by side in one worker", () =>
    Effect.gen(function* () {
      const ex = yield* CpuExecutor.make({ worker, maxWorkers: 1, concurrentTasksPerWorker: 2 })
      const gates = yield* Effect.forEach([1, 2, 3], gated)
      const fs = yield* Effect.forEach(gates, (g) => ex.submit(T.Contract, g.task))
      yield* gates[0].started
      yield* gates[1].started
      assert.isFalse(yield* gates[2].hasStarted)
      const s = yield* ex.stats
      assert.strictEqual(s.workers, 1)
      assert.strictEqual(s.running, 2)
      assert.strictEqual(s.queued + s.prefetched, 1)
      yield* gates[1].release
      yield* gates[2].started
      yield* gates[0].release
      yield* gates[2].release
      assert.deepStrictEqual(yield* Effect.forEach(fs, Future.await), [1, 2, 3])
    })
  )

  it.live("prefetch - an idle worker is used before a busy one is sent a task ahead", () =>
    Effect.gen(function* () {
      const ex = yield* CpuExecutor.make({ worker, maxWorkers: 2, minWorkers: 2, prefetch: 2 })
      const gates = yield* Effect.forEach([1, 2], gated)
      const fs = yield* Effect.forEach(gates, (g) => ex.submit(T.Contract, g.task))
      // both start: each went to its own worker
      for (const g of gates) yield* g.started
      for (const g of gates) yield* g.release
      assert.deepStrictEqual(yield* Effect.forEach(fs, Future.await), [1, 2])
    })
  )

  it.live("prefetch - a task waiting in its worker counts as prefetched, and cancelling it means it never starts", () =>
    Effect.gen(function* () {
      const ex = yield* CpuExecutor.make({ worker, maxWorkers: 1, prefetch: 1 })
      const first = yield* gated(1)
      const f1 = yield* ex.submit(T.Contract, first.task)
      yield* first.started
      const second = yield* gated(2)
      const f2 = yield* ex.submit(T.Contract, second.task)
      const third = yield* ex.submit(T.Square, 3)
      const s = yield* ex.stats
      assert.deepStrictEqual([s.running, s.prefetched, s.queued], [1, 1, 1])
      assert.strictEqual(Future.stateUnsafe(f2), "pending")
      assert.isTrue(yield* Future.cancel(f2))
      assert.isFalse(yield* second.hasStarted)
      yield* first.release
      assert.strictEqual(yield* Future.await(f1), 1)
      assert.strictEqual(yield* Future.await(third), 9)
      assert.isFalse(yield* second.hasStarted)
    })
  )

  it.live("prefetch - tasks sent ahead to a worker terminated to stop a stuck task run on its replacement", () =>
    Effect.gen(function* () {
      const ex = yield* CpuExecutor.make({ worker, maxWorkers: 1, minWorkers: 1, prefetch: 2, cancelGracePeriod: 50 })
      const g = Gate.make()
      const spin = yield* ex.submit(T.Contract, { k: "spin", g, n: 0 })
      const ahead = yield* Effect.forEach([1, 2], gated)
      const fs = yield* Effect.forEach(ahead, (a) => ex.submit(T.Contract, a.task))
      yield* Gate.awaitStarted(g)
      assert.deepStrictEqual(fs.map(Future.stateUnsafe), ["pending", "pending"], "sent ahead, not started")
      assert.isTrue(yield* Future.cancel(spin))
      // the worker was terminated; the two it never started run on the new one
      for (const a of ahead) {
        yield* a.started
        yield* a.release
      }
      assert.deepStrictEqual(yield* Effect.forEach(fs, Future.await), [1, 2])
      const s = yield* ex.stats
      assert.deepStrictEqual([s.succeeded, s.failed, s.cancelled, s.crashes, s.restarts], [2, 0, 1, 0, 0])
    })
  )

  it.live("prefetch - tasks sent ahead to a worker that crashes run on its replacement; only the crash fails", () =>
    Effect.gen(function* () {
      const ex = yield* CpuExecutor.make({ worker, maxWorkers: 1, minWorkers: 1, prefetch: 2 })
      const first = yield* gated(1)
      const f1 = yield* ex.submit(T.Contract, first.task)
      yield* first.started
      const crash = yield* ex.submit(T.Crash, "exit")
      const next = yield* gated(3)
      const f3 = yield* ex.submit(T.Contract, next.task)
      assert.deepStrictEqual([crash, f3].map(Future.stateUnsafe), ["pending", "pending"], "sent ahead, not started")
      yield* first.release
      assert.strictEqual(yield* Future.await(f1), 1)
      crashOf(yield* Future.exit(crash))
      yield* next.started
      yield* next.release
      assert.strictEqual(yield* Future.await(f3), 3)
      const s = yield* ex.stats
      assert.deepStrictEqual([s.succeeded, s.failed, s.crashes], [2, 1, 1])
    })
  )

  it.live("timeout - a synchronous task over its timeout is stopped and fails with TimeoutError", () =>
    Effect.gen(function* () {
      const ex = yield* CpuExecutor.make({ worker, maxWorkers: 1, cancelGracePeriod: 50 })
      const g = Gate.make()
      const f = yield* ex.submit(T.Contract, { k: "spin", g, n: 2 }, { timeout: 100 })
      const error = yield* Effect.flip(Future.await(f))
      assert.isTrue(Cause.isTimeoutError(error))
      assert.strictEqual(yield* Future.await(yield* ex.submit(T.Square, 4)), 16)
    })
  )

  it.live("codec - bad payloads, uncloneable payloads and results, unknown tasks fail only their future", () =>
    Effect.gen(function* () {
      const ex = yield* CpuExecutor.make({ worker, maxWorkers: 1 })
      const codecError = (f: Future.Future<unknown, unknown>) =>
        Effect.map(Effect.flip(Future.await(f)), (e) => {
          assert.instanceOf(e, TaskCodecError)
          return e as TaskCodecError
        })
      const badPayload = yield* codecError(yield* ex.submit(T.Square, "nine" as any))
      assert.strictEqual(badPayload.phase, "payload")
      const uncloneable = yield* codecError(yield* ex.submit(T.Contract, { k: "value", n: (() => 1) as any }))
      assert.include(uncloneable.reason, "cannot be sent to the worker")
      const badResult = yield* codecError(yield* ex.submit(T.BadResult, null))
      assert.strictEqual(badResult.phase, "success")
      const unknown = yield* codecError(yield* ex.submit(T.NotServed, null))
      assert.include(unknown.reason, "serves no task")
      assert.strictEqual(yield* Future.await(yield* ex.submit(T.Square, 5)), 25)
      const s = yield* ex.stats
      assert.strictEqual(s.failed, 4)
      assert.strictEqual(s.crashes, 0)
    })
  )

  it.live("map - chunksize batches items per message and keeps input order", () =>
    Effect.gen(function* () {
      const ex = yield* CpuExecutor.make({ worker, maxWorkers: 2 })
      const items = Array.from({ length: 1000 }, (_, i) => i)
      const out = yield* Stream.runCollect(ex.map(T.Inc, items, { chunksize: 100 }))
      assert.deepStrictEqual(
        out,
        items.map((i) => i + 1)
      )
      assert.strictEqual((yield* ex.stats).submitted, 10)
      const failing = yield* Effect.flip(Stream.runCollect(ex.map(T.Sqrt, [4, 9, -1, 16], { chunksize: 2 })))
      assert.instanceOf(failing, T.Negative)
      // what the consumer sees does not depend on chunksize: the results before
      // the first failing item, then its failure (Python loses the whole chunk)
      for (const chunksize of [1, 2, 3, 4, 10]) {
        const seen: Array<number> = []
        const exit = yield* ex.map(T.Sqrt, [4, 9, 25, 36, -1, 16], { chunksize }).pipe(
          Stream.runForEach((x) => Effect.sync(() => seen.push(x))),
          Effect.exit
        )
        assert.deepStrictEqual(seen, [2, 3, 5, 6], `chunksize ${chunksize}`)
        assert.isTrue(Exit.isFailure(exit) && Cause.squash(exit.cause) instanceof T.Negative, `chunksize ${chunksize}`)
      }
    })
  )

  it.live("map - a chunk of Schema.Number crosses as numbers, exactly; a bad item fails as it does alone", () =>
    Effect.gen(function* () {
      const ex = yield* CpuExecutor.make({ worker, maxWorkers: 1 })
      const special = [-0, 0, Number.NaN, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, 0.1 + 0.2, -7]
      for (const chunksize of [1, 4, 100]) {
        const out = Array.from(yield* Stream.runCollect(ex.map(T.Same, special, { chunksize })))
        assert.strictEqual(out.length, special.length)
        for (let i = 0; i < special.length; i++)
          assert.isTrue(Object.is(out[i], special[i]), `${special[i]} (chunksize ${chunksize})`)
      }
      // a payload that is not a number: the chunk fails with the error one item alone gets
      const alone = yield* Effect.flip(Future.await(yield* ex.submit(T.Same, "x" as unknown as number)))
      const inChunk = yield* Effect.flip(
        Stream.runCollect(ex.map(T.Same, [1, "x" as unknown as number, 3], { chunksize: 3 }))
      )
      assert.instanceOf(inChunk, TaskCodecError)
      assert.deepStrictEqual(
        [inChunk.phase, inChunk.reason],
        [(alone as TaskCodecError).phase, (alone as TaskCodecError).reason]
      )
      // a result that is not a number: the results before it, then its TaskCodecError
      const seen: Array<number> = []
      const exit = yield* ex.map(T.Same, [1, 2, 13, 4], { chunksize: 4 }).pipe(
        Stream.runForEach((x) => Effect.sync(() => seen.push(x))),
        Effect.exit
      )
      assert.deepStrictEqual(seen, [1, 2])
      const error = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
      assert.instanceOf(error, TaskCodecError)
      assert.strictEqual((error as TaskCodecError).phase, "success")
    })
  )

  it("map - chunks run Effect.sync items as plain calls in their fiber: effect's Sync primitive is recognised", () => {
    // if an effect upgrade stores Effect.sync differently, chunks fall back to the fiber (slower, not different): this says so
    assert.isTrue(cpuJob.syncFastPath())
  })

  it.live(
    "map - an Effect.sync item that throws mid-chunk: the results before it, then its defect, as when it runs alone",
    () =>
      Effect.gen(function* () {
        const ex = yield* CpuExecutor.make({ worker, maxWorkers: 1 })
        const g = Gate.make()
        const item = (throws: boolean) => ({ g, ms: 0, throws })
        const aloneExit = yield* Future.exit(yield* ex.submit(T.Tick, item(true)))
        const alone = Exit.isFailure(aloneExit) ? Cause.squash(aloneExit.cause) : undefined
        const seen: Array<number> = []
        const exit = yield* ex.map(T.Tick, [item(false), item(false), item(true), item(false)], { chunksize: 4 }).pipe(
          Stream.runForEach((x) => Effect.sync(() => seen.push(x))),
          Effect.exit
        )
        assert.deepStrictEqual(seen, [1, 2])
        assert.isTrue(Exit.isFailure(exit))
        const defect = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
        assert.instanceOf(defect, Error)
        assert.instanceOf(alone, Error)
        assert.deepStrictEqual([(defect as Error).name, (defect as Error).message], ["Error", "tick threw"])
        assert.deepStrictEqual([(alone as Error).name, (alone as Error).message], ["Error", "tick threw"])
        assert.strictEqual(Gate.get(g, Gate.ORDINAL), 2, "the item after the throw never ran")
      })
  )

  it.live(
    "map - a running chunk of slow Effect.sync items stops between items when cancelled, its worker kept",
    () =>
      Effect.gen(function* () {
        // a grace period longer than the test's bound: terminating the worker would fail the test
        const ex = yield* CpuExecutor.make({ worker, maxWorkers: 1, minWorkers: 1, cancelGracePeriod: "60 seconds" })
        const g = Gate.make()
        const items = Array.from({ length: 200 }, () => ({ g, ms: 5, throws: false }))
        const consumer = yield* Effect.forkChild(Stream.runCollect(ex.map(T.Tick, items, { chunksize: 200 })))
        yield* bounded("the first item")(Gate.awaitStarted(g))
        // the stream's end cancels its chunk, which was running: it must stop at an item boundary
        yield* bounded("the cancel")(Fiber.interrupt(consumer))
        const ran = Gate.get(g, Gate.ORDINAL)
        assert.isBelow(ran, 200, "the chunk stopped before its end")
        const s = yield* ex.stats
        assert.deepStrictEqual([s.cancelled, s.crashes, s.restarts, s.workers], [1, 0, 0, 1])
        // the same worker serves the next task
        assert.strictEqual(yield* Future.await(yield* ex.submit(T.Square, 3)), 9)
        assert.strictEqual(Gate.get(g, Gate.ORDINAL), ran, "no item ran after the cancel")
      }),
    20_000
  )

  it.live("compileCache - workers get NODE_COMPILE_CACHE (beside a given env), unless it is off or set already", () =>
    Effect.gen(function* () {
      const info = (options: Partial<CpuExecutor.Options>) =>
        Effect.scoped(
          Effect.gen(function* () {
            const ex = yield* CpuExecutor.make({ worker, maxWorkers: 1, ...options })
            return (yield* Future.await(yield* ex.submit(T.Info, null))) as {
              compileCacheEnv?: string
              marker?: string
            }
          })
        )
      const inherited = process.env.NODE_COMPILE_CACHE
      const on = yield* info({})
      if (inherited === undefined) assert.isString(on.compileCacheEnv)
      else assert.strictEqual(on.compileCacheEnv, inherited)
      const withEnv = yield* info({ env: { EF_MARKER: "m" } })
      assert.strictEqual(withEnv.marker, "m")
      assert.strictEqual(withEnv.compileCacheEnv, on.compileCacheEnv)
      const off = yield* info({ compileCache: false, env: { EF_MARKER: "m" } })
      assert.strictEqual(off.marker, "m")
      assert.isUndefined(off.compileCacheEnv)
      const own = yield* info({ env: { NODE_COMPILE_CACHE: os.tmpdir() } })
      assert.strictEqual(own.compileCacheEnv, os.tmpdir())
    })
  )

  it.live("options - invalid options name the option", () =>
    Effect.gen(function* () {
      const cases: Array<[CpuExecutor.Options, string]> = [
        [{ worker: new URL("./fixtures/missing.ts", import.meta.url) }, "worker"],
        [{ worker: "" }, "worker"],
        [{ worker, maxWorkers: 1, minWorkers: 2 }, "minWorkers"],
        [{ worker, concurrentTasksPerWorker: 0 }, "concurrentTasksPerWorker"],
        [{ worker, prefetch: 1.5 }, "prefetch"],
        [{ worker, maxTasksPerWorker: -1 }, "maxTasksPerWorker"],
        [{ worker, cancelGracePeriod: Number.NaN }, "cancelGracePeriod"],
        [{ worker, idleTimeout: -1 }, "idleTimeout"],
        [{ worker, idleSpin: -1 }, "idleSpin"],
        [{ worker, idleSpin: "11 millis" }, "idleSpin"],
        [{ worker, idleSpin: Infinity }, "idleSpin"],
        [{ worker, execArgv: [1] as any }, "execArgv"],
        [{ worker, workerData: { f: () => 1 } }, "workerData"]
      ]
      for (const [options, option] of cases) {
        const error = yield* Effect.flip(CpuExecutor.make(options))
        assert.strictEqual(error.option, option, error.message)
      }
    })
  )

  it.live(
    "idleSpin - a worker taking task after task while it polls still turns its event loop (its timers fire)",
    () =>
      Effect.gen(function* () {
        // the widest window: without the bound on polling, a worker fed a task
        // every few microseconds would never return to its event loop
        const ex = yield* CpuExecutor.make({ worker, maxWorkers: 1, minWorkers: 1, idleSpin: "10 millis" })
        const g = Gate.make()
        assert.strictEqual(yield* Future.await(yield* ex.submit(T.Contract, { k: "timer", g })), 0)
        let sent = 0
        while (!Gate.isSet(g, Gate.COMPLETED) && sent < 50_000) {
          assert.strictEqual(yield* Future.await(yield* ex.submit(T.Square, 3)), 9)
          sent++
        }
        assert.isTrue(Gate.isSet(g, Gate.COMPLETED), `the worker's 1 ms timer had not fired after ${sent} tasks`)
      }).pipe(bounded("timer")),
    20_000
  )

  it.live("layerConfig - reads the worker path and sizes from config", () =>
    Effect.gen(function* () {
      const provider = ConfigProvider.fromUnknown({ CPU_WORKER: fileURLToPath(worker), CPU_WORKERS: 1 })
      const layer = CpuExecutor.layerConfig({
        worker: Config.String("CPU_WORKER"),
        maxWorkers: Config.Int("CPU_WORKERS")
      })
      const result = yield* Effect.gen(function* () {
        const cpu = yield* Effect.service(CpuExecutor.CpuExecutor)
        return [yield* Future.await(yield* cpu.submit(T.Square, 6)), (yield* cpu.stats).maxWorkers]
      }).pipe(Effect.provide(layer), Effect.provideService(ConfigProvider.ConfigProvider, provider))
      assert.deepStrictEqual(result, [36, 1])
    })
  )

  it.live("idle - workers above minWorkers retire after idleTimeout", () =>
    Effect.gen(function* () {
      const ex = yield* CpuExecutor.make({ worker, maxWorkers: 2, minWorkers: 1, idleTimeout: 50 })
      const gates = yield* Effect.forEach([1, 2], gated)
      const fs = yield* Effect.forEach(gates, (g) => ex.submit(T.Contract, g.task))
      for (const g of gates) yield* g.started
      assert.strictEqual((yield* ex.stats).workers, 2)
      for (const g of gates) yield* g.release
      yield* Effect.forEach(fs, Future.await)
      // wait until the extra worker has retired (bounded by the test timeout)
      while ((yield* ex.stats).workers > 1) yield* Effect.sleep(20)
      assert.strictEqual((yield* ex.stats).workers, 1)
      // and its thread has really exited, not just been forgotten
      while ((yield* ex.stats).threads > 1) yield* Effect.sleep(20)
      assert.strictEqual((yield* ex.stats).threads, 1)
    })
  )

  it.live("recycle - a recycled worker's thread exits at once, not at release", () =>
    Effect.gen(function* () {
      const ex = yield* CpuExecutor.make({ worker, maxWorkers: 1, maxTasksPerWorker: 1 })
      for (let i = 0; i < 4; i++) yield* Future.await(yield* ex.submit(T.Square, i))
      // every worker ran its one task and was closed; nothing waits, so none replaces the last
      while ((yield* ex.stats).threads > 0) yield* Effect.sleep(20)
      const s = yield* ex.stats
      assert.strictEqual(s.threads, 0)
      assert.strictEqual(s.recycled, 4)
      assert.strictEqual(yield* Future.await(yield* ex.submit(T.Square, 5)), 25)
    })
  )

  it.live("release - no worker thread or port outlives the executor's scope", () =>
    Effect.gen(function* () {
      const count = () =>
        process.getActiveResourcesInfo().filter((r) => r === "MessagePort" || r.includes("Worker")).length
      const baseline = count()
      const scope = yield* Scope.make()
      const ex = yield* CpuExecutor.make({ worker, maxWorkers: 2, minWorkers: 2 }).pipe(Scope.provide(scope))
      const fs = yield* Effect.forEach([1, 2, 3, 4], (n) => ex.submit(T.Square, n))
      yield* Effect.forEach(fs, Future.await)
      // alive, but idle: an idle worker is unref'd, so it is no active resource of the process
      assert.strictEqual((yield* ex.stats).threads, 2)
      const busy = Gate.make()
      const held = yield* ex.submit(T.Contract, { k: "gate", g: busy, n: 1 })
      yield* Gate.awaitStarted(busy)
      assert.isAbove(count(), baseline, "a busy worker keeps the process alive")
      yield* Gate.release(busy)
      assert.strictEqual(yield* Future.await(held), 1)
      yield* Scope.close(scope, Exit.void)
      assert.strictEqual(count(), baseline)
      assert.strictEqual((yield* Effect.flip(ex.submit(T.Square, 1)))._tag, "ExecutorShutdownError")
    })
  )

  it.live("shutdown - release waits for a running task, then closes its worker", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const ex = yield* CpuExecutor.make({ worker, maxWorkers: 1 }).pipe(Scope.provide(scope))
      const g = yield* gated(3)
      const f = yield* ex.submit(T.Contract, g.task)
      yield* g.started
      const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
      yield* Effect.yieldNow
      assert.isUndefined(closing.pollUnsafe())
      yield* g.release
      yield* Fiber.join(closing)
      assert.strictEqual(yield* Future.await(f), 3)
      assert.strictEqual((yield* ex.stats).workers, 0)
    })
  )
})

// Protocol v2: the parent knows, from a word of shared memory per task, whether
// a worker has started it. Every ordering below is set by gates, not by time.
describe("CpuExecutor protocol", () => {
  const spin = (n: number) => {
    const g = Gate.make()
    return { g, task: { k: "spin", g, n } as T.ContractPayload }
  }

  it.live("cancel of a task sent ahead behind a long one: it never starts, and nobody is terminated", () =>
    Effect.gen(function* () {
      const ex = yield* CpuExecutor.make({ worker, maxWorkers: 1, prefetch: 1 })
      const long = spin(1)
      const f1 = yield* ex.submit(T.Contract, long.task)
      yield* Gate.awaitStarted(long.g)
      const ahead = yield* gated(2)
      const f2 = yield* ex.submit(T.Contract, ahead.task)
      assert.strictEqual((yield* ex.stats).prefetched, 1)
      assert.isTrue(yield* Future.cancel(f2))
      assert.strictEqual(Future.stateUnsafe(f2), "cancelled")
      // the long one was not failed for its neighbour's sake
      yield* Gate.release(long.g)
      assert.strictEqual(yield* Future.await(f1), 1)
      assert.isFalse(yield* ahead.hasStarted)
      // the same thread runs the next task: it was never terminated
      const next = spin(3)
      const f3 = yield* ex.submit(T.Contract, next.task)
      yield* Gate.release(next.g)
      assert.strictEqual(yield* Future.await(f3), 3)
      assert.strictEqual(Gate.get(next.g, Gate.THREAD), Gate.get(long.g, Gate.THREAD))
      const s = yield* ex.stats
      assert.deepStrictEqual([s.crashes, s.restarts, s.threads, s.cancelled], [0, 0, 1, 1])
      assert.isFalse(yield* ahead.hasStarted)
    })
  )

  it.live("cancel of a task that finished but whose result is still on its way: false, and the value arrives", () =>
    Effect.gen(function* () {
      const ex = yield* CpuExecutor.make({ worker, maxWorkers: 1 })
      const g = Gate.make()
      const f = yield* ex.submit(T.Contract, { k: "afterReply", g, n: 7 })
      yield* Gate.awaitStarted(g)
      // this thread does not turn its event loop until the worker has posted
      // the result: cancel then sees the task finished, its result not received
      yield* Effect.sync(() => {
        Gate.set(g, Gate.RELEASE)
        while (!Gate.isSet(g, Gate.COMPLETED)) Atomics.wait(g, Gate.COMPLETED, 0, 1_000)
      })
      assert.strictEqual(Future.stateUnsafe(f), "running")
      assert.isFalse(yield* bounded("cancel")(Future.cancel(f)))
      assert.strictEqual(yield* Future.await(f), 7)
      const s = yield* ex.stats
      assert.deepStrictEqual([s.succeeded, s.cancelled, s.threads], [1, 0, 1])
    })
  )

  it.live("a tiny task's result does not wait for the long task after it on the same worker", () =>
    Effect.gen(function* () {
      const ex = yield* CpuExecutor.make({ worker, maxWorkers: 1, prefetch: 1 })
      const long = spin(2)
      const blocker = spin(0)
      // hold the worker so both are sent together, the tiny one first
      const f0 = yield* ex.submit(T.Contract, blocker.task)
      yield* Gate.awaitStarted(blocker.g)
      const tiny = yield* ex.submit(T.Square, 3)
      const f2 = yield* ex.submit(T.Contract, long.task)
      yield* Gate.release(blocker.g)
      yield* Gate.awaitStarted(long.g)
      // the long one runs (and blocks its worker) now: the tiny result is in already
      assert.strictEqual(yield* bounded("the tiny result")(Future.await(tiny)), 9)
      assert.isFalse(Gate.isSet(long.g, Gate.COMPLETED))
      yield* Gate.release(long.g)
      assert.deepStrictEqual(yield* Effect.all([Future.await(f0), Future.await(f2)]), [0, 2])
    })
  )

  it.effect("a task's timeout counts from its start, not from when it was sent ahead", () =>
    Effect.gen(function* () {
      const ex = yield* CpuExecutor.make({ worker, maxWorkers: 1, minWorkers: 1, prefetch: 1 })
      const long = spin(1)
      const f1 = yield* ex.submit(T.Contract, long.task)
      yield* Gate.awaitStarted(long.g)
      const g = yield* gated(2)
      const f2 = yield* ex.submit(T.Contract, g.task, { timeout: "1 second" })
      // sent ahead, not started: its time in the worker's queue does not count
      yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))
      assert.strictEqual((yield* ex.stats).prefetched, 1)
      yield* TestClock.adjust("5 seconds")
      assert.strictEqual(Future.stateUnsafe(f2), "pending")
      yield* Gate.release(long.g)
      yield* g.started
      yield* g.release
      assert.deepStrictEqual(yield* Effect.all([Future.await(f1), Future.await(f2)]), [1, 2])
    })
  )

  it.live("a worker that dies holding a started, an unstarted and a dropped task: exact outcomes", () =>
    Effect.gen(function* () {
      const ex = yield* CpuExecutor.make({ worker, maxWorkers: 1, minWorkers: 1, prefetch: 3 })
      const crash = Gate.make()
      const fCrash = yield* ex.submit(T.Contract, { k: "exitOnRelease", g: crash })
      yield* Gate.awaitStarted(crash)
      const before = yield* gated(1)
      const dropped = yield* gated(2)
      const after = yield* gated(3)
      const fBefore = yield* ex.submit(T.Contract, before.task)
      const fDropped = yield* ex.submit(T.Contract, dropped.task)
      const fAfter = yield* ex.submit(T.Contract, after.task)
      assert.strictEqual((yield* ex.stats).prefetched, 3)
      assert.isTrue(yield* Future.cancel(fDropped))
      yield* Gate.release(crash)
      // started: failed with the worker
      const error = crashOf(yield* Future.exit(fCrash))
      assert.strictEqual(error.exitCode, 3)
      // never started: run on the replacement, in order
      yield* before.started
      assert.isFalse(yield* after.hasStarted)
      yield* before.release
      yield* after.started
      yield* after.release
      assert.deepStrictEqual(yield* Effect.all([Future.await(fBefore), Future.await(fAfter)]), [1, 3])
      // dropped: stays cancelled, never ran
      assert.strictEqual(Future.stateUnsafe(fDropped), "cancelled")
      assert.isFalse(yield* dropped.hasStarted)
      const s = yield* ex.stats
      assert.deepStrictEqual([s.succeeded, s.failed, s.cancelled, s.crashes], [2, 1, 1, 1])
    })
  )

  it.live("a task whose payload was transferred to a worker that died before starting it fails as a crash", () =>
    Effect.gen(function* () {
      const ex = yield* CpuExecutor.make({ worker, maxWorkers: 1, prefetch: 1 })
      const crash = Gate.make()
      const fCrash = yield* ex.submit(T.Contract, { k: "exitOnRelease", g: crash })
      yield* Gate.awaitStarted(crash)
      const bytes = new Uint8Array([1, 2, 3])
      const fBytes = yield* ex.submit(T.DoubleBytes, bytes, { transfer: [bytes.buffer] })
      yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))
      assert.strictEqual(bytes.byteLength, 0, "transferred")
      yield* Gate.release(crash)
      crashOf(yield* Future.exit(fCrash))
      const error = crashOf(yield* Future.exit(fBytes))
      assert.include(error.reason, "transferred")
    })
  )

  it.live("a cancel whose own fiber is interrupted still stops a stuck task by terminating its worker", () =>
    Effect.gen(function* () {
      const ex = yield* CpuExecutor.make({ worker, maxWorkers: 1, cancelGracePeriod: 50 })
      const stuck = spin(1)
      const f = yield* ex.submit(T.Contract, stuck.task)
      yield* Gate.awaitStarted(stuck.g)
      // the caller gives up on the cancel at once
      const gaveUp = yield* Effect.exit(Future.cancel(f).pipe(Effect.timeout("1 millis")))
      assert.isTrue(Exit.isFailure(gaveUp))
      // the grace period passes and the worker is terminated all the same
      const error = yield* bounded("the stop")(Effect.flip(Future.await(f)))
      assert.instanceOf(error, CancelledError)
      assert.isFalse(Gate.isSet(stuck.g, Gate.COMPLETED))
      const s = yield* ex.stats
      assert.deepStrictEqual([s.cancelled, s.crashes], [1, 0])
    })
  )

  /** Runs a fixture script in a child process (the pinned Node); its exit code and output. */
  const runScript = (name: string) =>
    Effect.callback<{ code: number | null; stdout: string; stderr: string }>((resume) => {
      const script = fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
      const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "pipe"] })
      let stdout = ""
      let stderr = ""
      child.stdout.on("data", (d) => (stdout += d))
      child.stderr.on("data", (d) => (stderr += d))
      child.on("close", (code) => resume(Effect.succeed({ code, stdout, stderr })))
      return Effect.sync(() => child.kill("SIGKILL"))
    }).pipe(bounded(`${name}'s exit`))

  it.live(
    "a script that never shuts its executor down exits once its work is done",
    () =>
      Effect.gen(function* () {
        const result = yield* runScript("noShutdown.ts")
        assert.strictEqual(result.code, 0, result.stderr)
        assert.strictEqual(result.stdout.trim(), "[1,4,9,16]")
      }),
    30_000
  )

  it.live(
    "a release that begins before a starting worker's READY is read still finishes (the stopping worker keeps the process alive until it exits)",
    () =>
      Effect.gen(function* () {
        const result = yield* runScript("releaseWhileStarting.ts")
        assert.strictEqual(result.code, 0, result.stderr)
        assert.strictEqual(result.stdout.trim(), "released")
      }),
    30_000
  )
})
