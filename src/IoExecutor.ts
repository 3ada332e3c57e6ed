/**
 * A bounded fiber pool for I/O work, provided as a Layer: the
 * `ThreadPoolExecutor` analogue.
 *
 * At most `maxWorkers` submitted tasks run at once, each in its own fiber with
 * the submitter's context (services, span, log annotations); the rest wait in
 * a FIFO queue, optionally bounded by `maxQueue` with backpressure. Every
 * submission returns a {@link Future.Future} at once.
 *
 * **Example** (Fetching many URLs, 8 at a time)
 *
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Future, IoExecutor } from "effect-futures"
 *
 * const fetchLength = (url: string) => Effect.promise(() => fetch(url).then((r) => r.text())).pipe(
 *   Effect.map((body) => body.length)
 * )
 *
 * const program = Effect.gen(function*() {
 *   const executor = yield* IoExecutor.IoExecutor
 *   const future = yield* executor.submit(fetchLength("https://example.com"), { timeout: "5 seconds" })
 *   const length = yield* Future.await(future)
 *   const all = yield* executor.map(["https://a.example", "https://b.example"], fetchLength).pipe(
 *     Stream.runCollect
 *   )
 * }).pipe(Effect.provide(IoExecutor.layer({ maxWorkers: 8 })))
 * ```
 *
 * @since 0.1.0
 */
import type * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import type * as Duration from "effect/Duration"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Scheduler from "effect/Scheduler"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import * as os from "node:os"
import type { Executor, MapOptions, SubmitOptions, WhenFull } from "./Executor.ts"
import type { BrokenExecutorError, CancelledError, InvalidOptionsError, SubmitError } from "./ExecutorError.ts"
import type { Future } from "./Future.ts"
import * as executor_ from "./internal/executor.ts"
import * as fiberSlot from "./internal/fiberSlot.ts"
import * as map_ from "./internal/map.ts"
import * as options_ from "./internal/options.ts"
import * as timeout_ from "./internal/timeout.ts"

/**
 * Options of an I/O executor. Every field is optional.
 *
 * @category models
 * @since 0.1.0
 */
export interface Options<R = never> {
  /** Tasks that run at once. Default `min(32, availableParallelism() + 4)`, as Python. */
  readonly maxWorkers?: number | undefined
  /** Tasks that may wait in the queue (0 = none: submit only when a slot is free). Default unbounded. */
  readonly maxQueue?: number | undefined
  /** What `submit` does when the queue is full. Default `"suspend"`. */
  readonly whenFull?: WhenFull | undefined
  /**
   * Runs once per worker slot before its first task, with the context `make`
   * runs in. If it fails the executor is broken: queued and later submissions
   * fail with `BrokenExecutorError` (cancelled futures stay cancelled).
   */
  readonly initializer?: Effect.Effect<unknown, unknown, R> | undefined
  /** Names the executor in errors, metrics (attribute `executor`) and spans. Default `"io"`. */
  readonly name?: string | undefined
  /** Record the `ExecutorMetrics`. Default `true`. */
  readonly metrics?: boolean | undefined
  /**
   * Run each task in a span named `<name>.task`, a child of the submitter's
   * span, when the submitter is inside a span. Default `true`.
   */
  readonly tracing?: boolean | undefined
}

/**
 * The options `layerConfig` reads from a `Config` (all but the initializer).
 *
 * @category models
 * @since 0.1.0
 */
export type ConfigurableOptions = Omit<Options, "initializer">

/**
 * The I/O executor.
 *
 * - `submit(task, { timeout })` admits a task and returns its future. The
 *   task runs with the submitter's context; `timeout` bounds its running time
 *   from when it starts (not time in the queue) and interrupts it on expiry,
 *   failing the future with `Cause.TimeoutError`. A task that interrupts
 *   itself ends cancelled; a task that dies fails its future with the defect
 *   and frees its slot. Fails with `ExecutorShutdownError` after shutdown,
 *   `BrokenExecutorError` once broken, and `QueueFullError` when the queue is
 *   full and `whenFull` is `"fail"` (with `"suspend"` the caller waits for room).
 *   A future still queued when the executor breaks (its initializer failed)
 *   fails with `BrokenExecutorError`, which is why that error is part of every
 *   future's error type.
 * - `map(items, f, options)`: a stream of results in input order (see
 *   {@link MapOptions}); however it ends, the unfinished tasks it submitted are
 *   cancelled.
 * - `name`, `shutdown`, `stats`: as every {@link Executor.Executor}. Called
 *   from inside one of this executor's tasks, `shutdown({ wait: true })` waits
 *   for every other task and returns.
 *
 * @category models
 * @since 0.1.0
 */
export interface IoExecutorShape extends Executor {
  readonly submit: {
    <A, E, R>(task: Effect.Effect<A, E, R>): Effect.Effect<Future<A, E | BrokenExecutorError>, SubmitError, R>
    <A, E, R>(
      task: Effect.Effect<A, E, R>,
      options: SubmitOptions
    ): Effect.Effect<Future<A, E | BrokenExecutorError | Cause.TimeoutError>, SubmitError, R>
  }
  readonly map: <I, A, E, R>(
    items: Iterable<I>,
    f: (item: I) => Effect.Effect<A, E, R>,
    options?: MapOptions
  ) => Stream.Stream<A, E | CancelledError | SubmitError | Cause.TimeoutError, R>
}

/**
 * The I/O executor service. Use `make` to build more executors under tags of
 * your own.
 *
 * @category services
 * @since 0.1.0
 */
export class IoExecutor extends Context.Service<IoExecutor, IoExecutorShape>()("effect-futures/IoExecutor") {}

