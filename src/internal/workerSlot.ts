// The CPU executor's slot kind: a slot is one worker thread.
//
// A task is posted to its worker when dispatched (several at once when
// `prefetch` lets the worker hold more than it runs) with a word of shared
// state (see `protocol.ts`), and tracked in the slot's `inflight` map until
// the worker's reply settles it. Stopping a task (cancel or timeout):
// - not started yet: the parent wins SENT → DROPPED and settles it at once;
//   the worker skips it; nobody is terminated;
// - started: INTERRUPT; a handler that does not stop within the grace period
//   (a synchronous loop) is stopped by terminating its worker, which is then
//   replaced. That step runs in the executor's scope, so a `cancel` whose own
//   fiber is interrupted cannot abandon it;
// - finished, its result on its way: nothing to stop (`cancel` is false).
// A task's timeout counts from when it starts (the worker says so). A worker
// that dies on its own fails only the tasks it had started, with
// WorkerCrashedError; the ones it never started run elsewhere, in order (unless
// their payload was transferred to it). Too many crashes in a window break
// the executor instead of crash-looping. A worker holding no task does not
// keep the process alive.
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import { getCompileCacheDir } from "node:module"
import * as os from "node:os"
import * as path from "node:path"
import { Worker, type WorkerOptions } from "node:worker_threads"
import { WorkerCrashedError } from "../ExecutorError.ts"
import type * as Task from "../Task.ts"
import * as awake_ from "./awake.ts"
import * as codec from "./codec.ts"
import * as cpuJob from "./cpuJob.ts"
import { makeSlot, type Slot, type SlotDriver, type SlotHost, Work } from "./dispatcher.ts"
import type { Environment } from "./executor.ts"
import * as future_ from "./future.ts"
import * as protocol from "./protocol.ts"

/**
 * A CPU task: the task, its encoded payload (or a chunk's payloads) and what
 * to transfer with it; then, while it is on a worker, whether it is being
 * stopped and its timeout timer.
 * @internal
 */
export class CpuWork extends Work<WorkerSlot> {
  readonly task: Task.AnyTask
  /** The encoded payload; dropped once its result is in. */
  payload: unknown
  readonly chunk: boolean
  readonly transfer: ReadonlyArray<any> | undefined
  /** Cancelled while on its worker. */
  cancelling = false
  /** Its timeout fired while on its worker. */
  timedOut = false
  timer: Fiber.Fiber<unknown, unknown> | undefined = undefined
  /** Its word's index in its worker's state ring, and its word in state SENT. */
  index = -1
  word = 0
  /** The interrupt-grace-terminate step under way for it, in the executor's scope. */
  stopper: Fiber.Fiber<void> | undefined = undefined

  /** On a worker and past SENT (read from the shared word). */
  override started(): boolean {
    const slot = this.slot
    return slot !== undefined && protocol.stateOf(Atomics.load(slot.states, this.index)) !== protocol.SENT
  }
  constructor(
    canceller: ConstructorParameters<typeof Work<WorkerSlot>>[0],
    timeout: number,
    task: Task.AnyTask,
    payload: unknown,
    chunk: boolean,
    transfer: ReadonlyArray<any> | undefined
  ) {
    super(canceller, timeout)
    this.task = task
    this.payload = payload
    this.chunk = chunk
    this.transfer = transfer
  }
}

/** @internal */
export interface WorkerSlot extends Slot {
  readonly worker: Worker
  readonly inflight: Map<number, CpuWork>
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
  /** Tasks dispatched and not yet posted: sent together (see `run`). */
  outbox: Array<CpuWork>
  /** The task-state ring shared with the worker, and its indices no task holds. */
  readonly states: Int32Array
  readonly free: Array<number>
  /** The task posted to it while it was idle (a round trip), unanswered; and when (see `awake.ts`). */
  roundTrip: unknown
  roundTripSince: number
}

/** @internal */
export interface Options {
  readonly name: string
  readonly worker: URL | string
  /** Turn on Node's module compile cache in each worker before its entry loads. */
  readonly compileCache: boolean
  /**
   * How long a side of a round trip stays awake for the other (ms): an idle
   * worker polling for its next task, the parent's event loop for a result.
   */
  readonly idleSpinMs: number
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
}

/** @internal */
export interface Counters {
  restarts: number
  crashes: number
  /** Worker threads created and not yet exited. */
  threads: number
}

