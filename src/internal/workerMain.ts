// The worker thread's side of the CPU executor.
//
// A task that arrives while the worker has room and nothing waiting starts at
// once and its result goes back in the same turn (the latency path). Otherwise
// it waits in a local queue, drained in slices of about `sliceMs`: tiny tasks
// run back to back and their results go out in one message, while after a
// long task the worker sends its result and yields, so an INTERRUPT for a
// task still queued here is seen before that task starts (it never starts).
//
// A handler returning an `Exit` (`Effect.succeed`, `Effect.fail`) is settled
// without a fiber; any other Effect runs in a fiber of its own, which INTERRUPT
// interrupts (its finalizers run here, in the worker).
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import { parentPort, workerData } from "node:worker_threads"
import type * as Task from "../Task.ts"
import * as codec from "./codec.ts"
import * as cpuJob from "./cpuJob.ts"
import * as protocol from "./protocol.ts"

/** @internal */
export interface Handler {
  readonly task: Task.AnyTask
  readonly run: (payload: any) => Effect.Effect<any, any>
}

/** @internal */
export interface ServeOptions {
  readonly initialize?: ((workerData: unknown) => Effect.Effect<unknown, unknown, Scope.Scope>) | undefined
}

/** @internal */
export const TransferTypeId = "~effect-futures/Transfer" as const

/** @internal */
export interface Transfer<A> {
  readonly [TransferTypeId]: typeof TransferTypeId
  readonly value: A
  readonly transferList: ReadonlyArray<Transferable>
}

type Transferable = ArrayBuffer | import("node:worker_threads").MessagePort | { readonly [key: string]: unknown }

interface Job {
  readonly id: number
  readonly name: string
  readonly payload: unknown
  readonly chunk: boolean
}

