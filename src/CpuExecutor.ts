/**
 * A pool of worker threads for CPU work, provided as a Layer: the
 * `ProcessPoolExecutor` analogue.
 *
 * Tasks are typed definitions (`Task.make`) served by a worker entry module
 * (`CpuWorker.serve`). Payloads, results and typed errors are encoded with the
 * task's schemas at the thread boundary, so errors keep their class and fields.
 * The queue, backpressure, shutdown, broken state, metrics and `map` are the
 * I/O executor's, by construction: both run on one dispatcher.
 *
 * Cancellation really stops work: a queued task never starts; a running task
 * is interrupted inside its worker (its finalizers run there), and a handler
 * that cannot yield (a synchronous loop) is stopped by terminating its worker
 * after `cancelGracePeriod`; the worker is replaced. A worker that dies fails
 * only the tasks it had started, with `WorkerCrashedError`; tasks sent ahead
 * to it that it never started run on its replacement.
 *
 * **Example** (Squaring numbers on every core)
 *
 * ```ts
 * import { Effect, Schema, Stream } from "effect"
 * import { CpuExecutor, Future, Task } from "effect-futures"
 *
 * // tasks.ts, imported by the worker entry too
 * class NegativeInput extends Schema.TaggedError<NegativeInput>()("NegativeInput", { value: Schema.Number }) {}
 * const SquareRoot = Task.make("SquareRoot", { payload: Schema.Number, success: Schema.Number, error: NegativeInput })
 *
 * const program = Effect.gen(function*() {
 *   const cpu = yield* CpuExecutor.CpuExecutor
 *   const future = yield* cpu.submit(SquareRoot, 16)
 *   const root = yield* Future.await(future) // 4, or NegativeInput
 *   const roots = yield* cpu.map(SquareRoot, [1, 4, 9], { chunksize: 100 }).pipe(Stream.runCollect)
 * }).pipe(Effect.provide(CpuExecutor.layer({ worker: new URL("./worker.ts", import.meta.url) })))
 * ```
 *
 * @since 0.1.0
 */
import type * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import type { WorkerOptions } from "node:worker_threads"
import type { MapOptions, Stats, WhenFull } from "./Executor.ts"
import {
  type BrokenExecutorError,
  InvalidOptionsError,
  type SubmitError,
  type TaskCodecError,
  type WorkerCrashedError
} from "./ExecutorError.ts"
import type { Future } from "./Future.ts"
import * as executor_ from "./internal/executor.ts"
import * as taskExecutor from "./internal/taskExecutor.ts"
import * as options_ from "./internal/options.ts"
import * as workerSlot from "./internal/workerSlot.ts"
import type * as Task from "./Task.ts"
import type { TaskExecutor, TaskExecutorOf } from "./TaskExecutor.ts"

/**
 * Options of a CPU executor. Only `worker` is required.
 *
 * @category models
 * @since 0.1.0
 */
