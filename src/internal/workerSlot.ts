// The CPU executor's slot kind: a slot is one worker thread.
//
// A task is posted to its worker when dispatched and tracked in the slot's
// `inflight` map until the worker's reply settles it. Stopping a task (cancel
// or timeout) sends INTERRUPT; a handler that does not stop within the grace
// period (a synchronous loop) is stopped by terminating its worker, which is
// then replaced. A worker that dies on its own fails only the tasks it held,
// with WorkerCrashedError; too many crashes in a window break the executor
// instead of crash-looping.
import * as Cause from "effect/Cause"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import { Worker, type WorkerOptions } from "node:worker_threads"
import { TaskCodecError, WorkerCrashedError } from "../ExecutorError.ts"
import type * as Task from "../Task.ts"
import * as codec from "./codec.ts"
import type { Slot, SlotDriver } from "./dispatcher.ts"
import { makeSlot } from "./dispatcher.ts"
import * as future_ from "./future.ts"
import type { FutureImpl } from "./future.ts"
import * as protocol from "./protocol.ts"

type AnyFuture = FutureImpl<any, any>

/** What a CPU future carries to its worker. @internal */
export interface Job {
  readonly task: Task.AnyTask
  /** The encoded payload, or the encoded payloads of a chunk. */
  readonly payload: unknown
  readonly chunk: boolean
  readonly transfer: ReadonlyArray<any> | undefined
}

interface Running {
  cancelling: boolean
  timedOut: boolean
  timer: Fiber.Fiber<unknown, unknown> | undefined
}

/** @internal */
export interface WorkerSlot extends Slot {
  readonly worker: Worker
  readonly inflight: Map<number, AnyFuture>
  booted: boolean
  exited: boolean
  exitCode: number | undefined
  lastError: unknown
  /** Its initializer failed: reported once the thread has exited. */
  initFailure: { readonly cause: unknown } | undefined
  /** We asked it to close (idle, recycled, shut down). */
  closing: boolean
  /** We are terminating it to stop a task. */
  killing: boolean
  readonly exitWaiters: Array<() => void>
  /** Tasks dispatched this turn, sent together on a microtask. */
  outbox: Array<AnyFuture>
  /** Tasks posted to the worker, and (shared) how many of them it has taken: see `protocol.WorkerData`. */
  posted: number
  readonly taken: Int32Array
}

/** @internal */
export interface Host {
  complete(slot: Slot, future: AnyFuture, exit: Exit.Exit<unknown, unknown>): void
  requeue(slot: Slot, futures: ReadonlyArray<AnyFuture>): void
  slotLost(slot: Slot): void
  breakWith(reason: string, cause: unknown): void
}

/** @internal */
export interface Options {
  readonly name: string
  readonly worker: URL | string
  readonly concurrency: number
  /** Tasks sent to a worker beyond `concurrency`, waiting in its local queue. */
  readonly prefetch: number
  readonly workerData: unknown
  readonly resourceLimits: WorkerOptions["resourceLimits"]
  readonly execArgv: ReadonlyArray<string> | undefined
  readonly env: Record<string, string> | undefined
  readonly cancelGracePeriodMs: number
  readonly closeTimeoutMs: number
  readonly maxCrashes: number
  readonly crashWindowMs: number
  /** The executor's context: timers (grace periods, timeouts, backoff) use its Clock. */
  readonly context: Context.Context<never>
  readonly clock: { currentTimeMillisUnsafe(): number }
}

/** @internal */
export interface Counters {
  restarts: number
  crashes: number
  /** Worker threads created and not yet exited. */
  threads: number
}

