// The soak run's targets: one per executor. A target submits a task for a
// scenario, runs a map block, and reads the executor's counters; run.ts
// drives both the same way.
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import * as os from "node:os"
import * as CpuExecutor from "../../src/CpuExecutor.ts"
import type { Stats } from "../../src/Executor.ts"
import type { InvalidOptionsError, SubmitError } from "../../src/ExecutorError.ts"
import * as Future from "../../src/Future.ts"
import * as IoExecutor from "../../src/IoExecutor.ts"
import { Counter, encode, Kind, makeShared, Soak, SoakFailure, startedMask } from "./tasks.ts"

/** What a submitted task does, and what is done to it. */
export const Scenario = {
  ok: 0,
  okAsync: 1,
  okSleep: 2,
  fail: 3,
  die: 4,
  interrupt: 5,
  timeout: 6,
  cancelQueued: 7,
  cancelRunning: 8,
  spin: 9,
  crash: 10
} as const
export type Scenario = (typeof Scenario)[keyof typeof Scenario]

const chunksize = 64

export interface Submitted {
  readonly future: Future.Future<number, unknown>
  /** Completes once the task runs (or its future settled otherwise): when a running cancel can start. */
  readonly started: Effect.Effect<unknown> | undefined
}

export interface MapBlock {
  readonly start: number
  readonly size: number
  /** The last item fails with SoakFailure: the stream fails after the items before it. */
  readonly failLast: boolean
  /** Use `buffersize` (I/O executor). */
  readonly buffered: boolean
}

export interface Target {
  readonly name: "io" | "cpu"
  readonly config: Record<string, unknown>
  /** Scenario weights per 1000 submitted tasks. */
  readonly weights: ReadonlyArray<readonly [Scenario, number]>
  /** One block of 256 items in `mapEvery` goes through executor.map (the second, then every mapEvery-th). */
  readonly mapEvery: number
  /** spin and crash tasks exist (CPU). */
  readonly specials: boolean
  readonly submit: (scenario: Scenario, seq: number) => Effect.Effect<Submitted, SubmitError>
  readonly map: (block: MapBlock) => Stream.Stream<number, unknown>
  /** Futures a map block submits, and the items it emits when nothing crashes. */
  readonly mapShape: (block: MapBlock) => { readonly futures: number; readonly emitted: number }
  readonly stats: Effect.Effect<Stats>
  /** Futures that may fail with WorkerCrashedError because their worker died for another task (CPU: prefetch). */
  readonly collateralPerLostWorker: number
  /** Workers lost so far (terminated or crashed); waits until the pool is whole again. */
  readonly lostWorkers: Effect.Effect<number>
  /** Cumulative counters worth reporting. */
  readonly extra: Effect.Effect<Record<string, number>>
  /** Run before each phase (sequence numbers restart at 0). */
  readonly beginPhase: Effect.Effect<void>
}

/** The I/O executor: 32 fibers, maxQueue 256, whenFull "suspend". */
export const ioTarget: Effect.Effect<Target, InvalidOptionsError, Scope.Scope> = Effect.gen(function* () {
  const config = { maxWorkers: 32, maxQueue: 256, whenFull: "suspend" as const, name: "soak-io" }
  const ex = yield* IoExecutor.make(config)
  const seqTask = (seq: number) => (seq & 1 ? Effect.succeed(seq) : Effect.as(Effect.yieldNow, seq))
  const target: Target = {
    name: "io",
    config,
    weights: [
      [Scenario.ok, 250],
      [Scenario.okAsync, 250],
      [Scenario.okSleep, 40],
      [Scenario.fail, 120],
      [Scenario.die, 40],
      [Scenario.interrupt, 40],
      [Scenario.timeout, 40],
      [Scenario.cancelQueued, 110],
      [Scenario.cancelRunning, 110]
    ],
    mapEvery: 4,
    specials: false,
    submit: (scenario, seq) => {
      const plain = (task: Effect.Effect<number, unknown>) =>
        Effect.map(ex.submit(task), (future): Submitted => ({ future, started: undefined }))
      switch (scenario) {
        case Scenario.ok:
          return plain(Effect.succeed(seq))
        case Scenario.okAsync:
          return plain(Effect.as(Effect.yieldNow, seq))
        case Scenario.okSleep:
          return plain(Effect.as(Effect.sleep(1), seq))
        case Scenario.fail:
          return plain(Effect.fail(new SoakFailure({ seq })))
        case Scenario.die:
          return plain(Effect.die(new Error(`die ${seq}`)))
        case Scenario.interrupt:
          return plain(Effect.interrupt)
        case Scenario.timeout:
          return Effect.map(ex.submit(Effect.never, { timeout: 1 }), (future): Submitted => ({
            future,
            started: undefined
          }))
        case Scenario.cancelQueued:
          return plain(Effect.never)
        default: {
          // cancelRunning: the task says when it runs
          const started = Deferred.makeUnsafe<void>()
          return Effect.map(
            ex.submit(Effect.andThen(Deferred.succeed(started, undefined), Effect.never)),
            (future): Submitted => ({
              future,
              started: Effect.raceFirst(Deferred.await(started), Future.exit(future))
            })
          )
        }
      }
    },
    map: (block) =>
      ex.map(
        range(block.start, block.size),
        (seq) =>
          block.failLast && seq === block.start + block.size - 1 ? Effect.fail(new SoakFailure({ seq })) : seqTask(seq),
        { buffersize: block.buffered ? 32 : undefined }
      ),
    mapShape: (block) => ({ futures: block.size, emitted: block.failLast ? block.size - 1 : block.size }),
    stats: ex.stats,
    collateralPerLostWorker: 0,
    lostWorkers: Effect.succeed(0),
    extra: Effect.succeed({}),
    beginPhase: Effect.void
  }
  return target
})

