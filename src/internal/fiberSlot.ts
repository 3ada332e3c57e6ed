// The I/O executor's slot kind: a slot is a permit to run one task, and the
// task runs in a fiber of its own, forked with the submitter's context.
//
// Starting is trampolined: a task that completes synchronously frees its slot
// inside `start`, which hands the next queued task to the same slot; that
// start is pushed on `pending` and run by the loop below instead of recursing,
// so a queue of 100k synchronous tasks needs no stack. The loop yields to the
// scheduler after `budget` starts so other fibers are not starved.
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import type * as Scheduler from "effect/Scheduler"
import * as Tracer from "effect/Tracer"
import { makeSlot, type Slot, type SlotDriver, type SlotHost, Work } from "./dispatcher.ts"
import type { Environment } from "./executor.ts"
import * as future_ from "./future.ts"

/** A fiber slot: the task it runs now, if any. @internal */
export interface FiberSlot extends Slot {
  work: IoWork | undefined
}

/**
 * An I/O task: the effect and the submitter's context it runs with (both
 * dropped once it starts), then the fiber running it.
 * @internal
 */
export class IoWork extends Work<FiberSlot> {
  effect: Effect.Effect<unknown, unknown> | undefined
  context: Context.Context<never> | undefined
  fiber: Fiber.Fiber<unknown, unknown> | undefined = undefined
  /** Cancelled during its first synchronous run, before its fiber was known: interrupt it once it is. */
  interruptRequested = false
  constructor(
    canceller: ConstructorParameters<typeof Work<FiberSlot>>[0],
    timeout: number,
    effect: Effect.Effect<unknown, unknown>,
    context: Context.Context<never>
  ) {
    super(canceller, timeout)
    this.effect = effect
    this.context = context
  }
}

/** @internal */
export interface Options {
  readonly name: string
  /** Run once per slot before its first task, with the executor's context. */
  readonly initializer: Effect.Effect<unknown, unknown> | undefined
  readonly scheduler: Scheduler.SchedulerDispatcher
  readonly tracing: boolean
}

/** Starts run back to back before the loop yields to the scheduler. */
const budget = 2048

/** @internal */
export const make = (
  options: Options,
  host: SlotHost<FiberSlot, IoWork>,
  environment: Environment
): SlotDriver<FiberSlot, IoWork> => {
  const pending: Array<IoWork | undefined> = []
  let pendingIndex = 0
  let draining = false
  let scheduled = false
  // runForkWith(context) is curried; most tasks share their submitter's context,
  // and so its span (looked up once per context)
  let forkContext: Context.Context<never> | undefined
  let fork: ReturnType<typeof Effect.runForkWith<never>> = Effect.runForkWith(environment.context)
  let parentSpan: Tracer.AnySpan | undefined

  const drain = () => {
    scheduled = false
    draining = true
    let n = 0
    while (pendingIndex < pending.length) {
      if (n++ === budget) {
        scheduled = true
        options.scheduler.scheduleTask(drain, 0)
        break
      }
      const work = pending[pendingIndex]!
      pending[pendingIndex++] = undefined
      // cancelled between dispatch and start: `interrupt` has settled it already
      if (work.future.state === future_.RUNNING && work.effect !== undefined) start(work)
    }
    if (pendingIndex === pending.length) {
      pending.length = 0
      pendingIndex = 0
    }
    draining = false
  }

  const start = (work: IoWork) => {
    const slot = work.slot!
    let effect = work.effect!
    const context = work.context!
    work.effect = undefined
    work.context = undefined
    if (work.timeout >= 0) effect = Effect.timeout(effect, work.timeout)
    if (context !== forkContext) {
      forkContext = context
      fork = Effect.runForkWith(context)
      parentSpan = options.tracing ? Context.getOrUndefined(context, Tracer.ParentSpan) : undefined
    }
    if (parentSpan !== undefined) {
      effect = Effect.withSpan(effect, `${options.name}.task`, {
        attributes: {
          "executor.name": options.name,
          "future.id": work.future.id,
          "queue.wait_ms": work.waited
        }
      })
    }
    slot.work = work
    const fiber = fork(effect)
    const exit = fiber.pollUnsafe()
    if (exit !== undefined) return finish(slot, work, exit)
    work.fiber = fiber
    fiber.addObserver((exit) => finish(slot, work, exit))
    if (work.interruptRequested) fiber.interruptUnsafe()
  }

  const finish = (slot: FiberSlot, work: IoWork, exit: Exit.Exit<unknown, unknown>) => {
    if (slot.work === work) slot.work = undefined
    work.fiber = undefined
    host.complete(slot, work, exit)
  }

  const ready = (id: number) => host.ready(id, { ...makeSlot(id), work: undefined })

  return {
    capacity: 1,
    concurrency: 1,
    spawn(id) {
      const initializer = options.initializer
      if (initializer === undefined) {
        ready(id)
        return undefined
      }
      let stopped = false
      const fiber = environment.fork(initializer)
      const onExit = (exit: Exit.Exit<unknown, unknown>) => {
        if (exit._tag === "Success") return ready(id)
        // interrupted by the executor's release: no failure, nothing to report
        if (stopped) return
        // interrupted otherwise (it interrupted itself): a failed start, or the slot would start forever
        const reason = Cause.hasInterruptsOnly(exit.cause) ? "initializer was interrupted" : "initializer failed"
        host.startFailed(id, reason, Cause.squash(exit.cause))
      }
      const exit = fiber.pollUnsafe()
      if (exit !== undefined) {
        onExit(exit)
        return undefined
      }
      fiber.addObserver(onExit)
      return () =>
        Effect.suspend(() => {
          stopped = true
          return interruptFiber(fiber)
        })
    },
    run(_slot, work) {
      pending.push(work)
      if (!draining && !scheduled) drain()
    },
    interrupt(slot, work) {
      return Effect.suspend(() => {
        const fiber = work.fiber
        if (fiber === undefined) {
          if (work.effect !== undefined) {
            // dispatched but not started yet: it never will be
            work.effect = undefined
            work.context = undefined
            host.complete(slot, work, future_.cancelledExit)
          } else {
            // in its first synchronous run (it woke the canceller): interrupted as soon as it yields
            work.interruptRequested = true
          }
          return Effect.asVoid(future_.exit(work.future))
        }
        fiber.interruptUnsafe()
        // the fiber's observer settles the future once its finalizers have run
        return Effect.asVoid(future_.exit(work.future))
      })
    },
    close: () => Effect.void,
    runningIn: (slot, fiber) => (slot.work !== undefined && slot.work.fiber === fiber ? slot.work : undefined)
  }
}

const interruptFiber = (fiber: Fiber.Fiber<unknown, unknown>) =>
  Effect.callback<void>((resume) => {
    fiber.interruptUnsafe()
    if (fiber.pollUnsafe() !== undefined) return resume(Effect.void)
    fiber.addObserver(() => resume(Effect.void))
  })