/** @internal */
export const make = (options: Options, host: Host): SlotDriver<WorkerSlot> & { readonly counters: Counters } => {
  const fork = Effect.runForkWith(options.context)
  const counters: Counters = { restarts: 0, crashes: 0, threads: 0 }
  // crash times (Clock millis) inside the window, for backoff and the crash limit
  let recentCrashes: Array<number> = []
  const now = () => options.clock.currentTimeMillisUnsafe()

  const backoffMs = () => {
    const t = now()
    recentCrashes = recentCrashes.filter((c) => t - c < options.crashWindowMs)
    return recentCrashes.length === 0 ? 0 : Math.min(2_000, 25 * 2 ** (recentCrashes.length - 1))
  }

  const waitExit = (slot: WorkerSlot): Effect.Effect<void> =>
    Effect.callback<void>((resume) => {
      if (slot.exited) return resume(Effect.void)
      const wake = () => resume(Effect.void)
      slot.exitWaiters.push(wake)
      return Effect.sync(() => {
        const i = slot.exitWaiters.indexOf(wake)
        if (i >= 0) slot.exitWaiters.splice(i, 1)
      })
    })

  const terminate = (slot: WorkerSlot): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (slot.exited) return Effect.void
      void slot.worker.terminate().catch(() => {})
      return waitExit(slot)
    })

  const decode = (future: AnyFuture, kind: number, value: unknown): Exit.Exit<unknown, unknown> => {
    const job = future.job as Job
    const task = job.task
    switch (kind) {
      case protocol.SUCCESS: {
        const success = codec.of(task.success)
        if (!job.chunk) {
          const r = success.decode(value)
          return r instanceof codec.Invalid ? codecError(task, "success", r.message) : Exit.succeed(r)
        }
        const values = value as Array<unknown>
        const out = new Array(values.length)
        for (let i = 0; i < values.length; i++) {
          const r = success.decode(values[i])
          if (r instanceof codec.Invalid) return codecError(task, "success", r.message)
          out[i] = r
        }
        return Exit.succeed(out)
      }
      case protocol.FAILURE: {
        const r = codec.of(task.error).decode(value)
        return r instanceof codec.Invalid ? codecError(task, "error", r.message) : Exit.fail(r)
      }
      case protocol.DEFECT:
        return Exit.die(codec.decodeDefect(value))
      case protocol.INTERRUPTED:
        return stopped(future)
      case protocol.CODEC_ERROR: {
        const [phase, reason] = value as [TaskCodecError["phase"], string]
        return codecError(task, phase, reason)
      }
      default:
        return codecError(task, "payload", `the worker serves no task named "${String(value)}"`)
    }
  }

  /** Takes a future off its worker: no longer in flight there, its timeout timer stopped. */
  const takeOff = (slot: WorkerSlot, future: AnyFuture) => {
    slot.inflight.delete(future.id)
    const running = future.handle as Running | undefined
    if (running?.timer !== undefined) running.timer.interruptUnsafe()
  }

  const finish = (slot: WorkerSlot, future: AnyFuture, exit: Exit.Exit<unknown, unknown>) => {
    takeOff(slot, future)
    host.complete(slot, future, exit)
  }

  const onMessage = (slot: WorkerSlot, ready: (slot: WorkerSlot) => void, message: Array<any>) => {
    switch (message[0]) {
      case protocol.RESULTS: {
        const results = message[1] as Array<any>
        for (let i = 0; i < results.length; i += 3) {
          const future = slot.inflight.get(results[i])
          if (future !== undefined) finish(slot, future, decode(future, results[i + 1], results[i + 2]))
        }
        return
      }
      case protocol.READY:
        slot.booted = true
        return ready(slot)
      case protocol.INIT_FAILED:
        // reported on exit: until then the slot is still starting, so a release
        // in between waits for the thread instead of leaving it behind
        slot.closing = true
        slot.initFailure = { cause: codec.decodeDefect(message[1]) }
        void slot.worker.terminate().catch(() => {})
        return
    }
  }

  const onExit = (slot: WorkerSlot, failed: Failed, code: number) => {
    slot.exited = true
    counters.threads--
    slot.exitCode = code
    for (const wake of slot.exitWaiters.splice(0)) wake()
    if (!slot.booted) {
      if (slot.initFailure !== undefined) {
        failed("initializer failed", slot.initFailure.cause)
      } else if (!slot.closing) {
        failed(`worker ${slot.id} exited during startup (exit code ${code})`, slot.lastError)
      }
      return
    }
    if (slot.closing && slot.inflight.size === 0) return
    const crashed = !slot.killing && !slot.closing
    const reason = slot.killing
      ? "terminated to stop a cancelled or timed-out task"
      : slot.lastError instanceof Error
        ? `${slot.lastError.name}: ${slot.lastError.message}`
        : `exited with code ${code}`
    // bookkeeping first: settling a future resumes its awaiters at once, and
    // they must see the crash counted (and the executor broken, if it is)
    if (crashed) {
      counters.crashes++
      recentCrashes.push(now())
      backoffMs() // prunes the window
      if (recentCrashes.length > options.maxCrashes) {
        host.breakWith(
          `${recentCrashes.length} worker crashes within ${options.crashWindowMs} ms (maxCrashes ${options.maxCrashes})`,
          slot.lastError ?? new Error(reason)
        )
      }
    }
    host.slotLost(slot)
    // tasks it never started run elsewhere: those never posted, and the last
    // posted ones it had not taken (it takes them in order; one it dropped out
    // of order was being stopped, and is settled as such below)
    const held = Array.from(slot.inflight.values())
    const unposted = slot.outbox.length
    slot.outbox = []
    const untaken = Math.max(0, slot.posted - Atomics.load(slot.taken, 0))
    const rerun = held.slice(Math.max(0, held.length - unposted - untaken)).filter((f) => !stopping(f))
    for (const future of rerun) {
      takeOff(slot, future) // its timeout starts again with it
      future.handle = undefined
    }
    if (rerun.length > 0) host.requeue(slot, rerun)
    for (const future of Array.from(slot.inflight.values())) {
      finish(
        slot,
        future,
        stopping(future)
          ? stopped(future)
          : Exit.fail(new WorkerCrashedError({ workerId: slot.id, exitCode: code, reason }))
      )
    }
  }

  /** Sends the tasks dispatched to a worker this turn: one message, or one each if a payload cannot be cloned. */
  const send = (slot: WorkerSlot) => {
    const futures = slot.outbox
    slot.outbox = []
    if (slot.exited) return // its exit has settled them
    if (futures.length === 1) return sendOne(slot, futures[0])
    const batch: Array<unknown> = []
    const transfers: Array<any> = []
    for (const future of futures) {
      const job = future.job as Job
      batch.push(job.chunk ? protocol.RUN_CHUNK : protocol.RUN, future.id, job.task.name, job.payload)
      if (job.transfer !== undefined) transfers.push(...job.transfer)
    }
    try {
      slot.worker.postMessage([protocol.RUN_BATCH, batch], transfers)
      slot.posted += futures.length
    } catch {
      for (const future of futures) sendOne(slot, future)
    }
  }

  const sendOne = (slot: WorkerSlot, future: AnyFuture) => {
    const job = future.job as Job
    try {
      slot.worker.postMessage(
        [job.chunk ? protocol.RUN_CHUNK : protocol.RUN, future.id, job.task.name, job.payload],
        job.transfer as Array<any> | undefined
      )
      slot.posted++
    } catch (error) {
      // the payload cannot be cloned: only this future fails
      finish(slot, future, codecError(job.task, "payload", `cannot be sent to the worker: ${message(error)}`))
    }
  }

  /** Sends INTERRUPT, waits the grace period, then terminates the worker. */
  const stop = (slot: WorkerSlot, future: AnyFuture): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (!slot.inflight.has(future.id) || slot.exited) return Effect.asVoid(future_.exit(future))
      const unsent = slot.outbox.indexOf(future)
      if (unsent >= 0) {
        // not sent yet: it never reaches the worker (an INTERRUPT would overtake it)
        slot.outbox.splice(unsent, 1)
        finish(slot, future, stopped(future))
        return Effect.void
      }
      slot.worker.postMessage([protocol.INTERRUPT, future.id])
      return future_.exit(future).pipe(
        Effect.timeoutOption(options.cancelGracePeriodMs),
        Effect.flatMap((settled) => {
          if (settled._tag === "Some" || !slot.inflight.has(future.id)) return Effect.void
          slot.killing = true
          return Effect.andThen(terminate(slot), Effect.asVoid(future_.exit(future)))
        })
      )
    })

  return {
    capacity: options.concurrency + options.prefetch,
    concurrency: options.concurrency,
    counters,
    spawn(id, ready, failed) {
      let created: WorkerSlot | undefined
      let cancelled = false
      const create = () => {
        if (cancelled) return
        let worker: Worker
        const taken = new Int32Array(new SharedArrayBuffer(4))
        try {
          worker = new Worker(options.worker, {
            workerData: {
              $effectFutures: 1,
              workerId: id,
              concurrency: options.concurrency,
              userData: options.workerData,
              taken
            } satisfies protocol.WorkerData,
            ...(options.resourceLimits === undefined ? {} : { resourceLimits: options.resourceLimits }),
            ...(options.execArgv === undefined ? {} : { execArgv: [...options.execArgv] }),
            ...(options.env === undefined ? {} : { env: options.env })
          })
        } catch (error) {
          return failed(`worker ${id} could not be created`, error)
        }
        const slot: WorkerSlot = {
          ...makeSlot(id),
          worker,
          inflight: new Map(),
          booted: false,
          exited: false,
          exitCode: undefined,
          lastError: undefined,
          initFailure: undefined,
          closing: false,
          killing: false,
          exitWaiters: [],
          outbox: [],
          posted: 0,
          taken
        }
        created = slot
        counters.threads++
        worker.on("message", (message) => onMessage(slot, ready, message))
        worker.on("error", (error) => {
          slot.lastError = error
        })
        worker.on("exit", (code) => onExit(slot, failed, code))
      }
      const delay = backoffMs()
      if (recentCrashes.length > 0) counters.restarts++
      if (delay === 0) {
        create()
      } else {
        const timer = fork(Effect.sleep(delay).pipe(Effect.andThen(Effect.sync(create))))
        return () =>
          Effect.suspend(() => {
            cancelled = true
            timer.interruptUnsafe()
            if (created === undefined) return Effect.void
            // asked to close: its exit during startup is no failure (it would break the executor)
            created.closing = true
            return terminate(created)
          })
      }
      return () =>
        Effect.suspend(() => {
          cancelled = true
          if (created === undefined) return Effect.void
          created.closing = true
          return terminate(created)
        })
    },
    run(slot, future) {
      slot.inflight.set(future.id, future)
      if (slot.outbox.push(future) === 1) queueMicrotask(() => send(slot))
      if (future.timeout >= 0) {
        const running: Running = { cancelling: false, timedOut: false, timer: undefined }
        future.handle = running
        running.timer = fork(
          Effect.sleep(future.timeout).pipe(
            Effect.andThen(
              Effect.suspend(() => {
                running.timer = undefined
                running.timedOut = true
                return stop(slot, future)
              })
            )
          )
        )
      }
    },
    interrupt(slot, future) {
      return Effect.suspend(() => {
        let running = future.handle as Running | undefined
        if (running === undefined) {
          running = { cancelling: true, timedOut: false, timer: undefined }
          future.handle = running
        }
        running.cancelling = true
        return stop(slot, future)
      })
    },
    close(slot) {
      return Effect.suspend(() => {
        if (slot.exited) return Effect.void
        slot.closing = true
        slot.worker.postMessage([protocol.CLOSE])
        return waitExit(slot).pipe(
          Effect.timeoutOption(options.closeTimeoutMs),
          Effect.flatMap((exited) => (exited._tag === "Some" ? Effect.void : terminate(slot)))
        )
      })
    }
  }
}

type Failed = (reason: string, cause: unknown) => void

/** Whether a future is being stopped (cancelled, or timed out). */
const stopping = (future: AnyFuture): boolean => {
  const running = future.handle as Running | undefined
  return running !== undefined && (running.cancelling || running.timedOut)
}

const stopped = (future: AnyFuture): Exit.Exit<never, unknown> =>
  (future.handle as Running | undefined)?.timedOut
    ? Exit.fail(new Cause.TimeoutError(`task timed out after ${future.timeout} ms`))
    : future_.cancelledExit

const codecError = (task: Task.AnyTask, phase: TaskCodecError["phase"], reason: string) =>
  Exit.fail(new TaskCodecError({ task: task.name, phase, reason }))

const message = (error: unknown) => (error instanceof Error ? error.message : String(error))
