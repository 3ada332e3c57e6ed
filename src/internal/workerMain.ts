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

interface Entry {
  readonly handler: Handler
  readonly payload: codec.Codec
  readonly success: codec.Codec
  readonly error: codec.Codec
}

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
  const entries = new Map<string, Entry>()
  for (const handler of handlers) {
    if (entries.has(handler.task.name)) throw new Error(`CpuWorker.serve: task "${handler.task.name}" is served twice`)
    entries.set(handler.task.name, {
      handler,
      payload: codec.of(handler.task.payload),
      success: codec.of(handler.task.success),
      error: codec.of(handler.task.error)
    })
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

  const encodeSuccess = (entry: Entry, value: unknown): [number, unknown] => {
    const unwrapped = unwrapTransfer(value, transfers)
    const encoded = entry.success.encode(unwrapped)
    return encoded instanceof codec.Invalid
      ? [protocol.CODEC_ERROR, ["success", encoded.message]]
      : [protocol.SUCCESS, encoded]
  }

  const settle = (job: Job, entry: Entry, exit: Exit.Exit<unknown, unknown>) => {
    if (Exit.isSuccess(exit)) {
      if (!job.chunk) {
        const [kind, value] = encodeSuccess(entry, exit.value)
        return reply(job.id, kind, value)
      }
      const values = exit.value as Array<unknown>
      const out = new Array(values.length)
      for (let i = 0; i < values.length; i++) {
        const [kind, value] = encodeSuccess(entry, values[i])
        if (kind !== protocol.SUCCESS) return reply(job.id, kind, value)
        out[i] = value
      }
      return reply(job.id, protocol.SUCCESS, out)
    }
    const cause = exit.cause
    if (Cause.hasInterruptsOnly(cause)) return reply(job.id, protocol.INTERRUPTED, undefined)
    const error = Cause.findError(cause)
    if (error._tag === "Success") {
      const encoded = entry.error.encode(error.success)
      return encoded instanceof codec.Invalid
        ? reply(job.id, protocol.CODEC_ERROR, ["error", encoded.message])
        : reply(job.id, protocol.FAILURE, encoded)
    }
    return reply(job.id, protocol.DEFECT, codec.encodeDefect(Cause.squash(cause)))
  }

  const taken = data.taken
  const start = (job: Job) => {
    if (taken !== undefined) Atomics.add(taken, 0, 1)
    const entry = entries.get(job.name)
    if (entry === undefined) return reply(job.id, protocol.UNKNOWN_TASK, job.name)
    let effect: Effect.Effect<unknown, unknown>
    try {
      if (job.chunk) {
        const payloads = job.payload as Array<unknown>
        const decoded = new Array(payloads.length)
        for (let i = 0; i < payloads.length; i++) {
          const result = entry.payload.decode(payloads[i])
          if (result instanceof codec.Invalid) return reply(job.id, protocol.CODEC_ERROR, ["payload", result.message])
          decoded[i] = result
        }
        effect = runChunk(entry.handler, decoded)
      } else {
        const result = entry.payload.decode(job.payload)
        if (result instanceof codec.Invalid) return reply(job.id, protocol.CODEC_ERROR, ["payload", result.message])
        effect = entry.handler.run(result)
      }
    } catch (defect) {
      return reply(job.id, protocol.DEFECT, codec.encodeDefect(defect))
    }
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

const runChunk = (handler: Handler, payloads: Array<unknown>): Effect.Effect<Array<unknown>, unknown> =>
  Effect.suspend((): Effect.Effect<Array<unknown>, unknown> => {
    // items run one after another and the chunk fails at its first failing
    // item; while handlers return an Exit, no fiber work is needed
    const out = new Array(payloads.length)
    let i = 0
    let pending: Effect.Effect<unknown, unknown> | undefined
    for (; i < payloads.length; i++) {
      const effect = handler.run(payloads[i])
      if (!Exit.isExit(effect)) {
        pending = effect
        break
      }
      if (Exit.isFailure(effect)) return effect as Exit.Exit<never, unknown>
      out[i] = effect.value
    }
    if (pending === undefined) return Exit.succeed(out)
    const from = i
    return Effect.forEach(
      payloads.slice(from),
      (payload, j) =>
        Effect.map(j === 0 ? pending : handler.run(payload), (value) => {
          out[from + j] = value
        }),
      { discard: true }
    ).pipe(Effect.as(out))
  })

const unwrapTransfer = (value: unknown, transfers: Array<Transferable>): unknown => {
  if (typeof value === "object" && value !== null && TransferTypeId in value) {
    const t = value as Transfer<unknown>
    for (const item of t.transferList) transfers.push(item)
    return t.value
  }
  return value
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error))
