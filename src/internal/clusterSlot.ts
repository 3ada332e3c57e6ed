// The cluster executor's slot kind: a slot is a bounded permit to run one task
// remotely, as one in-flight entity call (clusterJob.ts). `maxWorkers` bounds
// the calls in flight; the runners' own CPU executors bound the work.
//
// `run` forks the call in the executor's context and reports its reply with
// `host.complete`. A task's timeout travels with the call: the runner's CPU
// executor counts it from when its worker starts the task, as a CpuExecutor
// does. `interrupt` (cancel) asks the runner
// to cancel the call (`cancel({ id })` returns once the task has stopped on
// the runner's worker), then waits for the call's reply; if the runner does
// not know the call (it moved, or its runner is gone) or does not answer
// within `cancelTimeoutMs`, the call itself is interrupted, which interrupts
// the remote handler without waiting for it.
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import { ClusterError } from "../ExecutorError.ts"
import type * as Task from "../Task.ts"
import * as clusterJob from "./clusterJob.ts"
import { makeSlot, type Slot, type SlotDriver, type SlotHost, Work } from "./dispatcher.ts"
import type { Environment } from "./executor.ts"
import * as future_ from "./future.ts"
import * as protocol from "./protocol.ts"

/** A cluster slot: the call it holds now, if any. @internal */
export interface ClusterSlot extends Slot {
  work: ClusterWork | undefined
}

/**
 * A remote task: its task, its encoded payload, where it is sent, then the
 * fiber of its call.
 * @internal
 */
export class ClusterWork extends Work<ClusterSlot> {
  readonly task: Task.AnyTask
  encoded: unknown
  readonly chunk: boolean
  /** The entity the call goes to and the call's id (set at `run`). */
  entityId = ""
  callId = ""
  fiber: Fiber.Fiber<clusterJob.Reply, unknown> | undefined = undefined
  stopping = false
  /** When the call was sent (performance.now()), for the no-runner bound. */
  sentAt = 0
  /** Failed because no runner was registered for `noRunnerTimeout`. */
  noRunners = false
  /** The submit's idempotency key (the call's id, hence its primary key), if any. */
  readonly key: string | undefined
  /** Sent as a stored (persisted) message. */
  readonly persisted: boolean
  constructor(
    canceller: ConstructorParameters<typeof Work<ClusterSlot>>[0],
    timeout: number,
    task: Task.AnyTask,
    encoded: unknown,
    chunk: boolean,
    delivery: Delivery | undefined
  ) {
    super(canceller, timeout)
    this.task = task
    this.encoded = encoded
    this.chunk = chunk
    this.key = delivery?.idempotencyKey
    this.persisted = delivery?.persisted === true || delivery?.idempotencyKey !== undefined
  }
}

/** How a submit asks its call to be delivered. @internal */
export interface Delivery {
  readonly idempotencyKey?: string | undefined
  readonly persisted?: boolean | undefined
}

/** The two entity calls a slot makes. @internal */
export interface Calls {
  readonly run: (
    entityId: string,
    payload: {
      readonly id: string
      readonly task: string
      readonly payload: unknown
      readonly chunk: boolean
      readonly timeout: number
    },
    persisted: boolean
  ) => Effect.Effect<clusterJob.Reply, unknown>
  readonly cancel: (entityId: string, id: string) => Effect.Effect<boolean, unknown>
}

/** @internal */
export interface Options {
  readonly name: string
  readonly calls: Calls
  /** Entity ids calls are spread over (round robin), so they spread over shards and runners. */
  readonly entityIds: number
  /** Prefix of call ids, unique to this executor. */
  readonly callPrefix: string
  readonly cancelTimeoutMs: number
  /** The driver's hooks, set by `make`, for the executor's runner monitor. */
  readonly hooks: Hooks
}

/** What the executor's runner monitor may do to the calls in flight. @internal */
export interface Hooks {
  /**
   * Fails (with `ClusterError` "NoRunners") the volatile calls in flight sent
   * at or before `before` (performance.now() millis): they waited that long with no runner.
   */
  failWaiting: (before: number, waitedMs: number) => void
}

