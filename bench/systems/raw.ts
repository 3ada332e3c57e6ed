// The raw baseline: what plain promises cost, with no library.
// W1 is N async loops pulling task indices (no futures at all); W2 and W6 use
// a minimal promise limiter (an array queue of {task, resolve, reject}).
import type { InProcessSystem, Runner } from "../types.ts"
import { type Limiter, type MakeLimiter, queuedMemory, sleep, throughput } from "./promiseLimiter.ts"

interface Job {
  readonly task: () => unknown
  readonly resolve: (value: unknown) => void
  readonly reject: (error: unknown) => void
}

/** A minimal FIFO promise limiter. */
export const makeLimiter: MakeLimiter = (concurrency): Limiter => {
  let queue: Array<Job> = []
  let head = 0
  let active = 0
  const done = () => {
    active--
    if (head < queue.length) {
      const job = queue[head]!
      queue[head++] = undefined as unknown as Job
      if (head === queue.length) {
        queue = []
        head = 0
      }
      start(job)
    }
  }
  const start = (job: Job) => {
    active++
    let result: unknown
    try {
      result = job.task()
    } catch (error) {
      job.reject(error)
      done()
      return
    }
    Promise.resolve(result).then(
      (value) => {
        job.resolve(value)
        done()
      },
      (error) => {
        job.reject(error)
        done()
      }
    )
  }
  return {
    submit: (task) =>
      new Promise((resolve, reject) => {
        const job: Job = { task, resolve, reject }
        if (active < concurrency) start(job)
        else queue.push(job)
      }),
    queued: () => queue.length - head
  }
}

/** W1 without futures: `concurrency` async loops, each awaiting one timer per task it takes. */
const ioLoops: Runner = async (params) => {
  const delay = params.delayMs ?? 10
  let next = 0
  let completed = 0
  const loop = async () => {
    while (next < params.tasks) {
      next++
      await sleep(delay)
      completed++
    }
  }
  const start = performance.now()
  const loops = new Array<Promise<void>>(params.concurrency)
  for (let i = 0; i < params.concurrency; i++) loops[i] = loop()
  await Promise.all(loops)
  return { completed, elapsedMs: performance.now() - start }
}

export const system: InProcessSystem = {
  _tag: "InProcess",
  id: "raw",
  label: "raw baseline",
  kind: "baseline",
  notes: "W1: N async loops, no futures; W2/W6: a minimal promise limiter (array queue)",
  runners: { W1: ioLoops, W2: throughput(makeLimiter), W6: queuedMemory(makeLimiter) }
}
