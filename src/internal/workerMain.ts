// The worker thread's side of the CPU executor.
//
// Tasks arrive with a word of shared state each (see `protocol.ts`). The
// worker starts a task only if it wins SENT → STARTED on that word: a task
// the parent dropped (cancelled or timed out before it started) is skipped
// without a reply. A task that arrives while the worker has room and nothing
// waiting starts at once (the latency path); otherwise it waits in a local
// queue (a ring that is compacted as it drains), run back to back in slices
// of about `sliceMs` so the event loop still turns (INTERRUPT, CLOSE).
//
// No result waits for another task: results go out before the worker starts
// its next task, and an async completion is flushed within a microtask. Each
// result keeps its own transfer list, so one that cannot be cloned fails only
// its own future.
//
// A handler returning an `Exit` (`Effect.succeed`, `Effect.fail`) is settled
// without a fiber; any other Effect runs in a fiber of its own, which INTERRUPT
// interrupts (its finalizers run here, in the worker).
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import { parentPort, receiveMessageOnPort, workerData } from "node:worker_threads"
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
  /** Its word's index in the state ring, and its word in state SENT. */
  readonly index: number
  readonly word: number
  /** It has a timeout: tell the parent when it starts. */
  readonly timed: boolean
}

/** @internal */
export const serve = (handlers: ReadonlyArray<Handler>, options: ServeOptions = {}): void => {
  const port = parentPort
  const data = workerData as protocol.WorkerData | undefined
  if (port === null || data?.$effectFutures !== 2) {
    throw new Error("CpuWorker.serve must run in a worker thread started by a CpuExecutor")
  }
  const entries = new Map<string, cpuJob.Entry>()
  for (const handler of handlers) {
    if (entries.has(handler.task.name)) throw new Error(`CpuWorker.serve: task "${handler.task.name}" is served twice`)
    entries.set(handler.task.name, cpuJob.makeEntry(handler.task, handler.run))
  }

  const concurrency = data.concurrency
  const states = data.states
  let queue: Array<Job | undefined> = []
  let queueHead = 0
  const running = new Map<number, Fiber.Fiber<unknown, unknown>>()
  // results not yet sent: [id, kind, value, …], and each one's transfer list
  let outbox: Array<unknown> = []
  let outboxTransfers: Array<ReadonlyArray<Transferable> | undefined> = []
  let drainScheduled = false
  let flushScheduled = false
  let closed = false
  const scope = Scope.makeUnsafe()

  const flush = () => {
    flushScheduled = false
    if (outbox.length === 0 || closed) return
    const batch = outbox
    const lists = outboxTransfers
    outbox = []
    outboxTransfers = []
    let transfer: Array<any> | undefined
    for (const list of lists) if (list !== undefined) (transfer ??= []).push(...list)
    try {
      port.postMessage([protocol.RESULTS, batch], transfer)
    } catch {
      // one result could not be cloned: send them one by one, each with its own
      // transfer list, failing only the one that cannot be sent
      for (let i = 0, r = 0; i < batch.length; i += 3, r++) {
        try {
          port.postMessage([protocol.RESULTS, [batch[i], batch[i + 1], batch[i + 2]]], lists[r] as Array<any>)
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
    queueMicrotask(flush)
  }

  // the transfer list of the result being encoded
  let transfers: Array<Transferable> | undefined
  const unwrap = (value: unknown) => {
    if (typeof value === "object" && value !== null && TransferTypeId in value) {
      const t = value as Transfer<unknown>
      ;(transfers ??= []).push(...t.transferList)
      return t.value
    }
    return value
  }

  const reply = (job: Job, kind: number, value: unknown) => {
    Atomics.store(states, job.index, job.word - protocol.SENT + protocol.DONE)
    outbox.push(job.id, kind, value)
    outboxTransfers.push(transfers)
    transfers = undefined
  }

  const settle = (job: Job, entry: cpuJob.Entry, exit: Exit.Exit<unknown, unknown>) => {
    transfers = undefined
    const [kind, value] = cpuJob.encodeExit(entry, job.chunk, exit, unwrap)
    reply(job, kind, value)
  }

  /** Starts a job unless the parent dropped it; false if it was skipped. */
  const start = (job: Job): boolean => {
    const started = job.word - protocol.SENT + protocol.STARTED_STATE
    if (Atomics.compareExchange(states, job.index, job.word, started) !== job.word) return false
    // a result never waits for another task
    if (outbox.length > 0) flush()
    if (job.timed) port.postMessage([protocol.STARTED, job.id])
    const entry = entries.get(job.name)
    if (entry === undefined) {
      reply(job, protocol.UNKNOWN_TASK, job.name)
      return true
    }
    const effect = cpuJob.prepare(entry, job.payload, job.chunk)
    if (!Effect.isEffect(effect)) {
      reply(job, effect[0], effect[1])
      return true
    }
    if (Exit.isExit(effect)) {
      settle(job, entry, effect)
      return true
    }
    const fiber = Effect.runFork(effect)
    const exit = fiber.pollUnsafe()
    if (exit !== undefined) {
      settle(job, entry, exit)
      return true
    }
    running.set(job.id, fiber)
    fiber.addObserver((exit) => {
      running.delete(job.id)
      settle(job, entry, exit)
      scheduleFlush()
      scheduleDrain()
    })
    return true
  }

  const drain = () => {
    drainScheduled = false
    const sliceStart = performance.now()
    while (queueHead < queue.length && running.size < concurrency && !closed) {
      const job = queue[queueHead]!
      queue[queueHead++] = undefined
      // a dropped job costs no time and no slice check
      if (!start(job)) continue
      if (performance.now() - sliceStart >= sliceMs) {
        // a long turn: let the event loop turn (INTERRUPT, CLOSE) before the next task starts
        if (queueHead < queue.length) scheduleDrain()
        break
      }
    }
    if (queueHead === queue.length) {
      queue.length = 0
      queueHead = 0
    } else if (queueHead >= 1024 && queueHead * 2 >= queue.length) {
      // under sustained load the queue may never drain fully: drop the consumed prefix
      queue = queue.slice(queueHead)
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

  const close = () => {
    if (closed) return
    closed = true
    for (const fiber of running.values()) fiber.interruptUnsafe()
    Effect.runFork(Scope.close(scope, Exit.void)).addObserver(() => port.close())
  }

  const job = (tag: number, id: number, name: string, payload: unknown, index: number, word: number, timed: 0 | 1) => ({
    id,
    name,
    payload,
    chunk: tag === protocol.RUN_CHUNK,
    index,
    word,
    timed: timed === 1
  })

  /** The last message was one task that found the worker idle and was answered at once (a round trip). */
  let answered = false

  const onMessage = (message: Array<any>) => {
    answered = false
    switch (message[0]) {
      case protocol.RUN:
      case protocol.RUN_CHUNK: {
        const next = job(message[0], message[1], message[2], message[3], message[4], message[5], message[6])
        if (idle()) {
          // nothing queued or scheduled: start at once and answer in the same turn
          start(next)
          flush()
          answered = true
          return
        }
        queue.push(next)
        return scheduleDrain()
      }
      case protocol.RUN_BATCH: {
        const jobs = message[1] as Array<any>
        for (let i = 0; i < jobs.length; i += protocol.JOB_FIELDS) {
          queue.push(job(jobs[i], jobs[i + 1], jobs[i + 2], jobs[i + 3], jobs[i + 4], jobs[i + 5], jobs[i + 6]))
        }
        if (!drainScheduled) drain()
        return
      }
      case protocol.INTERRUPT:
        // a task not started yet is dropped by the parent itself; this one runs
        return running.get(message[1])?.interruptUnsafe()
      case protocol.CLOSE:
        return close()
    }
  }

  // After answering a task that found it idle (a round trip: the parent
  // waits for that answer before it sends more), the worker polls its port
  // for `idleSpinMs` before its thread sleeps in the event loop. Waking a
  // sleeping thread is most of a round trip's cost where an idle CPU halts (a
  // virtual machine's vCPU: an exit to the host on each side); a worker that
  // is polling takes the next task in a few microseconds, and the parent's
  // post to it is cheap. Messages taken here are handled exactly as the event
  // loop would, in order. Bounds: only while nothing runs or waits here, and
  // only while messages are such round trips (a batch of tasks means a busy
  // parent, whose core polling would take: the worker sleeps after it); the
  // event loop turns again after `sliceMs` at most; and it adapts: after a
  // window that passed with nothing, the worker sleeps at once when idle,
  // until a task again arrives within one window of its going idle, so
  // sparse traffic costs at most one window of CPU per change of pace.
  const spinMs = data.idleSpinMs
  let spinning = spinMs > 0
  /** When the worker went idle and slept instead of polling (-1: it is not idle, or polled). */
  let idleSince = -1
  /** Nothing queued, scheduled or running. */
  const empty = () => running.size === 0 && idle()

  const whileIdle = () => {
    if (spinMs <= 0 || !empty()) return
    const start = performance.now()
    if (!spinning) {
      idleSince = start
      return
    }
    let until = start + spinMs
    for (;;) {
      const received = receiveMessageOnPort(port)
      const now = performance.now()
      if (received !== undefined) {
        onMessage(received.message as Array<any>)
        if (!answered || !empty() || now - start >= sliceMs) break
        until = now + spinMs
      } else if (now >= until) {
        spinning = false
        idleSince = start
        break
      }
    }
  }

  port.on("message", (message: Array<any>) => {
    if (idleSince >= 0) {
      // it slept: poll again next time if this arrived within a window
      spinning = performance.now() - idleSince < spinMs
      idleSince = -1
    }
    onMessage(message)
    if (answered) whileIdle()
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

const message = (error: unknown) => (error instanceof Error ? error.message : String(error))