/** @internal */
export const serve = (handlers: ReadonlyArray<Handler>, options: ServeOptions = {}): void => {
  const port = parentPort
  const data = workerData as protocol.WorkerData | undefined
  if (port === null || data?.$effectFutures !== 1) {
    throw new Error("CpuWorker.serve must run in a worker thread started by a CpuExecutor")
  }
  const entries = new Map<string, cpuJob.Entry>()
  for (const handler of handlers) {
    if (entries.has(handler.task.name)) throw new Error(`CpuWorker.serve: task "${handler.task.name}" is served twice`)
    entries.set(handler.task.name, cpuJob.makeEntry(handler.task, handler.run))
  }

  const concurrency = data.concurrency
  const queue: Array<Job> = []
  let queueHead = 0
  const running = new Map<number, Fiber.Fiber<unknown, unknown>>()
  let outbox: Array<unknown> = []
  let transfers: Array<Transferable> = []
  let drainScheduled = false
  let flushScheduled = false
  let closed = false
  const scope = Scope.makeUnsafe()

  const flush = () => {
    flushScheduled = false
    if (outbox.length === 0 || closed) return
    const batch = outbox
    const list = transfers
    outbox = []
    transfers = []
    try {
      port.postMessage([protocol.RESULTS, batch], list as Array<any>)
    } catch {
      // one result could not be cloned: send them one by one, failing only that one
      for (let i = 0; i < batch.length; i += 3) {
        try {
          port.postMessage([protocol.RESULTS, [batch[i], batch[i + 1], batch[i + 2]]], list as Array<any>)
        } catch (error) {
          port.postMessage([
            protocol.RESULTS,
            [batch[i], protocol.CODEC_ERROR, ["success", `cannot be sent to the parent: ${message(error)}`]]
          ])
        }
      }
    }
  }

  const scheduleFlush = () => {
    if (flushScheduled) return
    flushScheduled = true
    setImmediate(flush)
  }

  const reply = (id: number, kind: number, value: unknown) => {
    outbox.push(id, kind, value)
  }

  const unwrap = (value: unknown) => unwrapTransfer(value, transfers)

  const settle = (job: Job, entry: cpuJob.Entry, exit: Exit.Exit<unknown, unknown>) => {
    const [kind, value] = cpuJob.encodeExit(entry, job.chunk, exit, unwrap)
    reply(job.id, kind, value)
  }

  const taken = data.taken
  const start = (job: Job) => {
    if (taken !== undefined) Atomics.add(taken, 0, 1)
    const entry = entries.get(job.name)
    if (entry === undefined) return reply(job.id, protocol.UNKNOWN_TASK, job.name)
    const effect = cpuJob.prepare(entry, job.payload, job.chunk)
    if (!Effect.isEffect(effect)) return reply(job.id, effect[0], effect[1])
    if (Exit.isExit(effect)) return settle(job, entry, effect)
    const fiber = Effect.runFork(effect)
    const exit = fiber.pollUnsafe()
    if (exit !== undefined) return settle(job, entry, exit)
    running.set(job.id, fiber)
    fiber.addObserver((exit) => {
      running.delete(job.id)
      settle(job, entry, exit)
      scheduleFlush()
      scheduleDrain()
    })
  }

  const drain = () => {
    drainScheduled = false
    const sliceStart = performance.now()
    while (queueHead < queue.length && running.size < concurrency && !closed) {
      if (performance.now() - sliceStart >= sliceMs) {
        // a long turn: send what is done and let INTERRUPTs in before the next task starts
        scheduleDrain()
        break
      }
      const job = queue[queueHead]
      queue[queueHead++] = undefined as any
      if (job !== undefined) start(job)
    }
    if (queueHead === queue.length) {
      queue.length = 0
      queueHead = 0
    }
    flush()
  }

  const scheduleDrain = () => {
    if (drainScheduled) return
    drainScheduled = true
    setImmediate(drain)
  }

  const idle = () => !drainScheduled && queueHead === queue.length && running.size < concurrency && !closed

  const interrupt = (id: number) => {
    for (let i = queueHead; i < queue.length; i++) {
      const job = queue[i]
      if (job !== undefined && job.id === id) {
        queue[i] = undefined as any
        if (taken !== undefined) Atomics.add(taken, 0, 1)
        reply(id, protocol.INTERRUPTED, undefined)
        scheduleFlush()
        return
      }
    }
    running.get(id)?.interruptUnsafe()
  }

  const close = () => {
    if (closed) return
    closed = true
    for (const fiber of running.values()) fiber.interruptUnsafe()
    Effect.runFork(Scope.close(scope, Exit.void)).addObserver(() => port.close())
  }

  port.on("message", (message: Array<any>) => {
    switch (message[0]) {
      case protocol.RUN:
      case protocol.RUN_CHUNK: {
        const job: Job = {
          id: message[1],
          name: message[2],
          payload: message[3],
          chunk: message[0] === protocol.RUN_CHUNK
        }
        if (idle()) {
          // nothing queued or scheduled: start at once and answer in the same turn
          start(job)
          return flush()
        }
        queue.push(job)
        return scheduleDrain()
      }
      case protocol.RUN_BATCH: {
        const jobs = message[1] as Array<any>
        for (let i = 0; i < jobs.length; i += 4) {
          queue.push({
            id: jobs[i + 1],
            name: jobs[i + 2],
            payload: jobs[i + 3],
            chunk: jobs[i] === protocol.RUN_CHUNK
          })
        }
        if (!drainScheduled) drain()
        return
      }
      case protocol.INTERRUPT:
        return interrupt(message[1])
      case protocol.CLOSE:
        return close()
    }
  })

  const initialize = options.initialize
  if (initialize === undefined) {
    port.postMessage([protocol.READY])
    return
  }
  const init = Effect.suspend(() => initialize(data.userData)).pipe(Scope.provide(scope))
  Effect.runFork(init).addObserver((exit) => {
    if (Exit.isSuccess(exit)) port.postMessage([protocol.READY])
    else port.postMessage([protocol.INIT_FAILED, codec.encodeDefect(Cause.squash(exit.cause))])
  })
}

/**
 * How long a worker runs queued tasks back to back before it sends their
 * results and yields to its event loop (where INTERRUPTs arrive). Tiny tasks
 * batch; after a long one the result goes out at once.
 */
const sliceMs = 1

const unwrapTransfer = (value: unknown, transfers: Array<Transferable>): unknown => {
  if (typeof value === "object" && value !== null && TransferTypeId in value) {
    const t = value as Transfer<unknown>
    for (const item of t.transferList) transfers.push(item)
    return t.value
  }
  return value
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error))
