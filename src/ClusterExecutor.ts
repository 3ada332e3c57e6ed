/**
 * An executor whose tasks run on other processes or machines, on Effect
 * Cluster: Dask's `distributed.Client` for `Task`s.
 *
 * It has the `CpuExecutor`'s shape and runs the same `Task` definitions, so a
 * `Task` written once runs on worker threads or across machines by swapping
 * one Layer. Each task is one call to an entity that every runner
 * (`ClusterRunner`) registers; the runner runs it on its own worker threads.
 * `maxWorkers` bounds the calls in flight; the queue, backpressure, shutdown,
 * metrics, `map` and every `Future` function are those of the other
 * executors: it is the same dispatcher with a third kind of slot.
 *
 * Its layers also provide the common `TaskExecutor.TaskExecutor` (the same
 * executor), so code written against that runs on threads or machines as
 * the Layer decides.
 *
 * Semantics across machines:
 * - Delivery is at-least-once: if a runner dies, its calls are sent again to
 *   the runner that takes over its shards, and a task that had started runs
 *   again there. Write handlers that may run twice, or submit with an
 *   `idempotencyKey` (a second submit with the key returns the first one's
 *   result). `persisted` submits are stored before delivery and survive a
 *   client or runner crash.
 * - A call waits while no runner is registered; after `noRunnerTimeout` it
 *   fails with `ClusterError` (reason `NoRunners: …`).
 * - Typed task errors arrive as the same class (they cross encoded with the
 *   task's schemas, like the CPU executor's); a runner's own failures arrive
 *   as `WorkerCrashedError` / `BrokenExecutorError` / `TaskCodecError`
 *   (a task no runner serves fails at once with `TaskCodecError` naming it);
 *   a cluster failure (storage, routing, a full mailbox) as `ClusterError`.
 * - `cancel` (and a task's `timeout`) asks the runner to stop the task and
 *   returns once the task has stopped on the runner's worker, finalizers
 *   included. If that runner is gone or does not answer within
 *   `cancelTimeout`, the call is interrupted without waiting.
 *
 * **Example** (Square roots on a cluster in one process)
 *
 * ```ts
 * import { Effect, Layer, Schema } from "effect"
 * import { ClusterExecutor, Future, Task } from "effect-futures"
 *
 * class NegativeInput extends Schema.TaggedError<NegativeInput>()("NegativeInput", { value: Schema.Number }) {}
 * const SquareRoot = Task.make("SquareRoot", { payload: Schema.Number, success: Schema.Number, error: NegativeInput })
 *
 * const program = Effect.gen(function* () {
 *   const cluster = yield* ClusterExecutor.ClusterExecutor
 *   const root = yield* Future.await(yield* cluster.submit(SquareRoot, 16)) // 4, or NegativeInput
 * }).pipe(Effect.provide(ClusterExecutor.layerEmbedded({ runner: { worker: new URL("./worker.ts", import.meta.url) } })))
 * ```
 *
 * @since 0.3.0
 */
import * as MessageStorage from "effect/cluster/MessageStorage"
import * as RunnerHealth from "effect/cluster/RunnerHealth"
import * as Runners from "effect/cluster/Runners"
import * as RunnerStorage from "effect/cluster/RunnerStorage"
import * as Sharding from "effect/cluster/Sharding"
import * as ShardingConfig from "effect/cluster/ShardingConfig"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as ClusterRunner from "./ClusterRunner.ts"
import type { MapOptions, Stats, WhenFull } from "./Executor.ts"
import type { InvalidOptionsError, SubmitError } from "./ExecutorError.ts"
import type { Future } from "./Future.ts"
import * as clusterJob from "./internal/clusterJob.ts"
import * as clusterOptions from "./internal/clusterOptions.ts"
import * as clusterSlot from "./internal/clusterSlot.ts"
import * as options_ from "./internal/options.ts"
import * as executor_ from "./internal/executor.ts"
import * as taskExecutor from "./internal/taskExecutor.ts"
import type * as Task from "./Task.ts"
import type { TaskError as TaskExecutorTaskError, TaskExecutor, TaskExecutorOf } from "./TaskExecutor.ts"

/**
 * Options of a cluster executor (the client side). Every field is optional.
 *
 * @category models
 * @since 0.3.0
 */
