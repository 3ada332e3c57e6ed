// effect-futures' CpuExecutor on the worker-pool workloads: a Future per task
// via `submit` then `Future.await`, or `map` with `chunksize` for W3c. The
// worker entry is bench/workers/effectFutures.ts.
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as CpuExecutor from "../../src/CpuExecutor.ts"
import * as Future from "../../src/Future.ts"
import { settle } from "../measure.ts"
import type { InProcessSystem, Runner, RunResult } from "../types.ts"
import { buildBundledWorker, requireBundledWorker } from "../workers/bundle.ts"
import { Block, Spin, Square, Warm } from "../workers/tasks.ts"
import {
  blockerStarted,
  calibrateSpin,
  latencyOf,
  newGate,
  range,
  releaseBlocker,
  serialSpin,
  warmArgs,
  warmupCount,
  warmupRoundTrips
} from "./poolRunners.ts"

type Options = Omit<CpuExecutor.Options, "worker" | "maxWorkers" | "minWorkers">

const sourceWorker = new URL("../workers/effectFutures.ts", import.meta.url)

const run = <E>(effect: Effect.Effect<RunResult, E, Scope.Scope>): Promise<RunResult> =>
  Effect.runPromise(Effect.scoped(effect))

/** A pool of `workers` threads, all started at once (the worker entry is `options.worker`, else the `.ts` source). */
const makeCpu = (options: Options & { readonly worker?: URL | undefined }, workers: number) =>
  CpuExecutor.make({ ...options, worker: options.worker ?? sourceWorker, maxWorkers: workers, minWorkers: workers })

/** Submits every payload, then awaits every future in order; returns the results. */
const submitAll = <A>(
  cpu: CpuExecutor.CpuExecutorShape,
  submit: (cpu: CpuExecutor.CpuExecutorShape, payload: A) => ReturnType<CpuExecutor.CpuExecutorShape["submit"]>,
  payloads: ReadonlyArray<A>
) =>
  Effect.gen(function* () {
    const futures = new Array<Future.Future<unknown, unknown>>(payloads.length)
    for (let i = 0; i < payloads.length; i++) futures[i] = yield* submit(cpu, payloads[i]!)
    const results = new Array<unknown>(payloads.length)
    for (let i = 0; i < payloads.length; i++) results[i] = yield* Future.await(futures[i]!)
    return results
  })

/** Boots every worker and compiles the loop there: a rendezvous per worker (see `warm` in kernels.ts). */
const bootAll = (cpu: CpuExecutor.CpuExecutorShape, options: Options, workers: number, iterations: number) =>
  submitAll(
    cpu,
    (c, args) => c.submit(Warm, args),
    warmArgs(workers, 1 + (options.prefetch ?? CpuExecutor.defaultPrefetch), iterations)
  )

const squares = (cpu: CpuExecutor.CpuExecutorShape, n: number) =>
  submitAll(cpu, (c, x: number) => c.submit(Square, x), range(n))

/** W3: one `submit` per task, all submitted, then all awaited in order. */
const tinyTasks =
  (options: Options): Runner =>
  (params) =>
    run(
      Effect.gen(function* () {
        const cpu = yield* makeCpu(options, params.concurrency)
        yield* bootAll(cpu, options, params.concurrency, 1000)
        yield* squares(cpu, warmupCount(params.tasks))
        const futures = new Array<Future.Future<number, unknown>>(params.tasks)
        const start = performance.now()
        for (let i = 0; i < params.tasks; i++) futures[i] = yield* cpu.submit(Square, i)
        let completed = 0
        for (let i = 0; i < params.tasks; i++) if ((yield* Future.await(futures[i]!)) === i * i) completed++
        return { completed, elapsedMs: performance.now() - start }
      })
    )

/** W3c: `map(Square, items, { chunksize })`, collected. */
const mapChunked =
  (options: Options): Runner =>
  (params) =>
    run(
      Effect.gen(function* () {
        const cpu = yield* makeCpu(options, params.concurrency)
        const chunksize = params.chunksize ?? 1000
        const collect = (items: Array<number>) =>
          Effect.map(Stream.runCollect(cpu.map(Square, items, { chunksize })), (results) => {
            let completed = 0
            let i = 0
            for (const y of results) {
              if (y === items[i]! * items[i]!) completed++
              i++
            }
            return completed
          })
        yield* bootAll(cpu, options, params.concurrency, 1000)
        yield* collect(range(warmupCount(params.tasks)))
        const items = range(params.tasks)
        const start = performance.now()
        const completed = yield* collect(items)
        return { completed, elapsedMs: performance.now() - start }
      })
    )

/** W4: the serial run on this thread, then the same tasks through the executor (every worker warmed first). */
const heavyTasks =
  (options: Options): Runner =>
  (params) => {
    const iterations = calibrateSpin(params.taskMs ?? 100)
    const serial = serialSpin(params.tasks, iterations)
    return run(
      Effect.gen(function* () {
        const cpu = yield* makeCpu(options, params.concurrency)
        yield* bootAll(cpu, options, params.concurrency, iterations)
        const futures = new Array<Future.Future<number, unknown>>(params.tasks)
        const start = performance.now()
        for (let i = 0; i < params.tasks; i++) futures[i] = yield* cpu.submit(Spin, { iterations, seed: i + 1 })
        let completed = 0
        for (let i = 0; i < params.tasks; i++) {
          if ((yield* Future.await(futures[i]!)) === serial.expected[i]) completed++
        }
        return { completed, elapsedMs: performance.now() - start, serialMs: serial.ms, iterations }
      })
    )
  }