export interface Options {
  /**
   * The worker entry module (a `file:` URL or a path), which calls
   * `CpuWorker.serve`. Each worker loads its whole module graph when it starts
   * (about 150 of effect's modules for a task module that imports
   * `effect/Schema`); an entry bundled into one file (README, "Fast worker
   * start") starts about three times faster. A `.ts` entry runs through Node's
   * type stripping.
   */
  readonly worker: URL | string
  /** Worker threads at most. Default `availableParallelism()`. */
  readonly maxWorkers?: number | undefined
  /** Worker threads started with the executor and kept warm. Default 0. */
  readonly minWorkers?: number | undefined
  /** Workers above `minWorkers` idle this long are closed. Default 60 seconds; `Infinity` keeps them. */
  readonly idleTimeout?: Duration.Input | undefined
  /** Replace a worker after it has run this many tasks (between tasks, without stalling the queue). Default: never. */
  readonly maxTasksPerWorker?: number | undefined
  /**
   * Tasks one worker runs at once (more than 1 only helps asynchronous
   * handlers). Default 1. When a task sharing its worker has to be stopped by
   * terminating the worker, the others on it fail with `WorkerCrashedError`.
   */
  readonly concurrentTasksPerWorker?: number | undefined
  /**
   * Extra tasks sent to each worker ahead of time, so it never waits for the
   * parent between short tasks (Python's `EXTRA_QUEUED_CALLS`). Tasks are sent
   * ahead only to the least loaded worker, not while a worker is still
   * starting, and only as far as `maxQueue` allows (a task sent ahead is a
   * waiting task, like one in the queue). Exact: a task sent ahead reads as
   * `pending` (and counts in `stats.prefetched`) until its worker starts it;
   * cancelling it or its timeout (which counts from its start) drops it without
   * touching the worker; when another worker is idle it takes the task back;
   * when its worker dies it runs on another, unless its payload was
   * transferred there. Tasks start in submission order per worker. Default
   * {@link defaultPrefetch}; 0 sends each worker only what it runs.
   */
  readonly prefetch?: number | undefined
  /** Tasks that may wait in the queue. Default unbounded. */
  readonly maxQueue?: number | undefined
  /** What `submit` does when the queue is full. Default `"suspend"`. */
  readonly whenFull?: WhenFull | undefined
  /** Passed to each `new Worker` (heap limits: a worker over them dies with `WorkerCrashedError`). */
  readonly resourceLimits?: WorkerOptions["resourceLimits"] | undefined
  readonly execArgv?: ReadonlyArray<string> | undefined
  readonly env?: Record<string, string> | undefined
  /** Structured-cloned to every worker; `CpuWorker.serve`'s `initialize` receives it. */
  readonly workerData?: unknown
  /** How long a cancelled or timed-out task may take to stop before its worker is terminated. Default 1 second. */
  readonly cancelGracePeriod?: Duration.Input | undefined
  /** How long a closing worker may take to release its resources before it is terminated. Default 5 seconds. */
  readonly closeTimeout?: Duration.Input | undefined
  /** More crashes than this within `crashWindow` break the executor. Default 5. */
  readonly maxCrashes?: number | undefined
  /** Default 60 seconds. */
  readonly crashWindow?: Duration.Input | undefined
  /**
   * Turn on Node's module compile cache (`module.enableCompileCache()`, in
   * Node's default cache directory) in each worker before its entry module
   * loads, so workers after the first on a machine load effect and your task
   * modules from cached code; the workers' environment gets
   * `NODE_COMPILE_CACHE` (unless set), so even their bootstrap and a `.ts`
   * entry come from the cache. Default `true`.
   */
  readonly compileCache?: boolean | undefined
  /**
   * How long each side of a round trip stays awake for the other before its
   * thread sleeps: an idle worker polls its port for its next task, and the
   * parent's event loop, after posting a task to an idle worker, keeps
   * turning without sleeping until the result comes. Waking a sleeping thread
   * is most of a round trip's cost where an idle CPU halts, as a virtual
   * machine's vCPU does: measured here, a sequential submit-and-await round
   * trip took 66 µs with neither side awake, 21–32 µs with the worker
   * polling, and 8–12 µs with both.
   *
   * The worker polls only after answering a task that found it idle (a round
   * trip: the caller waits for that answer), only while it runs nothing, and
   * not after a batch of tasks (a busy parent, whose CPU polling would take:
   * on W3 that cost a third of the throughput). Messages taken while polling
   * are handled as the event loop would, in order, and its event loop turns
   * at least every millisecond, so its own timers and I/O wait at most that
   * long. The parent stays awake only while a task posted to an idle worker
   * is unanswered, and only by keeping an immediate pending: its event loop
   * still runs every timer, callback and I/O event as usual, only without
   * sleeping in between.
   *
   * Both sides adapt: after a window that passes with nothing, that side
   * sleeps at once again until the pace is back within one window, so sparse
   * traffic costs at most one window of a core per change of pace. The cost
   * is CPU: bursts of 10 tiny tasks every 2 ms cost the worker about twice
   * the CPU (65–75 µs per task instead of 35–37); tasks shorter than the
   * window cost the parent up to their length in CPU. On 2 cores, two awake
   * threads leave the JIT's background compiler none to itself while a
   * program warms up: the p99 of W5's 5,000 round trips rose from about 157
   * µs to about 230. `0` turns both sides off. At most 10 milliseconds.
   * Default {@link defaultIdleSpin} (100 µs).
   */
  readonly idleSpin?: Duration.Input | undefined
  /** Names the executor in errors and metrics. Default `"cpu"`. */
  readonly name?: string | undefined
  /** Record the `ExecutorMetrics`. Default `true`. */
  readonly metrics?: boolean | undefined
}