/** The CPU executor: a worker per core (at least 2), prefetch 4, maxQueue 256, whenFull "suspend". */
export const cpuTarget: Effect.Effect<Target, InvalidOptionsError, Scope.Scope> = Effect.gen(function* () {
  const shared = makeShared()
  const maxWorkers = Math.max(2, os.availableParallelism())
  const config = {
    maxWorkers,
    minWorkers: maxWorkers,
    prefetch: 4,
    maxQueue: 256,
    whenFull: "suspend" as const,
    cancelGracePeriod: 50,
    // a few crashes are the point: allow them, and keep the restart backoff short
    maxCrashes: 50,
    crashWindow: 10_000,
    name: "soak-cpu"
  }
  const ex = yield* CpuExecutor.make({ ...config, worker: new URL("./worker.ts", import.meta.url), workerData: shared })
  const submit = (seq: number, kind: number, timeout?: number) =>
    ex.submit(Soak, encode(seq, kind), timeout === undefined ? undefined : { timeout })
  const plain = (seq: number, kind: number, timeout?: number) =>
    Effect.map(submit(seq, kind, timeout), (future): Submitted => ({ future, started: undefined }))
  const whenStarted = (seq: number, kind: number) =>
    Effect.map(submit(seq, kind), (future): Submitted => ({
      future,
      started: Effect.raceFirst(startedInWorker(shared.started, seq), Future.exit(future))
    }))
  const target: Target = {
    name: "cpu",
    config,
    weights: [
      [Scenario.ok, 600],
      [Scenario.fail, 120],
      [Scenario.die, 40],
      [Scenario.interrupt, 40],
      [Scenario.timeout, 30],
      [Scenario.cancelQueued, 100],
      [Scenario.cancelRunning, 70]
    ],
    mapEvery: 4,
    specials: true,
    submit: (scenario, seq) => {
      switch (scenario) {
        case Scenario.fail:
          return plain(seq, Kind.fail)
        case Scenario.die:
          return plain(seq, Kind.die)
        case Scenario.interrupt:
          return plain(seq, Kind.interrupt)
        case Scenario.timeout:
          return plain(seq, Kind.hang, 2)
        case Scenario.cancelQueued:
          return plain(seq, Kind.hang)
        case Scenario.cancelRunning:
          return whenStarted(seq, Kind.hang)
        case Scenario.spin:
          return whenStarted(seq, Kind.spin)
        case Scenario.crash:
          return plain(seq, Kind.crash)
        default:
          return plain(seq, Kind.succeed)
      }
    },
    map: (block) =>
      ex.map(
        Soak,
        range(block.start, block.size).map((seq) =>
          encode(seq, block.failLast && seq === block.start + block.size - 1 ? Kind.fail : Kind.succeed)
        ),
        { chunksize }
      ),
    mapShape: (block) => ({
      futures: Math.ceil(block.size / chunksize),
      // the chunk holding the failing item emits the items before it, then fails
      emitted: block.failLast ? block.size - 1 : block.size
    }),
    stats: ex.stats,
    collateralPerLostWorker: config.prefetch,
    lostWorkers: Effect.gen(function* () {
      // wait (a bounded time) until replacements are up, so every start is counted
      for (let i = 0; i < 200; i++) {
        const s = yield* ex.stats
        if (s.workers === maxWorkers && s.threads === maxWorkers) break
        yield* Effect.sleep(50)
      }
      return Atomics.load(shared.counters, Counter.workersStarted) - maxWorkers
    }),
    extra: Effect.map(ex.stats, (s) => ({
      workerCrashes: s.crashes,
      workerRestarts: s.restarts,
      workersStarted: Atomics.load(shared.counters, Counter.workersStarted),
      hangStartedInWorker: Atomics.load(shared.counters, Counter.hangStarted),
      hangInterruptedInWorker: Atomics.load(shared.counters, Counter.hangInterrupted),
      spinStartedInWorker: Atomics.load(shared.counters, Counter.spinStarted)
    })),
    // no task runs between phases: forget the started marks of the last one,
    // whose sequence numbers are about to be reused
    beginPhase: Effect.sync(() => shared.started.fill(0))
  }
  return target
})

/** Completes once the worker has marked task `seq` as started (see tasks.ts). */
const startedInWorker = (started: Int32Array, seq: number): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    const index = seq & startedMask
    let stopped = false
    const check = (): void => {
      if (stopped) return
      const value = Atomics.load(started, index)
      if (value === seq + 1) return resume(Effect.void)
      // the timeout bounds how long an abandoned wait lingers
      const waiting = Atomics.waitAsync(started, index, value, 100)
      if (waiting.async) void waiting.value.then(check)
      else check()
    }
    check()
    return Effect.sync(() => {
      stopped = true
    })
  })

const range = (start: number, size: number): Array<number> => Array.from({ length: size }, (_, i) => start + i)