/** W5: executor creation to first result, then `tasks` sequential submit-and-await round trips. */
const roundTrips =
  (options: Options, worker?: () => URL): Runner =>
  (params) =>
    run(
      Effect.gen(function* () {
        const entry = worker?.()
        const spawnStart = performance.now()
        const cpu = yield* makeCpu({ ...options, worker: entry }, params.concurrency)
        if ((yield* Future.await(yield* cpu.submit(Square, 3))) !== 9) return yield* Effect.die("wrong first result")
        const spawnMs = performance.now() - spawnStart
        yield* bootAll(cpu, options, params.concurrency, 1000)
        for (let i = 0; i < warmupRoundTrips(params.tasks); i++) yield* Future.await(yield* cpu.submit(Square, i))
        const samples = new Float64Array(params.tasks)
        let completed = 0
        const start = performance.now()
        for (let i = 0; i < params.tasks; i++) {
          const t = performance.now()
          const y = yield* Future.await(yield* cpu.submit(Square, i))
          samples[i] = (performance.now() - t) * 1000
          if (y === i * i) completed++
        }
        return { completed, elapsedMs: performance.now() - start, latencyUs: latencyOf(samples), spawnMs }
      })
    )

/**
 * W6: one worker blocked in Atomics.wait (released through the SharedArrayBuffer);
 * `tasks` futures queue behind it. Memory is read while the executor, the
 * blocker and every future are reachable. Not started = queued + running − the
 * blocker (a prefetched task counts as running but waits in the worker).
 */
const queuedMemory =
  (options: Options): Runner =>
  (params, env) =>
    run(
      Effect.gen(function* () {
        const cpu = yield* makeCpu(options, 1)
        if ((yield* Future.await(yield* cpu.submit(Square, 2))) !== 4) return yield* Effect.die("wrong warm-up result")
        const gate = newGate(2)
        const blocker = yield* cpu.submit(Block, gate)
        yield* Effect.promise(() => blockerStarted(gate))
        const futures = new Array<Future.Future<number, unknown>>(params.tasks)
        yield* Effect.promise(settle)
        const memoryBefore = env.readMemory()
        const start = performance.now()
        for (let i = 0; i < params.tasks; i++) futures[i] = yield* cpu.submit(Square, i)
        const elapsedMs = performance.now() - start
        yield* Effect.promise(settle)
        const memoryAfter = env.readMemory()
        const stats = yield* cpu.stats
        const queuedAtMeasure = stats.queued + stats.prefetched + stats.running - 1
        releaseBlocker(gate)
        yield* Future.await(blocker)
        let completed = 0
        for (let i = 0; i < params.tasks; i++) if ((yield* Future.await(futures[i]!)) === i * i) completed++
        return { completed, elapsedMs, memoryBefore, memoryAfter, queuedAtMeasure }
      })
    )

export const make = (id: string, label: string, options: Options, notes: string): InProcessSystem => ({
  _tag: "InProcess",
  id,
  label,
  kind: "ours",
  notes,
  runners: {
    W3: tinyTasks(options),
    W3c: mapChunked(options),
    W4: heavyTasks(options),
    W5: roundTrips(options),
    W6: queuedMemory(options)
  }
})

/** Default options (but the pool size): prefetch 16, metrics on. */
export const system = make(
  "effect-futures-cpu",
  "effect-futures CpuExecutor (defaults)",
  {},
  "`CpuExecutor.make({ worker, maxWorkers: n, minWorkers: n })`, otherwise defaults (prefetch 16, metrics on); `submit` then `Future.await` per task; W3c: `map(Square, items, { chunksize: 1000 })` collected"
)

/**
 * Defaults, the worker entry bundled into one file (README, "Fast worker
 * start"): W5 only, where spawn → first result is measured.
 */
export const bundled: InProcessSystem = {
  _tag: "InProcess",
  id: "effect-futures-cpu-bundled",
  label: "effect-futures CpuExecutor (defaults, bundled worker entry)",
  kind: "ours",
  notes:
    "as effect-futures-cpu, with the worker entry bundled by rolldown into one ESM file (effect inside), built once before the rounds",
  prepare: buildBundledWorker,
  runners: { W5: roundTrips({}, requireBundledWorker) }
}

/** The tuned options: tasks sent ahead to each worker, metrics off. */
export const tuned = make(
  "effect-futures-cpu-tuned",
  "effect-futures CpuExecutor (prefetch 32, metrics off)",
  { prefetch: 32, metrics: false },
  "`CpuExecutor.make({ worker, maxWorkers: n, minWorkers: n, prefetch: 32, metrics: false })`; `submit` then `Future.await` per task; W3c: `map(Square, items, { chunksize: 1000 })` collected"
)