/**
 * Options of `submit`.
 *
 * @category models
 * @since 0.1.0
 */
export interface SubmitOptions {
  /**
   * Bounds the task's running time, counted from when its worker starts it
   * (not time in the queue, nor time sent ahead in the worker's own queue); on
   * expiry it is stopped as by `cancel` and fails with `Cause.TimeoutError`.
   */
  readonly timeout?: Duration.Input | undefined
  /** `ArrayBuffer`s (inside the encoded payload) to move to the worker instead of copying. */
  readonly transfer?: ReadonlyArray<ArrayBuffer | import("node:worker_threads").MessagePort> | undefined
}

/**
 * What a CPU task's future can fail with besides the task's own error.
 *
 * @category models
 * @since 0.1.0
 */
export type TaskError = WorkerCrashedError | TaskCodecError | BrokenExecutorError | Cause.TimeoutError

/**
 * The executor's counters, plus worker lifecycle counts.
 *
 * @category models
 * @since 0.1.0
 */
export interface CpuStats extends Stats {
  /** Workers started to replace crashed ones. */
  readonly restarts: number
  /** Workers that crashed (not counting those terminated to stop a task). */
  readonly crashes: number
  /** Workers replaced after `maxTasksPerWorker` tasks. */
  readonly recycled: number
  /** Worker threads alive, including ones still starting or closing. */
  readonly threads: number
}

/**
 * The CPU executor.
 *
 * - `submit(task, payload, { timeout, transfer })` encodes the payload with the
 *   task's schema (a payload that does not encode gives a future failed with
 *   `TaskCodecError`; so does one that cannot be cloned), admits it and
 *   returns its future. Fails with `SubmitError` as the I/O executor does.
 * - `map(task, payloads, options)`: as the I/O executor's `map`; `chunksize`
 *   sends that many payloads per worker message. What the stream emits does
 *   not depend on it: the results before the first failing item, then its
 *   failure (Python's chunks lose the whole chunk).
 * - `shutdown`, `stats`: as the I/O executor's; releasing the layer runs
 *   `shutdown({ wait: true })` and then closes every worker thread.
 *
 * @category models
 * @since 0.1.0
 */
export interface CpuExecutorShape extends TaskExecutorOf<SubmitOptions, TaskError, CpuStats> {}

/**
 * The CPU executor service. Use `make` for executors under tags of your own.
 *
 * @category services
 * @since 0.1.0
 */
export class CpuExecutor extends Context.Service<CpuExecutor, CpuExecutorShape>()("effect-futures/CpuExecutor") {}

