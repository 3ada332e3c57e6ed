// The raw worker baseline: bare `postMessage` to worker threads, no pool
// library, no schema, no futures. W3–W5 post every task at once, round robin
// (the workers' message queues hold the backlog); W6 keeps at most one task
// per worker in flight and the rest in an array on the main thread (posting
// them would park them off the V8 heap, in the message ports).
import { Worker } from "node:worker_threads"
import * as P from "../workers/rawProtocol.ts"
import type { InProcessSystem } from "../types.ts"
import { batchedTasks, heavyTasks, type MakePool, queuedMemory, roundTrips, tinyTasks } from "./poolRunners.ts"

const url = new URL("../workers/raw.ts", import.meta.url)

interface Job {
  readonly kind: number
  readonly payload: unknown
  readonly resolve: (value: any) => void
  readonly reject: (error: unknown) => void
}

/** A pool of `workers` threads with at most `window` tasks in flight per worker (Infinity: round robin). */
export const makeRaw =
  (window: number): MakePool =>
  (workers) => {
    const threads = Array.from({ length: workers }, () => new Worker(url))
    const inflight = new Array<number>(workers).fill(0)
    const pending = new Map<number, Job>()
    let queue: Array<Job> = []
    let head = 0
    let nextId = 0
    let next = 0
    const post = (w: number, job: Job) => {
      const id = nextId++
      pending.set(id, job)
      inflight[w]!++
      threads[w]!.postMessage([id, job.kind, job.payload])
    }
    threads.forEach((thread, w) => {
      thread.on("message", ([id, result]: [number, unknown]) => {
        const job = pending.get(id)!
        pending.delete(id)
        inflight[w]!--
        if (head < queue.length) {
          const queued = queue[head]!
          queue[head++] = undefined as unknown as Job
          if (head === queue.length) {
            queue = []
            head = 0
          }
          post(w, queued)
        }
        job.resolve(result)
      })
      thread.on("error", (error) => {
        for (const job of pending.values()) job.reject(error)
        pending.clear()
      })
    })
    const send = <A>(kind: number, payload: unknown): Promise<A> =>
      new Promise<A>((resolve, reject) => {
        const job: Job = { kind, payload, resolve, reject }
        if (window === Infinity) return post(next++ % workers, job)
        for (let w = 0; w < workers; w++) if (inflight[w]! < window) return post(w, job)
        queue.push(job)
      })
    return {
      square: (x) => send(P.SQUARE, x),
      squares: (xs) => send(P.SQUARES, xs),
      spin: (args) => send(P.SPIN, args),
      warm: (args) => send(P.WARM, args),
      block: (gate) => send(P.BLOCK, gate),
      notStarted: () => queue.length - head,
      close: async () => {
        await Promise.all(threads.map((thread) => thread.terminate()))
      }
    }
  }

export const system: InProcessSystem = {
  _tag: "InProcess",
  id: "raw-worker",
  label: "raw postMessage baseline",
  kind: "baseline",
  notes:
    "`new Worker` × n and bare `postMessage([id, kind, x])`, a Map of resolvers; W3–W5 post every task at once round robin, W3c posts arrays of 1000; W6 holds one task in flight per worker and queues the rest in an array",
  runners: {
    W3: tinyTasks(makeRaw(Infinity)),
    W3c: batchedTasks(makeRaw(Infinity)),
    W4: heavyTasks(makeRaw(Infinity)),
    W5: roundTrips(makeRaw(Infinity)),
    W6: queuedMemory(makeRaw(1))
  }
}
