/**
 * The runner side of the cluster executor: what a runner process runs.
 *
 * A runner serves the tasks of a worker entry module (the very module
 * `CpuWorker.serve` serves for a `CpuExecutor`) to every `ClusterExecutor` of
 * its cluster. It registers one entity whose handler runs each task on a
 * local `CpuExecutor`, so the runner's event loop never runs task code: a
 * runner whose event loop stalls longer than the shard lock expiration loses
 * its shards while its work goes on, and its tasks run twice.
 *
 * The runner never decodes payloads or results (its worker threads do, with
 * the task's schemas), so it needs no task definitions, only the worker entry.
 *
 * **Example** (The runner layer of a runner process)
 *
 * ```ts
 * import { ClusterRunner } from "effect-futures"
 *
 * // Sharding comes from ClusterNode.layerRunner (sockets + PostgreSQL), or from
 * // ClusterExecutor.layerShardingMemory in one process
 * const runner = ClusterRunner.layer({ worker: new URL("./worker.ts", import.meta.url), maxWorkers: 4 })
 * ```
 *
 * @since 0.3.0
 */
import type * as Sharding from "effect/cluster/Sharding"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as CpuExecutor from "./CpuExecutor.ts"
import type { InvalidOptionsError } from "./ExecutorError.ts"
import * as clusterJob from "./internal/clusterJob.ts"

/**
 * Options of a runner: those of the `CpuExecutor` that runs its tasks
 * (`worker` is required; `name` defaults to `"cluster-runner"`).
 *
 * @category models
 * @since 0.3.0
 */
export interface Options extends CpuExecutor.Options {}

/**
 * Serves the tasks of `options.worker` to the cluster of the `Sharding` it
 * is given. Building it starts the runner's `CpuExecutor`; releasing it
 * stops the entity first (the cluster hands its shards to other runners, so
 * new calls go elsewhere at once) while the tasks it is running finish and
 * reply (up to the cluster's `entityTerminationTimeout`, 15 s by default:
 * none of them runs again elsewhere), then drains and closes the worker
 * threads. Invalid options fail the layer with `InvalidOptionsError`.
 *
 * **Example** (A runner and a client in one process, in memory)
 *
 * ```ts
 * import { Layer } from "effect"
 * import { ClusterExecutor, ClusterRunner } from "effect-futures"
 *
 * const cluster = Layer.mergeAll(
 *   ClusterExecutor.layer({ maxWorkers: 16 }),
 *   ClusterRunner.layer({ worker: new URL("./worker.ts", import.meta.url) })
 * ).pipe(Layer.provide(ClusterExecutor.layerShardingMemory()))
 * ```
 *
 * @category layers
 * @since 0.3.0
 */
export const layer = (options: Options): Layer.Layer<never, InvalidOptionsError, Sharding.Sharding> =>
  Layer.unwrap(Effect.map(CpuExecutor.make({ name: "cluster-runner", ...options }), clusterJob.entityLayer))