/**
 * Creates a CPU executor that lives as long as the enclosing scope. Closing
 * the scope waits for running and queued tasks, then closes every worker (no
 * thread, handle or listener outlives it). Invalid options fail with
 * `InvalidOptionsError` naming the option.
 *
 * **Example** (A second pool under a tag of your own)
 *
 * ```ts
 * import { Context, Layer } from "effect"
 * import { CpuExecutor } from "effect-futures"
 *
 * class ImagePool extends Context.Service<ImagePool, CpuExecutor.CpuExecutorShape>()("app/ImagePool") {}
 * const ImagePoolLive = Layer.effect(ImagePool, CpuExecutor.make({ worker: "./dist/image-worker.js", maxWorkers: 2 }))
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: Options): Effect.Effect<CpuExecutorShape, InvalidOptionsError, Scope.Scope> =>
  Effect.gen(function* () {
    const maxWorkers = yield* options_.positiveInt("maxWorkers", options.maxWorkers, os.availableParallelism())
    const minWorkers = yield* options_.nonNegativeInt("minWorkers", options.minWorkers, 0)
    if (minWorkers > maxWorkers)
      return yield* options_.fail("minWorkers", minWorkers, `at most maxWorkers (${maxWorkers})`)
    const worker = yield* workerUrl(options.worker)
    const idleTimeoutMs = yield* options_.duration("idleTimeout", options.idleTimeout, 60_000)
    const maxTasksPerWorker = yield* options_.positiveInt("maxTasksPerWorker", options.maxTasksPerWorker, Infinity)
    const concurrency = yield* options_.positiveInt("concurrentTasksPerWorker", options.concurrentTasksPerWorker, 1)
    const prefetch = yield* options_.nonNegativeInt("prefetch", options.prefetch, defaultPrefetch)
    const maxQueue = yield* options_.capacity("maxQueue", options.maxQueue)
    const whenFull = yield* options_.oneOf("whenFull", options.whenFull, ["suspend", "fail"], "suspend")
    const cancelGracePeriodMs = yield* options_.duration("cancelGracePeriod", options.cancelGracePeriod, 1_000)
    const closeTimeoutMs = yield* options_.duration("closeTimeout", options.closeTimeout, 5_000)
    const maxCrashes = yield* options_.nonNegativeInt("maxCrashes", options.maxCrashes, 5)
    const crashWindowMs = yield* options_.duration("crashWindow", options.crashWindow, 60_000)
    const name = yield* options_.nonEmptyString("name", options.name, "cpu")
    const metrics = yield* options_.boolean("metrics", options.metrics, true)
    const compileCache = yield* options_.boolean("compileCache", options.compileCache, true)
    const idleSpinMs = yield* options_.duration("idleSpin", options.idleSpin ?? defaultIdleSpin, 0)
    if (idleSpinMs < 0 || idleSpinMs > 10)
      return yield* options_.fail("idleSpin", options.idleSpin, "at most 10 millis")
    const execArgv = yield* stringArray("execArgv", options.execArgv)
    const env = yield* stringRecord("env", options.env)
    const resourceLimits = yield* objectOption("resourceLimits", options.resourceLimits)
    try {
      structuredClone(options.workerData)
    } catch (error) {
      return yield* options_.fail("workerData", String(error), "a structured-cloneable value")
    }
    const counters: workerSlot.Counters = { restarts: 0, crashes: 0, threads: 0 }
    const core = yield* executor_.make<workerSlot.WorkerSlot, workerSlot.CpuWork>(
      {
        name,
        maxWorkers,
        maxQueue,
        whenFull,
        metrics,
        timings: metrics,
        maxTasksPerSlot: maxTasksPerWorker === Infinity ? 0 : maxTasksPerWorker,
        minWorkers,
        idleTimeoutMs
      },
      (host, environment) =>
        workerSlot.make(
          {
            name,
            worker,
            compileCache,
            idleSpinMs,
            concurrency,
            prefetch,
            workerData: options.workerData,
            resourceLimits,
            execArgv,
            env,
            cancelGracePeriodMs: cancelGracePeriodMs < 0 ? 2 ** 31 - 1 : cancelGracePeriodMs,
            closeTimeoutMs: closeTimeoutMs < 0 ? 2 ** 31 - 1 : closeTimeoutMs,
            maxCrashes,
            crashWindowMs: crashWindowMs < 0 ? Infinity : crashWindowMs
          },
          host,
          environment,
          counters
        )
    )
    const dispatcher = core.dispatcher
    const submit = taskExecutor.submitter(
      core,
      (timeoutMs, task, encoded, chunk, transfer) =>
        new workerSlot.CpuWork(dispatcher, timeoutMs, task, encoded, chunk, transfer),
      true
    )

    return CpuExecutor.of({
      ...core.executor,
      submit: <T extends Task.AnyTask>(task: T, payload: Task.Payload<T>, submitOptions?: SubmitOptions) =>
        submit(task, false, payload, submitOptions?.timeout, submitOptions?.transfer) as Effect.Effect<
          Future<Task.Success<T>, Task.Error<T> | TaskError>,
          SubmitError
        >,
      map: <T extends Task.AnyTask>(task: T, payloads: Iterable<Task.Payload<T>>, mapOptions?: MapOptions) =>
        taskExecutor.map<T, TaskError>(submit, task, payloads, mapOptions),
      stats: Effect.sync(() => ({
        ...dispatcher.stats(),
        restarts: counters.restarts,
        crashes: counters.crashes,
        threads: counters.threads,
        recycled: dispatcher.recycled
      }))
    })
  })

/**
 * The default `prefetch`: tasks sent to each worker beyond what it runs, so a
 * worker never waits for the parent between short tasks. Exact since protocol
 * v2 (a task sent ahead and not started is cancelled without touching its
 * worker, and an idle worker takes back tasks sent ahead to a busy one), so it
 * is on by default.
 *
 * Why 16: each message to a worker costs a wake-up of its thread (measured
 * here: about 11 µs of the parent's CPU to an idle worker, 2 µs to a busy
 * one), and tasks dispatched to a busy worker in one turn of the event loop go
 * in one message, so the deeper the worker's queue, the fewer messages. On W3
 * (200,000 tiny tasks, 2 workers) the parent posted 71,000 messages at
 * prefetch 2, 24,000 at 8, 13,000 at 16 and 6,700 at 32, and its CPU time fell
 * from 1.5 s to 1.0 s at 8 and 0.9 s at 16, little more after. The cost: a
 * worker holds up to `concurrentTasksPerWorker + prefetch` payloads; with
 * payloads of megabytes, or transferred ones (which cannot be taken back for
 * an idle worker), choose a small `prefetch`.
 *
 * **Example** (Turning it off)
 *
 * ```ts
 * import { CpuExecutor } from "effect-futures"
 *
 * const layer = CpuExecutor.layer({ worker: "./dist/worker.js", prefetch: 0 })
 * console.log(CpuExecutor.defaultPrefetch) // 16
 * ```
 *
 * @category constants
 * @since 0.2.0
 */