/** @internal */
export const make = (
  options: Options,
  host: SlotHost<WorkerSlot, CpuWork>,
  environment: Environment,
  counters: Counters
): SlotDriver<WorkerSlot, CpuWork> => {
  // timers (grace periods, timeouts, backoff) run on the executor's Clock
  const fork = environment.fork
  const capacity = options.concurrency + options.prefetch
  const env = workerEnv(options)
  // crash times (Clock millis) inside the window, for backoff and the crash limit
  let recentCrashes: Array<number> = []
  const now = () => environment.clock.currentTimeMillisUnsafe()

  const backoffMs = () => {
    const t = now()
    recentCrashes = recentCrashes.filter((c) => t - c < options.crashWindowMs)
    return recentCrashes.length === 0 ? 0 : Math.min(2_000, 25 * 2 ** (recentCrashes.length - 1))
  }

  const awake = awake_.make(options.idleSpinMs)

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

  /**
   * A worker that holds no task does not keep the process alive; one that is
   * stopping does, until it has exited (a release waits for that exit, and
   * would otherwise be left unfinished when nothing else keeps the program
   * running).
   */
  const idle = (slot: WorkerSlot) => {
    if (slot.inflight.size === 0 && !slot.exited && !slot.closing && !slot.killing) slot.worker.unref()
  }

  const terminate = (slot: WorkerSlot): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (slot.exited) return Effect.void
      slot.worker.ref()
      void slot.worker.terminate().catch(() => {})
      return waitExit(slot)
    })

  const decode = (work: CpuWork, kind: number, value: unknown): Exit.Exit<unknown, unknown> =>
    kind === protocol.INTERRUPTED ? stopped(work) : cpuJob.decodeResult(work.task, work.chunk, kind, value)

  /** Takes a work off its worker: no longer in flight there (its index free again), its timeout timer stopped. */
  const takeOff = (slot: WorkerSlot, work: CpuWork) => {
    if (!slot.inflight.delete(work.future.id)) return
    slot.free.push(work.index)
    idle(slot)
    awake.settled(slot, work, false)
    if (work.timer !== undefined) {
      work.timer.interruptUnsafe()
      work.timer = undefined
    }
  }

  const finish = (slot: WorkerSlot, work: CpuWork, exit: Exit.Exit<unknown, unknown>) => {
    takeOff(slot, work)
    work.payload = undefined
    host.complete(slot, work, exit)
  }

  const onMessage = (slot: WorkerSlot, message: Array<any>) => {
    switch (message[0]) {
      case protocol.RESULTS: {
        const results = message[1] as Array<any>
        for (let i = 0; i < results.length; i += 3) {
          const work = slot.inflight.get(results[i])
          if (work === undefined) continue
          awake.settled(slot, work, true)
          finish(slot, work, decode(work, results[i + 1], results[i + 2]))
        }
        return
      }
      case protocol.STARTED: {
        // its timeout counts from now
        const work = slot.inflight.get(message[1])
        if (work !== undefined && work.timeout >= 0 && work.timer === undefined && !stopping(work)) {
          armTimeout(slot, work)
        }
        return
      }
      case protocol.READY:
        slot.booted = true
        idle(slot)
        return host.ready(slot.id, slot)
      case protocol.INIT_FAILED:
        // reported on exit: until then the slot is still starting, so a release
        // in between waits for the thread instead of leaving it behind
        slot.closing = true
        slot.initFailure = { cause: codec.decodeDefect(message[1]) }
        void slot.worker.terminate().catch(() => {})
        return
    }
  }

  const onExit = (slot: WorkerSlot, code: number) => {
    slot.exited = true
    counters.threads--
    slot.exitCode = code
    for (const wake of slot.exitWaiters.splice(0)) wake()
    if (!slot.booted) {
      if (slot.initFailure !== undefined) {
        host.startFailed(slot.id, "initializer failed", slot.initFailure.cause)
      } else if (!slot.closing) {
        host.startFailed(slot.id, `worker ${slot.id} exited during startup (exit code ${code})`, slot.lastError)
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
    host.lost(slot)
    // what each task it held became, from the shared words: the ones it never
    // started run elsewhere, in order (not one whose payload was transferred
    // to it: that is gone with it); the ones it started failed with it
    const unsent = new Set(slot.outbox)
    slot.outbox = []
    const rerun: Array<CpuWork> = []
    const transferred = new WorkerCrashedError({
      workerId: slot.id,
      exitCode: code,
      reason: `${reason}; the task had not started, but its payload was transferred to that worker and cannot be sent again`
    })
    const crash = new WorkerCrashedError({ workerId: slot.id, exitCode: code, reason })
    const outcomes: Array<[CpuWork, Exit.Exit<never, unknown>]> = []
    for (const work of slot.inflight.values()) {
      const notStarted = unsent.has(work) || protocol.stateOf(Atomics.load(slot.states, work.index)) === protocol.SENT
      if (notStarted && !stopping(work) && (work.transfer === undefined || unsent.has(work))) rerun.push(work)
      else if (stopping(work)) outcomes.push([work, stopped(work)])
      else outcomes.push([work, Exit.fail(notStarted ? transferred : crash)])
    }
    for (const work of rerun) takeOff(slot, work) // its timeout starts again with it
    if (rerun.length > 0) host.requeue(slot, rerun)
    for (const [work, exit] of outcomes) finish(slot, work, exit)
  }

  /** Sends the tasks dispatched to a worker this turn: one message, or one each if a payload cannot be cloned. */
  const send = (slot: WorkerSlot) => {
    const works = slot.outbox
    slot.outbox = []
    if (slot.exited || works.length === 0) return // its exit has settled them; or all were dropped
    if (works.length === 1) return sendOne(slot, works[0])
    const batch: Array<unknown> = []
    const transfers: Array<any> = []
    for (const work of works) {
      batch.push(...runMessage(work))
      if (work.transfer !== undefined) transfers.push(...work.transfer)
    }
    try {
      slot.worker.postMessage([protocol.RUN_BATCH, batch], transfers)
    } catch {
      for (const work of works) sendOne(slot, work)
      return
    }
    for (const work of works) sent(work)
  }

  const sendOne = (slot: WorkerSlot, work: CpuWork) => {
    try {
      slot.worker.postMessage(runMessage(work), work.transfer as Array<any> | undefined)
      sent(work)
    } catch (error) {
      // the payload cannot be cloned: only this future fails
      finish(slot, work, cpuJob.codecError(work.task, "payload", `cannot be sent to the worker: ${message(error)}`))
    }
  }

  /**
   * Takes back a task its worker has not started: one still waiting to be
   * sent, or one whose word the parent wins SENT → DROPPED (the worker then
   * skips it). False once the worker has started it; with `keepTransferred`,
   * also for a sent task whose payload was transferred (only that worker holds
   * its bytes, so it must run there).
   */
  const withdraw = (slot: WorkerSlot, work: CpuWork, keepTransferred: boolean): boolean => {
    const unsent = slot.outbox.indexOf(work)
    if (unsent >= 0) {
      slot.outbox.splice(unsent, 1)
      return true
    }
    if (keepTransferred && work.transfer !== undefined) return false
    const dropped = work.word - protocol.SENT + protocol.DROPPED
    return Atomics.compareExchange(slot.states, work.index, work.word, dropped) === work.word
  }

  /** A transferred payload's bytes are gone once sent: nothing to keep for a rerun. */
  const sent = (work: CpuWork) => {
    if (work.transfer !== undefined) work.payload = undefined
  }

  const armTimeout = (slot: WorkerSlot, work: CpuWork) => {
    work.timer = fork(
      Effect.sleep(work.timeout).pipe(
        Effect.andThen(
          Effect.suspend(() => {
            work.timer = undefined
            work.timedOut = true
            return stop(slot, work)
          })
        )
      )
    )
  }

  /**
   * Stops a task: drops it if it has not started; otherwise sends INTERRUPT,
   * waits the grace period, then terminates the worker. The last two run in
   * the executor's scope: interrupting the caller only stops its wait.
   */
  const stop = (slot: WorkerSlot, work: CpuWork): Effect.Effect<void> =>
    Effect.suspend(() => {
      const future = work.future
      if (!slot.inflight.has(future.id) || slot.exited) return Effect.asVoid(future_.exit(future))
      if (withdraw(slot, work, false)) {
        // not started: it never runs
        finish(slot, work, stopped(work))
        return Effect.void
      }
      if (protocol.stateOf(Atomics.load(slot.states, work.index)) === protocol.DONE) {
        // finished: its result is on its way
        return Effect.asVoid(future_.exit(future))
      }
      if (work.stopper === undefined) {
        slot.worker.postMessage([protocol.INTERRUPT, future.id])
        work.stopper = fork(
          future_.exit(future).pipe(
            Effect.timeoutOption(options.cancelGracePeriodMs),
            Effect.flatMap((settled) => {
              if (settled._tag === "Some" || !slot.inflight.has(future.id)) return Effect.void
              slot.killing = true
              return Effect.andThen(terminate(slot), Effect.asVoid(future_.exit(future)))
            })
          )
        )
      }
      return Effect.andThen(Fiber.await(work.stopper), Effect.asVoid(future_.exit(future)))
    })

  return {
    capacity,
    concurrency: options.concurrency,
    spawn(id) {
      let created: WorkerSlot | undefined
      let cancelled = false
      const create = () => {
        if (cancelled) return
        let worker: Worker
        const states = new Int32Array(new SharedArrayBuffer(4 * capacity))
        try {
          worker = new Worker(bootUrl, {
            workerData: {
              $effectFutures: 2,
              entry: options.worker.toString(),
              compileCache: options.compileCache,
              workerId: id,
              concurrency: options.concurrency,
              userData: options.workerData,
              states,
              idleSpinMs: options.idleSpinMs
            } satisfies protocol.WorkerData,
            ...(options.resourceLimits === undefined ? {} : { resourceLimits: options.resourceLimits }),
            ...(options.execArgv === undefined ? {} : { execArgv: [...options.execArgv] }),
            ...(env === undefined ? {} : { env })
          })
        } catch (error) {
          return host.startFailed(id, `worker ${id} could not be created`, error)
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
          states,
          free: Array.from({ length: capacity }, (_, i) => capacity - 1 - i),
          roundTrip: undefined,
          roundTripSince: -1
        }
        created = slot
        counters.threads++
        worker.on("message", (message) => onMessage(slot, message))
        worker.on("error", (error) => {
          slot.lastError = error
        })
        worker.on("exit", (code) => onExit(slot, code))
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
    run(slot, work) {
      // a worker holding a task keeps the process alive; an idle one does not
      if (slot.inflight.size === 0) slot.worker.ref()
      slot.inflight.set(work.future.id, work)
      work.index = slot.free.pop()!
      work.word = protocol.nextSent(Atomics.load(slot.states, work.index))
      Atomics.store(slot.states, work.index, work.word)
      if (slot.outbox.push(work) === 1) {
        // to an idle worker at once (a round trip waits on it); to a busy one
        // at the end of this turn of the event loop, with every other task
        // dispatched to it meanwhile (results arriving in one turn free room
        // together): each message to a worker costs a wake-up of its thread,
        // which measured as most of the parent's time per tiny task
        if (slot.inflight.size === 1) {
          queueMicrotask(() => send(slot))
          awake.posted(slot, work)
        } else {
          setImmediate(() => send(slot))
        }
      }
      // its timeout is armed when the worker says it has started
    },
    interrupt(slot, work) {
      return Effect.suspend(() => {
        work.cancelling = true
        return stop(slot, work)
      })
    },
    retract(slot) {
      for (const work of slot.inflight.values()) {
        if (!withdraw(slot, work, true)) continue
        takeOff(slot, work)
        host.requeue(slot, [work])
        return true
      }
      return false
    },
    dropUnstarted(slot) {
      for (const work of Array.from(slot.inflight.values())) {
        if (withdraw(slot, work, false)) {
          work.cancelling = true
          finish(slot, work, future_.cancelledExit)
        }
      }
    },
    unstarted(slot) {
      let n = 0
      for (const work of slot.inflight.values()) {
        if (protocol.stateOf(Atomics.load(slot.states, work.index)) === protocol.SENT) n++
      }
      return n
    },
    close(slot) {
      return Effect.suspend(() => {
        if (slot.exited) return Effect.void
        slot.closing = true
        slot.worker.ref()
        slot.worker.postMessage([protocol.CLOSE])
        return waitExit(slot).pipe(
          Effect.timeoutOption(options.closeTimeoutMs),
          Effect.flatMap((exited) => (exited._tag === "Some" ? Effect.void : terminate(slot)))
        )
      })
    }
  }
}

/**
 * The workers' environment: with `compileCache`, `NODE_COMPILE_CACHE` names
 * the cache (unless set already), which Node reads as a thread starts, so the
 * bootstrap and a `.ts` entry load from cached code from the first module on
 * (else each worker first loads Node's TypeScript stripper). Otherwise the
 * given env, or Node's default (a copy of `process.env`).
 */
const workerEnv = (options: Options): Record<string, string | undefined> | undefined => {
  const base = options.env ?? process.env
  if (!options.compileCache || base.NODE_COMPILE_CACHE !== undefined) return options.env
  return { ...base, NODE_COMPILE_CACHE: getCompileCacheDir() ?? path.join(os.tmpdir(), "node-compile-cache") }
}

/** The bootstrap every worker thread starts with (`.ts` from source, `.js` from dist). */
const bootUrl = new URL(import.meta.url.endsWith(".ts") ? "./workerBoot.ts" : "./workerBoot.js", import.meta.url)

/** A task's RUN / RUN_CHUNK message (also one job of a RUN_BATCH): see `protocol.ts`. */
const runMessage = (work: CpuWork): Array<unknown> => [
  work.chunk ? protocol.RUN_CHUNK : protocol.RUN,
  work.future.id,
  work.task.name,
  work.payload,
  work.index,
  work.word,
  work.timeout >= 0 ? 1 : 0
]

/** Whether a work is being stopped (cancelled, or timed out). */
const stopping = (work: CpuWork): boolean => work.cancelling || work.timedOut

const stopped = (work: CpuWork): Exit.Exit<never, unknown> =>
  work.timedOut ? Exit.fail(new Cause.TimeoutError(`task timed out after ${work.timeout} ms`)) : future_.cancelledExit

const message = (error: unknown) => (error instanceof Error ? error.message : String(error))
