// The persisted mode of the cluster bench rows. ClusterExecutor does not yet
// expose persisted submits (another branch adds the option), so the bench reaches
// the mode through the executor's own entity (src/internal/clusterJob.ts) with
// effect's `ClusterSchema.Persisted` annotation: runners register it (serving the
// same handlers on their CpuExecutor) and the bench client calls it directly,
// without the executor's dispatcher. Every message and reply is then stored in
// cluster_messages / cluster_replies before it is delivered.
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as ClusterSchema from "effect/cluster/ClusterSchema"
import * as MessageRetention from "effect/cluster/MessageRetention"
import * as RunnerAddress from "effect/cluster/RunnerAddress"
import type * as ShardingConfig from "effect/cluster/ShardingConfig"
import type * as Duration from "effect/Duration"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as ClusterNode from "../../src/ClusterNode.ts"
import type { CpuExecutorShape } from "../../src/CpuExecutor.ts"
import * as clusterJob from "../../src/internal/clusterJob.ts"

export const PersistedTaskEntity = clusterJob.TaskEntity.annotateRpcs(ClusterSchema.Persisted, true)

/** Shards per group of every bench cluster member (runners and clients must agree). */
export const SHARDS = 32

export const sharding = (preset: ClusterNode.Preset): Partial<ShardingConfig.ShardingConfig["Service"]> => ({
  ...ClusterNode.presets[preset],
  shardsPerGroup: SHARDS
})

const database = (url: string) => PgClient.layer({ url: Redacted.make(url) })

/**
 * A runner serving the persisted entity on `cpu`; with `retention`, effect's
 * `MessageRetention` deletes its completed requests (and their replies) once
 * they are older than `retention`, checking every `retention`.
 */
export const runnerLayer = (
  url: string,
  port: number,
  preset: ClusterNode.Preset,
  cpu: CpuExecutorShape,
  retention?: Duration.Input
) =>
  Layer.mergeAll(
    PersistedTaskEntity.toLayer(clusterJob.handlers(cpu), {
      concurrency: "unbounded",
      mailboxCapacity: "unbounded",
      disableFatalDefects: true
    }),
    retention === undefined
      ? Layer.empty
      : MessageRetention.make({ entity: PersistedTaskEntity, retention, interval: retention })
  ).pipe(
    Layer.provide(
      NodeClusterSocket.layer({
        storage: "sql",
        shardingConfig: {
          ...sharding(preset),
          runnerAddress: Option.some(RunnerAddress.make("127.0.0.1", port)),
          runnerListenAddress: Option.some(RunnerAddress.make("127.0.0.1", port))
        }
      })
    ),
    Layer.provide(database(url))
  )

/** A client-only member whose calls to {@link PersistedTaskEntity} are persisted. */
export const clientLayer = (url: string, preset: ClusterNode.Preset) =>
  NodeClusterSocket.layer({
    clientOnly: true,
    storage: "sql",
    shardingConfig: { ...sharding(preset), runnerAddress: Option.none(), runnerListenAddress: Option.none() }
  }).pipe(Layer.provide(database(url)))
