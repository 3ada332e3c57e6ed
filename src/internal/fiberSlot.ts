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
import type { Slot, SlotDriver } from "./dispatcher.ts"
import { makeSlot } from "./dispatcher.ts"
import * as future_ from "./future.ts"
import type { FutureImpl } from "./future.ts"

type AnyFuture = FutureImpl<any, any>

/** @internal */
export interface Host {
  complete(slot: Slot, future: AnyFuture, exit: Exit.Exit<unknown, unknown>): void
}

/** @internal */
export interface Options {
  readonly name: string
  /** Run once per slot before its first task, with the executor's context. */
  readonly initializer: Effect.Effect<unknown, unknown> | undefined
  readonly context: Context.Context<never>
  readonly scheduler: Scheduler.SchedulerDispatcher
  readonly tracing: boolean
}

/** Starts run back to back before the loop yields to the scheduler. */
const budget = 2048

/** @internal */
export const make = (options: Options, host: Host): SlotDriver<Slot> => {
  const pending: Array<AnyFuture> = []
  let pendingIndex = 0
  let draining = false
  let scheduled = false
  // runForkWith(context) is curried; most tasks share their submitter's context
  let forkContext: Context.Context<never> | undefined
  let fork: ReturnType<typeof Effect.runForkWith<never>> = Effect.runForkWith(options.context)

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
      const future = pending[pendingIndex]
      pending[pendingIndex++] = undefined as any
      // cancelled between dispatch and start: `interrupt` has settled it already
      if (future.state === future_.RUNNING && future.handle === undefined) start(future)
    }
    if (pendingIndex === pending.length) {
      pending.length = 0
      pendingIndex = 0
    }
    draining = false
  }

  const start = (future: AnyFuture) => {
    const slot = future.slot as Slot
    let effect = future.job as Effect.Effect<unknown, unknown>
    future.job = undefined
    if (future.timeout >= 0) effect = Effect.timeout(effect, future.timeout)
    const context = future.context as Context.Context<never>
    future.context = undefined
    if (options.tracing) {
      const parent = Context.getOrUndefined(context, Tracer.ParentSpan)
      if (parent !== undefined) {
        effect = Effect.withSpan(effect, `${options.name}.task`, {
          attributes: {
            "executor.name": options.name,
            "future.id": future.id,
            "queue.wait_ms": future.waited
          }
        })
      }
    }
    if (context !== forkContext) {
      forkContext = context
      fork = Effect.runForkWith(context)
    }
    const fiber = fork(effect)
    const exit = fiber.pollUnsafe()
    if (exit !== undefined) {
      host.complete(slot, future, exit)
      return
    }
    future.handle = fiber
    fiber.addObserver((exit) => {
      host.complete(slot, future, exit)
    })
  }

  return {
    capacity: 1,
    concurrency: 1,
    spawn(id, ready, failed) {
      const initializer = options.initializer
      if (initializer === undefined) {
        ready(makeSlot(id))
        return undefined
      }
      const fiber = Effect.runForkWith(options.context)(initializer)
      const onExit = (exit: Exit.Exit<unknown, unknown>) => {
        if (exit._tag === "Success") ready(makeSlot(id))
        else if (!Cause.hasInterruptsOnly(exit.cause)) failed("initializer failed", Cause.squash(exit.cause))
      }
      const exit = fiber.pollUnsafe()
      if (exit !== undefined) {
        onExit(exit)
        return undefined
      }
      fiber.addObserver(onExit)
      return () => Effect.asVoid(interruptFiber(fiber))
    },
    run(_slot, future) {
      pending.push(future)
      if (!draining && !scheduled) drain()
    },
    interrupt(slot, future) {
      return Effect.suspend(() => {
        const fiber = future.handle as Fiber.Fiber<unknown, unknown> | undefined
        if (fiber === undefined) {
          // dispatched but not started yet: it never will be
          host.complete(slot, future, future_.cancelledExit)
          return Effect.void
        }
        fiber.interruptUnsafe()
        // the fiber's observer settles the future once its finalizers have run
        return Effect.asVoid(future_.exit(future))
      })
    },
    close: () => Effect.void
  }
}

const interruptFiber = (fiber: Fiber.Fiber<unknown, unknown>) =>
  Effect.callback<void>((resume) => {
    fiber.interruptUnsafe()
    if (fiber.pollUnsafe() !== undefined) return resume(Effect.void)
    fiber.addObserver(() => resume(Effect.void))
  })
