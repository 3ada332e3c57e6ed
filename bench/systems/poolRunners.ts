// The worker-pool workloads (W3, W3c, W4, W5, W6) for pools with a promise
// API (piscina, tinypool, workerpool, the raw postMessage baseline), and the
// helpers effect-futures' CPU runners share with them.
//
// Every pool is booted and warmed before a timed section starts: worker spawn
// time is never part of a throughput figure (W5 reports it on its own).
import { settle } from "../measure.ts"
import { type SpinArgs, spin, type WarmArgs } from "../workers/kernels.ts"
import type { Latency, Runner, RunResult } from "../types.ts"

/** The face of a worker pool: one method per kernel in bench/workers/kernels.ts. */
export interface Pool {
  readonly square: (x: number) => PromiseLike<number>
  readonly squares: (xs: Array<number>) => PromiseLike<Array<number>>
  readonly spin: (args: SpinArgs) => PromiseLike<number>
  readonly warm: (args: WarmArgs) => PromiseLike<number>
  readonly block: (gate: Int32Array) => PromiseLike<number>
  /** Tasks submitted but not started (queued in the pool or sent ahead to a worker), as the pool counts them. */
  readonly notStarted: () => number
  readonly close: () => Promise<void>
}

/** Creates a pool of `workers` threads, all started at once (`minThreads` = `maxThreads`). */
export type MakePool = (workers: number) => Pool

/** A pool with piscina's API (`run(payload, { name })`, `queueSize`, `destroy`): piscina and its fork tinypool. */
export interface NamedRunPool {
  readonly run: (payload: any, options?: { readonly name: string }) => Promise<any>
  readonly queueSize: number
  readonly destroy: () => Promise<void>
}

/** The bench tasks on a pool with piscina's API; the worker module exports them by name. */
export const namedRunTasks = (pool: NamedRunPool): Pool => ({
  square: (x) => pool.run(x),
  squares: (xs) => pool.run(xs, { name: "squares" }),
  spin: (args) => pool.run(args, { name: "spin" }),
  warm: (args) => pool.run(args, { name: "warm" }),
  block: (gate) => pool.run(gate, { name: "block" }),
  notStarted: () => pool.queueSize,
  close: () => pool.destroy()
})

// ---------------------------------------------------------------------------
// helpers shared with effect-futures' runners
// ---------------------------------------------------------------------------

/** An Int32Array of `length` over a SharedArrayBuffer. */
export const newGate = (length: number): Int32Array => new Int32Array(new SharedArrayBuffer(4 * length))

/**
 * The warm-up tasks that make every worker take one: a rendezvous of `workers`
 * parties (see `warm` in kernels.ts). `perWorker` is how many tasks a pool may
 * hand one worker at once (1 + prefetch): that many tasks per worker are sent,
 * so each worker gets some whichever way the pool spreads them.
 */
export const warmArgs = (workers: number, perWorker: number, iterations: number): Array<WarmArgs> => {
  const gate = newGate(1)
  return Array.from({ length: workers * perWorker }, () => ({ gate, parties: workers, iterations }))
}

/** Waits (without blocking this thread) until a blocker has set gate[0]. */
export const blockerStarted = async (gate: Int32Array): Promise<void> => {
  const deadline = performance.now() + 10_000
  while (Atomics.load(gate, 0) === 0) {
    if (performance.now() > deadline) throw new Error("the blocking task did not start within 10 s")
    await Atomics.waitAsync(gate, 0, 0, 1_000).value
  }
}

/** Releases a blocker (gate[1] = 1). */
export const releaseBlocker = (gate: Int32Array): void => {
  Atomics.store(gate, 1, 1)
  Atomics.notify(gate, 1)
}

/** W4: compiles the loop on this thread, then returns the iterations that take about `taskMs`. */
export const calibrateSpin = (taskMs: number): number => {
  for (let i = 0; i < 3; i++) spin(2_000_000, i)
  let best = Infinity
  const n = 10_000_000
  for (let i = 0; i < 3; i++) {
    const start = performance.now()
    spin(n, i)
    best = Math.min(best, performance.now() - start)
  }
  return Math.max(1000, Math.round((n / best) * taskMs))
}

/** W4: the tasks one after another on this thread; their results are what the pool must return. */
export const serialSpin = (
  tasks: number,
  iterations: number
): { readonly ms: number; readonly expected: Array<number> } => {
  const expected = new Array<number>(tasks)
  const start = performance.now()
  for (let i = 0; i < tasks; i++) expected[i] = spin(iterations, i + 1)
  return { ms: performance.now() - start, expected }
}

/** 0, 1, …, n-1. */
export const range = (n: number): Array<number> => Array.from({ length: n }, (_, i) => i)

/** Quantiles of round-trip samples (µs). */
export const latencyOf = (samples: Float64Array): Latency => {
  const sorted = Float64Array.from(samples).sort()
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
  let sum = 0
  for (const s of sorted) sum += s
  return { p25: at(0.25), p50: at(0.5), p75: at(0.75), p99: at(0.99), mean: sum / sorted.length }
}

/** Untimed tasks before a timed section (enough for V8 to compile the paths involved). */
export const warmupCount = (tasks: number): number => Math.min(10_000, tasks)

/** W5's untimed round trips before the measured ones. */
export const warmupRoundTrips = (tasks: number): number => Math.min(500, tasks)

// ---------------------------------------------------------------------------
// runners
// ---------------------------------------------------------------------------