/**
 * The default `maxWorkers`: `min(32, availableParallelism() + 4)`, as Python's
 * `ThreadPoolExecutor`.
 *
 * **Example** (Sizing a pool relative to the default)
 *
 * ```ts
 * import { IoExecutor } from "effect-futures"
 *
 * const layer = IoExecutor.layer({ maxWorkers: 2 * IoExecutor.defaultMaxWorkers() })
 * ```
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultMaxWorkers = (): number => Math.min(32, os.availableParallelism() + 4)

/**
 * Creates an I/O executor that lives as long as the enclosing scope; closing
 * the scope runs `shutdown({ wait: true })`. Invalid options fail with
 * `InvalidOptionsError` naming the option.
 *
 * **Example** (Two pools under tags of your own)
 *
 * ```ts
 * import { Context, Layer } from "effect"
 * import { IoExecutor } from "effect-futures"
 *
 * class DbPool extends Context.Service<DbPool, IoExecutor.IoExecutorShape>()("app/DbPool") {}
 * const DbPoolLive = Layer.effect(DbPool, IoExecutor.make({ maxWorkers: 4, name: "db" }))
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = <R = never>(
  options: Options<R> = {}
): Effect.Effect<IoExecutorShape, InvalidOptionsError, R | Scope.Scope> =>
  Effect.gen(function* () {
    const maxWorkers = yield* options_.positiveInt("maxWorkers", options.maxWorkers, defaultMaxWorkers())
    const maxQueue = yield* options_.capacity("maxQueue", options.maxQueue)
    const whenFull = yield* options_.oneOf("whenFull", options.whenFull, ["suspend", "fail"], "suspend")
    const name = yield* options_.nonEmptyString("name", options.name, "io")
    const metrics = yield* options_.boolean("metrics", options.metrics, true)
    const tracing = yield* options_.boolean("tracing", options.tracing, true)
    if (options.initializer !== undefined && !Effect.isEffect(options.initializer)) {
      return yield* options_.fail("initializer", options.initializer, "an Effect")
    }
    const context = yield* Effect.context<R>()
    const initializer =
      options.initializer === undefined ? undefined : Effect.provideContext(options.initializer, context)
    const core = yield* executor_.make<fiberSlot.FiberSlot, fiberSlot.IoWork>(
      {
        name,
        maxWorkers,
        maxQueue,
        whenFull,
        metrics,
        timings: metrics || tracing,
        maxTasksPerSlot: 0,
        minWorkers: 0,
        idleTimeoutMs: -1
      },
      (host, environment) =>
        fiberSlot.make(
          {
            name,
            initializer,
            scheduler: Context.get(environment.context, Scheduler.Scheduler).makeDispatcher(),
            tracing
          },
          host,
          environment
        )
    )
    const dispatcher = core.dispatcher
    const submit = (
      task: Effect.Effect<unknown, unknown, any>,
      timeout: Duration.Input | undefined,
      track?: (future: Future<any, any>) => void
    ): Effect.Effect<Future<any, any>, SubmitError> =>
      Effect.withFiber((fiber) => {
        const millis = timeout_.parse(timeout, "timeout")
        if (typeof millis !== "number") return Effect.die(millis)
        const work = new fiberSlot.IoWork(dispatcher, millis, task as Effect.Effect<unknown, unknown>, fiber.context)
        return core.submit(work, track)
      })

    return IoExecutor.of({
      ...core.executor,
      submit: ((task: Effect.Effect<unknown, unknown, any>, submitOptions?: SubmitOptions) =>
        submit(task, submitOptions?.timeout)) as IoExecutorShape["submit"],
      map: <I, A, E, R>(items: Iterable<I>, f: (item: I) => Effect.Effect<A, E, R>, mapOptions?: MapOptions) =>
        map_.map<I, A, E, R>(
          items,
          (item, track) =>
            submit(f(item), mapOptions?.taskTimeout, track) as Effect.Effect<Future<A, E>, SubmitError, R>,
          mapOptions
        )
    })
  })

/**
 * A layer providing {@link IoExecutor}; releasing it runs
 * `shutdown({ wait: true })`. Invalid options fail the layer with
 * `InvalidOptionsError`.
 *
 * **Example** (Providing a bounded pool with backpressure)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Future, IoExecutor } from "effect-futures"
 *
 * const program = Effect.gen(function* () {
 *   const executor = yield* IoExecutor.IoExecutor
 *   return yield* Future.await(yield* executor.submit(Effect.succeed(1)))
 * })
 * const runnable = program.pipe(Effect.provide(IoExecutor.layer({ maxWorkers: 16, maxQueue: 1000, whenFull: "suspend" })))
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = <R = never>(options: Options<R> = {}): Layer.Layer<IoExecutor, InvalidOptionsError, R> =>
  Layer.effect(IoExecutor)(make(options))

/**
 * A layer providing {@link IoExecutor} with options read from a `Config`.
 *
 * **Example** (Reading the pool size from the environment)
 *
 * ```ts
 * import { Config } from "effect"
 * import { IoExecutor } from "effect-futures"
 *
 * const layer = IoExecutor.layerConfig({
 *   maxWorkers: Config.Int("IO_WORKERS").pipe(Config.withDefault(16)),
 *   name: Config.succeed("io")
 * })
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layerConfig = (
  config: Config.Wrap<ConfigurableOptions>
): Layer.Layer<IoExecutor, InvalidOptionsError | Config.ConfigError> =>
  Layer.effect(IoExecutor)(Effect.flatMap(Config.unwrap(config), (options) => make(options)))
