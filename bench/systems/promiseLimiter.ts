// The W1/W2/W6 runners shared by promise-based limiters (p-limit, p-queue, the raw baseline).
import { settle } from "../measure.ts"
import type { Runner, RunResult } from "../types.ts"

/** The face of a promise limiter: submit a function, get a promise of its result. */
export interface Limiter {
  readonly submit: (task: () => unknown) => Promise<unknown>
  /** Tasks waiting for a slot, as the limiter counts them. */
  readonly queued: () => number
}

export type MakeLimiter = (concurrency: number) => Limiter

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** W1: `tasks` tasks each awaiting a `delayMs` timer, all submitted, then all awaited in order. */
export const ioFanOut =
  (make: MakeLimiter): Runner =>
  async (params) => {
    const limiter = make(params.concurrency)
    const delay = params.delayMs ?? 10
    const promises = new Array<Promise<unknown>>(params.tasks)
    const start = performance.now()
    for (let i = 0; i < params.tasks; i++) promises[i] = limiter.submit(() => sleep(delay))
    let completed = 0
    for (let i = 0; i < params.tasks; i++) {
      if ((await promises[i]) === undefined) completed++
    }
    return { completed, elapsedMs: performance.now() - start }
  }

/** W2: `tasks` no-op functions, all submitted, then all awaited in order. */
export const throughput =
  (make: MakeLimiter): Runner =>
  async (params) => {
    const limiter = make(params.concurrency)
    const promises = new Array<Promise<unknown>>(params.tasks)
    const start = performance.now()
    for (let i = 0; i < params.tasks; i++) promises[i] = limiter.submit(() => undefined)
    let completed = 0
    for (let i = 0; i < params.tasks; i++) {
      if ((await promises[i]) === undefined) completed++
    }
    return { completed, elapsedMs: performance.now() - start }
  }

/**
 * W6: one task holds the only slot until released; `tasks` no-op functions
 * queue behind it. Memory is read (after a full GC) before and after queuing,
 * while the limiter, the blocker and every promise are still reachable.
 */
export const queuedMemory =
  (make: MakeLimiter): Runner =>
  async (params, env): Promise<RunResult> => {
    const limiter = make(1)
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    let started = false
    const blocker = limiter.submit(() => {
      started = true
      return gate
    })
    await settle()
    if (!started) throw new Error("the blocking task did not start")
    const promises = new Array<Promise<unknown>>(params.tasks)
    await settle()
    const memoryBefore = env.readMemory()
    const start = performance.now()
    for (let i = 0; i < params.tasks; i++) promises[i] = limiter.submit(() => undefined)
    const elapsedMs = performance.now() - start
    await settle()
    const memoryAfter = env.readMemory()
    const queuedAtMeasure = limiter.queued()
    release()
    await blocker
    let completed = 0
    for (let i = 0; i < params.tasks; i++) {
      if ((await promises[i]) === undefined) completed++
    }
    return { completed, elapsedMs, memoryBefore, memoryAfter, queuedAtMeasure }
  }