const withPool = async <A>(make: MakePool, workers: number, f: (pool: Pool) => Promise<A>): Promise<A> => {
  const pool = make(workers)
  try {
    return await f(pool)
  } finally {
    await pool.close()
  }
}

/** Boots every worker (a rendezvous: each worker runs one warm-up task) and compiles the loop there. */
const bootAll = async (pool: Pool, workers: number, iterations: number): Promise<void> => {
  await Promise.all(warmArgs(workers, 1, iterations).map((args) => pool.warm(args)))
}

/** W3: `tasks` × `x*x`, one task per message; all submitted, then all awaited in order. */
export const tinyTasks =
  (make: MakePool): Runner =>
  (params) =>
    withPool(make, params.concurrency, async (pool) => {
      await bootAll(pool, params.concurrency, 1000)
      const warm = range(warmupCount(params.tasks)).map((x) => pool.square(x))
      for (const p of warm) await p
      const promises = new Array<PromiseLike<number>>(params.tasks)
      const start = performance.now()
      for (let i = 0; i < params.tasks; i++) promises[i] = pool.square(i)
      let completed = 0
      for (let i = 0; i < params.tasks; i++) if ((await promises[i]) === i * i) completed++
      return { completed, elapsedMs: performance.now() - start }
    })

/** W3c for pools without chunking: arrays of `chunksize` items, one array per task. */
export const batchedTasks =
  (make: MakePool): Runner =>
  (params) =>
    withPool(make, params.concurrency, async (pool) => {
      const size = params.chunksize ?? 1000
      const run = async (n: number) => {
        const promises: Array<PromiseLike<Array<number>>> = []
        for (let from = 0; from < n; from += size) {
          const chunk = new Array<number>(Math.min(size, n - from))
          for (let j = 0; j < chunk.length; j++) chunk[j] = from + j
          promises.push(pool.squares(chunk))
        }
        let completed = 0
        let i = 0
        for (const p of promises) {
          for (const y of await p) {
            if (y === i * i) completed++
            i++
          }
        }
        return completed
      }
      await bootAll(pool, params.concurrency, 1000)
      await run(warmupCount(params.tasks))
      const start = performance.now()
      const completed = await run(params.tasks)
      return { completed, elapsedMs: performance.now() - start }
    })

/** W4: the serial run on this thread, then the same tasks through the pool (every worker warmed first). */
export const heavyTasks =
  (make: MakePool): Runner =>
  async (params) => {
    const iterations = calibrateSpin(params.taskMs ?? 100)
    const serial = serialSpin(params.tasks, iterations)
    return withPool(make, params.concurrency, async (pool) => {
      await bootAll(pool, params.concurrency, iterations)
      const promises = new Array<PromiseLike<number>>(params.tasks)
      const start = performance.now()
      for (let i = 0; i < params.tasks; i++) promises[i] = pool.spin({ iterations, seed: i + 1 })
      let completed = 0
      for (let i = 0; i < params.tasks; i++) if ((await promises[i]) === serial.expected[i]) completed++
      return { completed, elapsedMs: performance.now() - start, serialMs: serial.ms, iterations }
    })
  }

/** W5: pool creation to first result, then `tasks` sequential submit-and-await round trips. */
export const roundTrips =
  (make: MakePool): Runner =>
  async (params) => {
    const spawnStart = performance.now()
    const pool = make(params.concurrency)
    try {
      if ((await pool.square(3)) !== 9) throw new Error("wrong first result")
      const spawnMs = performance.now() - spawnStart
      await bootAll(pool, params.concurrency, 1000)
      for (let i = 0; i < warmupRoundTrips(params.tasks); i++) await pool.square(i)
      const samples = new Float64Array(params.tasks)
      let completed = 0
      const start = performance.now()
      for (let i = 0; i < params.tasks; i++) {
        const t = performance.now()
        const y = await pool.square(i)
        samples[i] = (performance.now() - t) * 1000
        if (y === i * i) completed++
      }
      return { completed, elapsedMs: performance.now() - start, latencyUs: latencyOf(samples), spawnMs }
    } finally {
      await pool.close()
    }
  }

/**
 * W6: one worker blocked in Atomics.wait (released through the SharedArrayBuffer,
 * not by a message); `tasks` tasks queue behind it. Memory is read before and
 * after queuing while the pool, the blocker and every promise are reachable.
 */
export const queuedMemory =
  (make: MakePool): Runner =>
  (params, env) =>
    withPool(make, 1, async (pool): Promise<RunResult> => {
      if ((await pool.square(2)) !== 4) throw new Error("wrong warm-up result")
      const gate = newGate(2)
      const blocker = pool.block(gate)
      await blockerStarted(gate)
      const promises = new Array<PromiseLike<number>>(params.tasks)
      await settle()
      const memoryBefore = env.readMemory()
      const start = performance.now()
      for (let i = 0; i < params.tasks; i++) promises[i] = pool.square(i)
      const elapsedMs = performance.now() - start
      await settle()
      const memoryAfter = env.readMemory()
      const queuedAtMeasure = pool.notStarted()
      releaseBlocker(gate)
      await blocker
      let completed = 0
      for (let i = 0; i < params.tasks; i++) if ((await promises[i]) === i * i) completed++
      return { completed, elapsedMs, memoryBefore, memoryAfter, queuedAtMeasure }
    })

/** All five runners of a promise-based pool. */
export const runners = (make: MakePool) => ({
  W3: tinyTasks(make),
  W3c: batchedTasks(make),
  W4: heavyTasks(make),
  W5: roundTrips(make),
  W6: queuedMemory(make)
})