export const defaultPrefetch: number = 16

/**
 * The default `idleSpin`: how long each side of a round trip (an idle worker,
 * the parent waiting for a result) stays awake before its thread sleeps.
 *
 * Why 100 µs: a worker must still be polling when the parent's next task
 * comes, and the parent takes about 20–60 µs between a result and the next
 * submission of a sequential caller here (its own wake-up included). In a
 * round-trip test (raw messages, 20,000 round trips, this 2-vCPU virtual
 * machine) the p50 was 66 µs without polling; 3–24 µs with 50 µs of polling,
 * 4–10 µs with 100 and 3–4 µs with 200; and both threads used less CPU per
 * round trip, not more (the parent 26–30 µs without, 4–5 µs with 200), because
 * neither wakes a halted CPU. Through this executor (W5, sequential
 * submit-and-await, 20,000 round trips) the p50 was 21–23 µs at 100 µs and
 * 23–33 µs at 200, and the p99 122–129 µs at 100 against 128–220 at 200: a
 * window also bounds what a polling worker can cost a parent thread the
 * scheduler puts on its CPU. With the parent's side awake too (20,000 round
 * trips): p50 9–14 µs at 50 µs (p90 86–109: a parent's next task often came
 * after the worker had stopped polling), 9–11 at 100 (p90 13–21) and 8–9 at
 * 200 (p99 67–420). Sparse tasks cost at most one window of polling when the
 * pace changes (see `idleSpin`).
 *
 * **Example** (Turning it off)
 *
 * ```ts
 * import { CpuExecutor } from "effect-futures"
 *
 * const layer = CpuExecutor.layer({ worker: "./dist/worker.js", idleSpin: 0 })
 * console.log(CpuExecutor.defaultIdleSpin) // "100 micros"
 * ```
 *
 * @category constants
 * @since 0.2.0
 */
export const defaultIdleSpin: Duration.Input = "100 micros"