export interface Options {
  /** Calls in flight at most (tasks running on runners for this executor). Default 64. */
  readonly maxWorkers?: number | undefined
  /** Tasks that may wait in the local queue. Default unbounded. */
  readonly maxQueue?: number | undefined
  /** What `submit` does when the queue is full. Default `"suspend"`. */
  readonly whenFull?: WhenFull | undefined
  /**
   * How long `cancel` (or a task's timeout) waits for the runner to confirm
   * that the task stopped before it interrupts the call without waiting.
   * Default 5 seconds.
   */
  readonly cancelTimeout?: Duration.Input | undefined
  /** Names the executor in errors and metrics. Default `"cluster"`. */
  readonly name?: string | undefined
  /** Record the `ExecutorMetrics`. Default `true`. */
  readonly metrics?: boolean | undefined
  /**
   * How long a call may wait while no runner is registered in the cluster
   * (none started yet, or all gone) before its future fails with
   * `ClusterError` (reason `NoRunners: …`), instead of waiting forever. Counted
   * per call, from when it is sent or from when the last runner went,
   * whichever is later; checked every second. Persisted submits (stored
   * messages) are exempt: they wait for a runner. `Infinity` turns it off.
   * Needs the runner storage in context (`ClusterNode.layerClient` and the
   * embedded layers provide it). Default 30 seconds.
   */
  readonly noRunnerTimeout?: Duration.Input | undefined
}

/**
 * Options of `submit`.
 *
 * @category models
 * @since 0.3.0
 */
export interface SubmitOptions {
  /**
   * Bounds the running time, counted on the runner from when its worker
   * starts the task (as a `CpuExecutor` counts it); on expiry the task is
   * stopped there and its future fails with `Cause.TimeoutError`.
   */
  readonly timeout?: Duration.Input | undefined
  /**
   * Makes the submit idempotent across resends, retries, clients and client
   * restarts: the call is stored (as with `persisted`) under this key, and a
   * second submit with the same key, from any client of the cluster, returns
   * the first one's result (or waits for it) instead of running the task
   * again. The key must name one task and payload (a second submit's payload
   * is ignored); keep it as long as the message table keeps the reply
   * (effect's `MessageRetention`). Implies `persisted`. Cancelling a keyed
   * task stops the one shared run, and its stored outcome is then "cancelled":
   * a later submit with the key fails with `CancelledError`; use a new key to
   * run it again.
   */
  readonly idempotencyKey?: string | undefined
  /**
   * Store the call in the cluster's message storage before it is delivered,
   * so it survives a client or runner crash: a runner that takes over the
   * shard replays it, and its reply is stored. Slower than volatile calls
   * (each is written to and read from PostgreSQL). Default `false`:
   * volatile calls are resent from the client's memory when a runner dies, so
   * a client crash loses them.
   */
  readonly persisted?: boolean | undefined
}

/**
 * What a cluster task's future can fail with besides the task's own error:
 * the runner's failures, the cluster's, and the timeout. The same union as
 * `TaskExecutor.TaskError` (a cluster executor can fail with every error a
 * task executor names).
 *
 * @category models
 * @since 0.3.0
 */
export type TaskError = TaskExecutorTaskError

/**
 * The executor's counters, plus the calls in flight.
 *
 * @category models
 * @since 0.3.0
 */
export interface ClusterStats extends Stats {
  /** Entity calls in flight (the same as `running`: a slot is a call). */
  readonly calls: number
  /**
   * Runners registered in the cluster (with a heartbeat younger than the
   * shard lock expiration), as last read from the runner storage (read every
   * second). Absent when the executor has no runner storage in context (a
   * `Sharding` built elsewhere) or has not read it yet.
   */
  readonly runners?: number | undefined
  /** Of those, the runners marked healthy (absent with `runners`). */
  readonly healthyRunners?: number | undefined
}

/**
 * The cluster executor: `submit`, `map`, `shutdown` and `stats`, as
 * `CpuExecutor`'s. `map`'s `chunksize` sends that many payloads per call; the
 * runner runs them as one chunk on one of its workers.
 *
 * @category models
 * @since 0.3.0
 */
export interface ClusterExecutorShape extends TaskExecutorOf<SubmitOptions, TaskError, ClusterStats> {}

/**
 * The cluster executor service. Use `make` for executors under tags of your own.
 *
 * @category services
 * @since 0.3.0
 */
export class ClusterExecutor extends Context.Service<ClusterExecutor, ClusterExecutorShape>()(
  "effect-futures/ClusterExecutor"
) {}

/**
 * Creates a cluster executor that lives as long as the enclosing scope, on
 * the cluster of the `Sharding` in context. Closing the scope waits for the
 * calls in flight and the queued tasks. Invalid options fail with
 * `InvalidOptionsError` naming the option.
 *
 * **Example** (A second cluster executor under a tag of your own)
 *
 * ```ts
 * import { Context, Layer } from "effect"
 * import { ClusterExecutor } from "effect-futures"
 *
 * class Renders extends Context.Service<Renders, ClusterExecutor.ClusterExecutorShape>()("app/Renders") {}
 * const RendersLive = Layer.effect(Renders, ClusterExecutor.make({ maxWorkers: 8, name: "renders" }))
 * ```
 *
 * @category constructors
 * @since 0.3.0
 */