/** @internal */
export const make = (
  options: Options,
  host: SlotHost<ClusterSlot, ClusterWork>,
  environment: Environment
): SlotDriver<ClusterSlot, ClusterWork> => {
  let calls = 0
  let noRunnersWaited = 0
  const inflight = new Set<ClusterWork>()
  options.hooks.failWaiting = (before, waitedMs) => {
    for (const work of inflight) {
      if (work.persisted || work.sentAt > before || work.fiber === undefined || work.noRunners) continue
      work.noRunners = true
      noRunnersWaited = waitedMs
      work.fiber.interruptUnsafe()
    }
  }

  const finish = (slot: ClusterSlot, work: ClusterWork, exit: Exit.Exit<clusterJob.Reply, unknown>) => {
    if (slot.work === work) slot.work = undefined
    work.fiber = undefined
    inflight.delete(work)
    host.complete(slot, work, outcome(work, exit))
  }

  const outcome = (work: ClusterWork, exit: Exit.Exit<clusterJob.Reply, unknown>): Exit.Exit<unknown, unknown> => {
    if (work.noRunners && Exit.isFailure(exit)) {
      return Exit.fail(
        new ClusterError({
          executor: options.name,
          task: work.task.name,
          reason: `NoRunners: no runner was registered in the cluster for ${Math.round(noRunnersWaited / 1000)} s (noRunnerTimeout)`
        })
      )
    }
    if (Exit.isSuccess(exit)) {
      if (exit.value[0] !== protocol.INTERRUPTED) return clusterJob.decodeReply(work.task, work.chunk, exit.value)
      return future_.cancelledExit
    }
    if (Cause.hasInterruptsOnly(exit.cause)) return future_.cancelledExit
    const error = Cause.findError(exit.cause)
    if (error._tag === "Success") {
      const e = error.success as { readonly _tag?: unknown }
      return Exit.fail(
        new ClusterError({
          executor: options.name,
          task: work.task.name,
          reason: typeof e?._tag === "string" ? e._tag : String(e),
          cause: e
        })
      )
    }
    return exit
  }

  /** Asks the runner to stop the call; falls back to interrupting the call. */
  const stop = (work: ClusterWork): void => {
    if (work.stopping || work.fiber === undefined) return
    work.stopping = true
    const fiber = work.fiber
    environment.fork(
      options.calls.cancel(work.entityId, work.callId).pipe(
        Effect.timeout(options.cancelTimeoutMs),
        Effect.orElseSucceed(() => false),
        Effect.flatMap((stopped) => (stopped ? Effect.void : Effect.sync(() => fiber.interruptUnsafe())))
      )
    )
  }

  return {
    capacity: 1,
    concurrency: 1,
    spawn(id) {
      host.ready(id, { ...makeSlot(id), work: undefined })
      return undefined
    },
    run(slot, work) {
      const n = calls++
      if (work.key === undefined) {
        work.entityId = String(n % options.entityIds)
        work.callId = `${options.callPrefix}${n}`
      } else {
        // the same key reaches the same entity with the same primary key, from any client
        work.entityId = String(hash(work.key) % options.entityIds)
        work.callId = `key:${work.key}`
      }
      work.sentAt = performance.now()
      const encoded = work.encoded
      work.encoded = undefined
      slot.work = work
      const fiber = environment.fork(
        options.calls.run(
          work.entityId,
          {
            id: work.callId,
            task: work.task.name,
            payload: encoded,
            chunk: work.chunk,
            timeout: work.timeout
          },
          work.persisted
        )
      )
      const exit = fiber.pollUnsafe()
      if (exit !== undefined) return finish(slot, work, exit)
      work.fiber = fiber
      inflight.add(work)
      fiber.addObserver((exit) => finish(slot, work, exit))
    },
    interrupt(_slot, work) {
      return Effect.suspend(() => {
        stop(work)
        // the call's observer settles the future once the runner has stopped the task
        return Effect.asVoid(future_.exit(work.future))
      })
    },
    close: () => Effect.void
  }
}

/** FNV-1a, 32 bits: an idempotency key's entity. */
const hash = (key: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}
