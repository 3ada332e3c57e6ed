// The assembly every executor shares, written once: the dispatcher built
// around a slot kind, in the executor's context and on its Clock; the scoped
// lifecycle (release runs `shutdown({ wait: true })`, then closes every slot);
// admission of a work; and the members every executor has (`name`,
// `shutdown`, `stats`). An executor module keeps only what is its own: its
// options, its slot kind and its service's shape.
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import type { Executor, ShutdownOptions, Stats, WhenFull } from "../Executor.ts"
import type { SubmitError } from "../ExecutorError.ts"
import { Dispatcher, type Slot, type SlotDriver, type SlotHost, type Work } from "./dispatcher.ts"
import type { Future } from "../Future.ts"

/** The options every executor has, validated. @internal */
export interface Options {
  readonly name: string
  readonly maxWorkers: number
  readonly maxQueue: number
  readonly whenFull: WhenFull
  readonly metrics: boolean
  /** Task timings are needed (metrics, or tracing). */
  readonly timings: boolean
  /** Recycle a slot after this many tasks (0 = never). */
  readonly maxTasksPerSlot: number
  /** Slots started at once and kept. */
  readonly minWorkers: number
  /** Slots above `minWorkers` idle this long are closed (-1: never). */
  readonly idleTimeoutMs: number
}

/** What a slot kind gets besides its host: the executor's context, a way to fork into it, its Clock. @internal */
export interface Environment {
  readonly context: Context.Context<never>
  readonly fork: <A, E>(effect: Effect.Effect<A, E>) => Fiber.Fiber<A, E>
  readonly clock: Clock.Clock
}

/** An executor's core: its dispatcher, and what every executor offers. @internal */
export interface Core<S extends Slot, W extends Work<S>> {
  readonly dispatcher: Dispatcher<S, W>
  readonly environment: Environment
  /** `name`, `shutdown`, `stats`: spread into the executor's service. */
  readonly executor: Executor
  /**
   * Admits a work and returns its future. `track` sees the future before it
   * is admitted, in the same step (what `map` needs to cancel it however the
   * stream ends).
   */
  readonly submit: (work: W, track?: (future: Future<any, any>) => void) => Effect.Effect<Future<any, any>, SubmitError>
}

/**
 * Builds an executor's core in the current scope: the dispatcher around the
 * slot kind, started, with its release registered before any slot starts.
 * @internal
 */
export const make = <S extends Slot, W extends Work<S>>(
  options: Options,
  kind: (host: SlotHost<S, W>, environment: Environment) => SlotDriver<S, W>
): Effect.Effect<Core<S, W>, never, Scope.Scope> =>
  Effect.uninterruptible(
    Effect.gen(function* () {
      const context = (yield* Effect.context<never>()) as Context.Context<never>
      const clock = yield* Clock.Clock
      const run = Effect.runForkWith(context)
      const fork = <A, E>(effect: Effect.Effect<A, E>): Fiber.Fiber<A, E> => run(effect)
      const environment: Environment = { context, fork, clock }
      const dispatcher = new Dispatcher<S, W>(
        {
          name: options.name,
          maxWorkers: options.maxWorkers,
          maxQueue: options.maxQueue,
          whenFull: options.whenFull,
          maxTasksPerSlot: options.maxTasksPerSlot,
          minWorkers: options.minWorkers,
          idleTimeoutMs: options.idleTimeoutMs,
          fork,
          schedule:
            options.idleTimeoutMs < 0
              ? undefined
              : clock === liveClock()
                ? // an idle worker's retirement timer must not keep the program alive
                  (millis, f) => {
                    const timer = setTimeout(f, millis)
                    timer.unref()
                    return () => clearTimeout(timer)
                  }
                : (millis, f) => {
                    const fiber = fork(Effect.sleep(millis).pipe(Effect.andThen(Effect.sync(f))))
                    return () => fiber.interruptUnsafe()
                  },
          metricsContext: options.metrics ? context : undefined,
          clock: options.timings ? clock : undefined
        },
        (host) => kind(host, environment)
      )
      const scope = yield* Effect.scope
      yield* Scope.addFinalizer(scope, shutdown(dispatcher, { wait: true }))
      dispatcher.start()
      return {
        dispatcher,
        environment,
        executor: {
          name: options.name,
          shutdown: (shutdownOptions) => shutdown(dispatcher, shutdownOptions),
          stats: Effect.sync(() => dispatcher.stats())
        },
        submit: (work, track) => {
          track?.(work.future)
          return dispatcher.submit(work, work.future)
        }
      }
    })
  )

/** effect's own clock (the default of the `Clock` reference): timers on it are Node timers. */
const liveClock = (): Clock.Clock => Context.get(Context.empty(), Clock.Clock)

const shutdown = <S extends Slot, W extends Work<S>>(
  dispatcher: Dispatcher<S, W>,
  options?: ShutdownOptions
): Effect.Effect<void> =>
  Effect.suspend(() => {
    dispatcher.shutdownNow(options?.cancelFutures === true)
    if (options?.wait === false) return Effect.void
    return Effect.andThen(dispatcher.awaitIdle(), dispatcher.closeAll())
  })

/** @internal */
export type { Stats }