export const make = (
  options: Options = {}
): Effect.Effect<ClusterExecutorShape, InvalidOptionsError, Scope.Scope | Sharding.Sharding> =>
  Effect.gen(function* () {
    const { maxWorkers, maxQueue, whenFull, cancelTimeoutMs, name, metrics, noRunnerTimeoutMs } =
      yield* clusterOptions.validate(options)
    const clientFor = yield* clusterJob.TaskEntity.client
    const hooks: clusterSlot.Hooks = { failWaiting: () => {} }
    const clients = new Map<string, ReturnType<typeof clientFor>>()
    const client = (entityId: string) => {
      let c = clients.get(entityId)
      if (c === undefined) {
        c = clientFor(entityId)
        clients.set(entityId, c)
      }
      return c
    }
    const calls: clusterSlot.Calls = {
      run: (entityId, payload, persisted) =>
        persisted ? client(entityId).runPersisted(payload) : client(entityId).run(payload),
      cancel: (entityId, id) => client(entityId).cancel({ id })
    }
    const core = yield* executor_.make<clusterSlot.ClusterSlot, clusterSlot.ClusterWork>(
      {
        name,
        maxWorkers,
        maxQueue,
        whenFull,
        metrics,
        timings: metrics,
        maxTasksPerSlot: 0,
        minWorkers: 0,
        idleTimeoutMs: -1
      },
      (host, environment) =>
        clusterSlot.make(
          {
            name,
            calls,
            entityIds: ENTITY_IDS,
            callPrefix: `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-`,
            cancelTimeoutMs: cancelTimeoutMs < 0 ? 2 ** 31 - 1 : cancelTimeoutMs,
            hooks
          },
          host,
          environment
        )
    )
    const dispatcher = core.dispatcher
    // a payload crosses to the runner inside an entity call: nothing to transfer
    const submit = taskExecutor.submitter(
      core,
      (timeoutMs, task, encoded, chunk, _transfer, delivery) =>
        new clusterSlot.ClusterWork(
          dispatcher,
          timeoutMs,
          task,
          encoded,
          chunk,
          delivery as clusterSlot.Delivery | undefined
        )
    )
    const runners = yield* monitorRunners(hooks, noRunnerTimeoutMs)

    return ClusterExecutor.of({
      ...core.executor,
      submit: <T extends Task.AnyTask>(task: T, payload: Task.Payload<T>, submitOptions?: SubmitOptions) =>
        Effect.suspend(() => {
          const key = submitOptions?.idempotencyKey
          if (key !== undefined && (typeof key !== "string" || key.length === 0)) {
            return Effect.die(options_.invalid("idempotencyKey", key, "a non-empty string"))
          }
          return submit(
            task,
            false,
            payload,
            submitOptions?.timeout,
            undefined,
            undefined,
            key !== undefined || submitOptions?.persisted === true
              ? ({ idempotencyKey: key, persisted: submitOptions?.persisted } satisfies clusterSlot.Delivery)
              : undefined
          )
        }) as Effect.Effect<Future<Task.Success<T>, Task.Error<T> | TaskError>, SubmitError>,
      map: <T extends Task.AnyTask>(task: T, payloads: Iterable<Task.Payload<T>>, mapOptions?: MapOptions) =>
        taskExecutor.map<T, TaskError>(submit, task, payloads, mapOptions),
      stats: Effect.sync((): ClusterStats => {
        const stats = dispatcher.stats()
        return runners.current === undefined
          ? { ...stats, calls: stats.running }
          : { ...stats, calls: stats.running, runners: runners.current.total, healthyRunners: runners.current.healthy }
      })
    })
  })

/**
 * A layer providing {@link ClusterExecutor}, and the same executor as the
 * common `TaskExecutor.TaskExecutor`, on the cluster of the `Sharding` it is
 * given: `ClusterNode.layerClient` for a multi-process cluster over
 * PostgreSQL, or {@link layerShardingMemory} in one process. With a
 * `RunnerStorage` in context too (both provide one), `stats` reports the
 * runners and `noRunnerTimeout` applies. Invalid options fail the layer with
 * `InvalidOptionsError`.
 *
 * **Example** (A client of a cluster whose Sharding comes from elsewhere)
 *
 * ```ts
 * import { ClusterExecutor } from "effect-futures"
 *
 * const executor = ClusterExecutor.layer({ maxWorkers: 128, maxQueue: 10_000 })
 * ```
 *
 * @category layers
 * @since 0.3.0
 */
export const layer = (
  options: Options = {}
): Layer.Layer<ClusterExecutor | TaskExecutor, InvalidOptionsError, Sharding.Sharding> =>
  taskExecutor.layer(ClusterExecutor, make(options))

