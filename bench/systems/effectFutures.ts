// effect-futures' IoExecutor: a Future per task via `submit`, then `Future.await` on each.
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Future from "../../src/Future.ts"
import * as IoExecutor from "../../src/IoExecutor.ts"
import type { InProcessSystem, Runner, RunResult } from "../types.ts"

type Options = Omit<IoExecutor.Options, "maxWorkers">

const run = <E>(effect: Effect.Effect<RunResult, E, Scope.Scope>): Promise<RunResult> =>
  Effect.runPromise(Effect.scoped(effect))

const awaitAll = (futures: ReadonlyArray<Future.Future<unknown, unknown>>) =>
  Effect.gen(function* () {
    let completed = 0
    for (let i = 0; i < futures.length; i++) {
      if ((yield* Future.await(futures[i]!)) === undefined) completed++
    }
    return completed
  })

/** Submits `tasks` copies of `task()` (a fresh effect each), then awaits them all in order. */
const submitThenAwait =
  (options: Options, task: (delayMs: number) => Effect.Effect<void>): Runner =>
  (params) =>
    run(
      Effect.gen(function* () {
        const executor = yield* IoExecutor.make({ ...options, maxWorkers: params.concurrency })
        const delay = params.delayMs ?? 10
        const futures = new Array<Future.Future<unknown, unknown>>(params.tasks)
        const start = performance.now()
        for (let i = 0; i < params.tasks; i++) futures[i] = yield* executor.submit(task(delay))
        const completed = yield* awaitAll(futures)
        return { completed, elapsedMs: performance.now() - start }
      })
    )

/** W6: one task holds the only worker; `tasks` no-op tasks queue behind it while memory is read. */
const queuedMemory =
  (options: Options): Runner =>
  (params, env) =>
    run(
      Effect.gen(function* () {
        const executor = yield* IoExecutor.make({ ...options, maxWorkers: 1 })
        const started = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        const blocker = yield* executor.submit(
          Deferred.succeed(started, undefined).pipe(Effect.andThen(Deferred.await(release)))
        )
        yield* Deferred.await(started)
        const futures = new Array<Future.Future<unknown, unknown>>(params.tasks)
        yield* Effect.yieldNow
        const memoryBefore = env.readMemory()
        const start = performance.now()
        for (let i = 0; i < params.tasks; i++) futures[i] = yield* executor.submit(Effect.sync(() => undefined))
        const elapsedMs = performance.now() - start
        yield* Effect.yieldNow
        const memoryAfter = env.readMemory()
        const queuedAtMeasure = (yield* executor.stats).queued
        yield* Deferred.succeed(release, undefined)
        yield* Future.await(blocker)
        const completed = yield* awaitAll(futures)
        return { completed, elapsedMs, memoryBefore, memoryAfter, queuedAtMeasure }
      })
    )

const make = (id: string, label: string, options: Options, notes: string): InProcessSystem => ({
  _tag: "InProcess",
  id,
  label,
  kind: "ours",
  notes,
  runners: {
    W1: submitThenAwait(options, (delay) => Effect.sleep(`${delay} millis`)),
    W2: submitThenAwait(options, () => Effect.sync(() => undefined)),
    W6: queuedMemory(options)
  }
})

/** Default options: metrics and tracing on. */
export const system = make(
  "effect-futures",
  "effect-futures IoExecutor (defaults)",
  {},
  "`IoExecutor.make({ maxWorkers })`, metrics and tracing on (defaults); `submit` then `Future.await` per task"
)

/** Metrics and tracing off. */
export const lean = make(
  "effect-futures-lean",
  "effect-futures IoExecutor (metrics/tracing off)",
  { metrics: false, tracing: false },
  "`IoExecutor.make({ maxWorkers, metrics: false, tracing: false })`; `submit` then `Future.await` per task"
)