/**
 * A layer providing {@link CpuExecutor}, and the same executor as the common
 * `TaskExecutor.TaskExecutor` (code that only runs `Task`s can depend on that
 * and run on a cluster by swapping this layer). Invalid options fail the
 * layer with `InvalidOptionsError`.
 *
 * **Example** (Recycling workers and bounding their memory)
 *
 * ```ts
 * import { CpuExecutor } from "effect-futures"
 *
 * const layer = CpuExecutor.layer({
 *   worker: new URL("./worker.js", import.meta.url),
 *   maxTasksPerWorker: 1000,
 *   resourceLimits: { maxOldGenerationSizeMb: 256 },
 *   cancelGracePeriod: "500 millis"
 * })
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (options: Options): Layer.Layer<CpuExecutor | TaskExecutor, InvalidOptionsError> =>
  taskExecutor.layer(CpuExecutor, make(options))

/**
 * The options `layerConfig` reads from a `Config`: all but `workerData`,
 * `resourceLimits`, `env` and `execArgv`, which it takes as they are.
 *
 * @category models
 * @since 0.1.0
 */
export type ConfigurableOptions = Omit<Options, "workerData" | "resourceLimits" | "env" | "execArgv">

/**
 * A layer providing {@link CpuExecutor} (and `TaskExecutor.TaskExecutor`)
 * with options read from a `Config`.
 *
 * **Example** (Pool size and worker path from the environment)
 *
 * ```ts
 * import { Config } from "effect"
 * import { CpuExecutor } from "effect-futures"
 *
 * const layer = CpuExecutor.layerConfig({
 *   worker: Config.String("CPU_WORKER"),
 *   maxWorkers: Config.Int("CPU_WORKERS").pipe(Config.withDefault(4))
 * })
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layerConfig = (
  config: Config.Wrap<ConfigurableOptions>,
  fixed: Pick<Options, "workerData" | "resourceLimits" | "env" | "execArgv"> = {}
): Layer.Layer<CpuExecutor | TaskExecutor, InvalidOptionsError | Config.ConfigError> =>
  taskExecutor.layer(
    CpuExecutor,
    Effect.flatMap(Config.unwrap(config), (options) => make({ ...options, ...fixed }))
  )

// ---------------------------------------------------------------------------
// internal
// ---------------------------------------------------------------------------

const workerUrl = (worker: unknown): Exit.Exit<URL, InvalidOptionsError> => {
  let url: URL
  if (worker instanceof URL) url = worker
  else if (typeof worker === "string" && worker.length > 0) {
    url = worker.startsWith("file:") ? new URL(worker) : pathToFileURL(path.resolve(worker))
  } else {
    return options_.fail("worker", worker, "a file: URL or a path to the worker entry module")
  }
  if (url.protocol !== "file:") return options_.fail("worker", url.href, "a file: URL")
  if (!fs.statSync(fileURLToPath(url), { throwIfNoEntry: false })?.isFile()) {
    return options_.fail("worker", url.href, "an existing module file")
  }
  return Exit.succeed(url)
}

const stringArray = (
  option: string,
  value: unknown
): Exit.Exit<ReadonlyArray<string> | undefined, InvalidOptionsError> => {
  if (value === undefined) return Exit.succeed(undefined)
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    return options_.fail(option, value, "an array of strings")
  }
  return Exit.succeed(value)
}

const stringRecord = (
  option: string,
  value: unknown
): Exit.Exit<Record<string, string> | undefined, InvalidOptionsError> => {
  if (value === undefined) return Exit.succeed(undefined)
  if (typeof value !== "object" || value === null || Object.values(value).some((v) => typeof v !== "string")) {
    return options_.fail(option, value, "an object of string values")
  }
  return Exit.succeed(value as Record<string, string>)
}

const objectOption = <A>(option: string, value: A | undefined): Exit.Exit<A | undefined, InvalidOptionsError> => {
  if (value === undefined) return Exit.succeed(undefined)
  if (typeof value !== "object" || value === null) return options_.fail(option, value, "an object")
  return Exit.succeed(value)
}