/**
 * An in-memory cluster in this process: `Sharding` with no ports, no
 * database and no other runner (in-memory message and runner storage; the
 * runner storage is provided too, for the executor's `stats`).
 * Nothing crosses a wire, so messages are not serialized; payloads and
 * results still go through the tasks' schemas to and from the worker threads.
 *
 * **Example** (An embedded cluster with a runner and a client)
 *
 * ```ts
 * import { Layer } from "effect"
 * import { ClusterExecutor, ClusterRunner } from "effect-futures"
 *
 * const embedded = Layer.mergeAll(
 *   ClusterExecutor.layer(),
 *   ClusterRunner.layer({ worker: new URL("./worker.ts", import.meta.url) })
 * ).pipe(Layer.provide(ClusterExecutor.layerShardingMemory({ shardsPerGroup: 16 })))
 * ```
 *
 * @category layers
 * @since 0.3.0
 */
export const layerShardingMemory = (
  config: Partial<ShardingConfig.ShardingConfig["Service"]> = {}
): Layer.Layer<Sharding.Sharding | RunnerStorage.RunnerStorage> =>
  Sharding.layer.pipe(
    Layer.provideMerge(Runners.layerNoop),
    Layer.provideMerge(MessageStorage.layerMemory),
    Layer.provideMerge(RunnerStorage.layerMemory),
    Layer.provide(RunnerHealth.layerNoop),
    Layer.provide(ShardingConfig.layer({ shardsPerGroup: 32, simulateRemoteSerialization: false, ...config }))
  ) as Layer.Layer<Sharding.Sharding | RunnerStorage.RunnerStorage>

/**
 * Options of {@link layerEmbedded}: the executor's, and its runner's.
 *
 * @category models
 * @since 0.3.0
 */
export interface EmbeddedOptions extends Options {
  /** The in-process runner: its worker entry module and its CPU executor's options. */
  readonly runner: ClusterRunner.Options
}

/**
 * The embedded mode: a cluster executor with its runner in this process, on
 * {@link layerShardingMemory} (no ports, no database). What tests and
 * single-machine programs use; swap it for `ClusterNode.layerClient` to run
 * the same tasks on other machines.
 *
 * **Example** (The same program, threads or cluster)
 *
 * ```ts
 * import { ClusterExecutor } from "effect-futures"
 *
 * const worker = new URL("./worker.ts", import.meta.url)
 * const embedded = ClusterExecutor.layerEmbedded({ maxWorkers: 32, runner: { worker, maxWorkers: 2 } })
 * ```
 *
 * @category layers
 * @since 0.3.0
 */
export const layerEmbedded = (
  options: EmbeddedOptions
): Layer.Layer<ClusterExecutor | TaskExecutor, InvalidOptionsError> => {
  const { runner, ...executor } = options
  // the executor is built on the runner, so it is released first: it drains its calls while the runner serves
  return layer(executor).pipe(Layer.provide(ClusterRunner.layer(runner)), Layer.provide(layerShardingMemory()))
}

// ---------------------------------------------------------------------------
// internal
// ---------------------------------------------------------------------------

/** Entity ids calls are spread over, so that they spread over shards, hence runners. */
const ENTITY_IDS = 256

/** How often the runner storage is read (stats, and the no-runner bound). */
const RUNNER_POLL_MS = 1_000

/**
 * Reads the runners from the runner storage every second, for `stats` and to
 * fail the volatile calls that waited `noRunnerTimeoutMs` with no runner
 * registered. Nothing without a runner storage in context.
 */
const monitorRunners = (hooks: clusterSlot.Hooks, noRunnerTimeoutMs: number) =>
  Effect.gen(function* () {
    const state: { current: { total: number; healthy: number } | undefined } = { current: undefined }
    const storage = yield* Effect.serviceOption(RunnerStorage.RunnerStorage)
    if (storage._tag === "None") return state
    let noRunnersSince: number | undefined = undefined
    const poll = Effect.flatMap(Effect.option(storage.value.getRunners), (read) =>
      Effect.sync(() => {
        if (read._tag === "None") return
        const healthy = read.value.filter(([, h]) => h).length
        state.current = { total: read.value.length, healthy }
        const now = performance.now()
        if (healthy > 0) noRunnersSince = undefined
        else if (noRunnersSince === undefined) noRunnersSince = now
        else if (noRunnerTimeoutMs >= 0 && now - noRunnersSince >= noRunnerTimeoutMs) {
          // calls sent after the last runner went count from when they were sent
          hooks.failWaiting(now - noRunnerTimeoutMs, noRunnerTimeoutMs)
        }
      })
    )
    yield* poll.pipe(Effect.timeout(RUNNER_POLL_MS * 5), Effect.ignore)
    yield* Effect.forkScoped(
      Effect.forever(
        Effect.andThen(Effect.sleep(RUNNER_POLL_MS), poll.pipe(Effect.timeout(RUNNER_POLL_MS * 5), Effect.ignore)),
        { disableYield: true }
      )
    )
    return state
  })
