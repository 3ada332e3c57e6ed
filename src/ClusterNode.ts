/**
 * The multi-process cluster: runners and clients as separate Node processes
 * (on one machine or many), talking over TCP sockets
 * (`@effect/platform-node`'s `NodeClusterSocket`) and sharing a PostgreSQL
 * database (`@effect/sql-pg`) for runner registration, shard locks and
 * messages.
 *
 * This module is the only one of the library that imports
 * `@effect/platform-node` and `@effect/sql-pg` (optional peer dependencies):
 * install both to use it; programs that use only the embedded mode need
 * neither. Import it by its path, `effect-futures/ClusterNode`: the package's
 * barrel does not re-export it.
 *
 * **Security.** In effect 4.1 the runner sockets have no authentication and
 * no TLS: anyone who can reach a runner's port, or the database, can make
 * runners run any task their worker entry serves. Runners therefore bind to
 * `127.0.0.1` unless told otherwise. Across machines, keep runners and the
 * database on a private network (a VPC, a WireGuard or Tailscale mesh, or
 * firewall rules admitting only the cluster's hosts), never on a public
 * interface.
 *
 * **Failover.** When a runner dies without unregistering (SIGKILL, power
 * loss), its shards stay locked until its shard lock expires; only then does
 * another runner take them and the clients resend the calls in flight
 * (at-least-once). Effect's defaults (35 s lock expiration) make that about
 * 30 s; the `fast` preset (3 s expiration, refreshed every second,
 * assignments refreshed every 500 ms) makes it about 3–4 s, at the cost of
 * more database traffic and less tolerance of a slow database or a stalled
 * runner event loop (which is why runners run tasks on worker threads).
 * A runner stopped with SIGTERM unregisters and hands its shards over at once.
 *
 * **Example** (A runner process and a client process)
 *
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { ClusterExecutor, Future, Task } from "effect-futures"
 * import * as ClusterNode from "effect-futures/ClusterNode"
 *
 * // tasks.ts, imported by the client and the worker entry
 * const SquareRoot = Task.make("SquareRoot", { payload: Schema.Number, success: Schema.Number })
 *
 * const database = "postgres://cluster@db.internal:5432/cluster"
 *
 * // runner.ts: serves worker.ts's tasks until SIGTERM
 * const runner = ClusterNode.layerRunner({ database, port: 34431, worker: new URL("./worker.ts", import.meta.url) })
 * // Layer.launch(runner).pipe(NodeRuntime.runMain)
 *
 * // client.ts: the same program as with CpuExecutor, another Layer
 * const program = Effect.gen(function* () {
 *   const cluster = yield* ClusterExecutor.ClusterExecutor
 *   return yield* Future.await(yield* cluster.submit(SquareRoot, 16))
 * }).pipe(Effect.provide(ClusterNode.layerClient({ database })))
 * ```
 *
 * @since 0.3.0
 */
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import * as NodeCrypto from "@effect/platform-node/NodeCrypto"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as Cause from "effect/Cause"
import * as MessageRetention from "effect/cluster/MessageRetention"
import type * as MessageStorage from "effect/cluster/MessageStorage"
import * as RunnerAddress from "effect/cluster/RunnerAddress"
import type * as RunnerStorage from "effect/cluster/RunnerStorage"
import type * as Sharding from "effect/cluster/Sharding"
import * as ShardingConfig from "effect/cluster/ShardingConfig"
import * as SqlMessageStorage from "effect/cluster/SqlMessageStorage"
import * as SqlRunnerStorage from "effect/cluster/SqlRunnerStorage"
import type * as Config from "effect/Config"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as SocketServer from "effect/socket/SocketServer"
import type * as SqlClient from "effect/sql/SqlClient"
import type * as SqlError from "effect/sql/SqlError"
import * as ClusterExecutor from "./ClusterExecutor.ts"
import type * as ClusterRunner from "./ClusterRunner.ts"
import * as CpuExecutor from "./CpuExecutor.ts"
import type { InvalidOptionsError } from "./ExecutorError.ts"
import type { TaskExecutor } from "./TaskExecutor.ts"
import * as clusterJob from "./internal/clusterJob.ts"
import * as clusterOptions from "./internal/clusterOptions.ts"
import * as options_ from "./internal/options.ts"
import * as timeout_ from "./internal/timeout.ts"

/**
 * Sharding presets, applied to clients and runners alike (every member of a
 * cluster must use the same one):
 * - `"default"`: effect's settings; a killed runner's tasks resume after ~30 s.
 * - `"fast"`: quick failover (~3–4 s after a kill): shard locks expire after
 *   3 s and are refreshed every second, assignments refreshed every 500 ms,
 *   runner health checked every second, stored messages polled every second.
 *
 * **Example** (Reading the settings of a preset)
 *
 * ```ts
 * import * as ClusterNode from "effect-futures/ClusterNode"
 *
 * const expiration = ClusterNode.presets.fast.shardLockExpiration // "3 seconds"
 * ```
 *
 * @category models
 * @since 0.3.0
 */
export const presets = {
  default: {},
  fast: {
    shardLockExpiration: "3 seconds",
    shardLockRefreshInterval: "1 second",
    refreshAssignmentsInterval: "500 millis",
    runnerHealthCheckInterval: "1 second",
    entityMessagePollInterval: "1 second"
  }
} as const satisfies Record<string, Partial<ShardingConfig.ShardingConfig["Service"]>>

/**
 * A preset's name.
 *
 * @category models
 * @since 0.3.0
 */
export type Preset = keyof typeof presets

/**
 * What every member of a cluster (runner or client) is configured with. All
 * members must agree on `preset`, `shardsPerGroup` and `sharding`.
 *
 * @category models
 * @since 0.3.0
 */
export interface ClusterOptions {
  /** The PostgreSQL connection URL (`postgres://user:password@host:port/database`). */
  readonly database: string | Redacted.Redacted<string>
  /** Default `"default"`. */
  readonly preset?: Preset | undefined
  /** Shards per group; must be the same on every member. Default 300 (effect's). */
  readonly shardsPerGroup?: number | undefined
  /** Further `ShardingConfig` settings, over the preset's (durations, capacities). */
  readonly sharding?: Partial<ShardingConfig.ShardingConfig["Service"]> | undefined
  /** How long connecting to the database may take before the layer fails. Default 10 seconds. */
  readonly connectTimeout?: Duration.Input | undefined
}

/**
 * Options of a runner process: the cluster's, where it listens, and its
 * `CpuExecutor`'s (`worker` is required).
 *
 * @category models
 * @since 0.3.0
 */
export interface RunnerOptions extends ClusterOptions, ClusterRunner.Options {
  /** The address other members reach this runner at. Default `"127.0.0.1"`. */
  readonly host?: string | undefined
  /** The runner's TCP port. */
  readonly port: number
  /** The address to listen on, if not `host` (e.g. `"0.0.0.0"` behind a private network). */
  readonly listenHost?: string | undefined
  /**
   * How long a completed persisted or keyed call (its request and reply rows)
   * stays in the message tables: it is also how long an `idempotencyKey`
   * dedupes. The runners delete older ones (effect's `MessageRetention`),
   * checking every minute, or every `messageRetention` if shorter. Default 1
   * hour; `Infinity` keeps them forever (the tables then grow with every
   * persisted call). Volatile calls are never stored.
   */
  readonly messageRetention?: Duration.Input | undefined
}

/** The default `messageRetention` (1 hour). */
const defaultRetentionMs = 60 * 60 * 1000

/**
 * Options of a client process: the cluster's and its executor's.
 *
 * @category models
 * @since 0.3.0
 */
export interface ClientOptions extends ClusterOptions, ClusterExecutor.Options {}

/**
 * What building a cluster member can fail with: bad options, the database
 * (unreachable, refused, bad credentials), the runner's listening socket,
 * or the environment's configuration.
 *
 * @category models
 * @since 0.3.0
 */
export type LayerError =
  InvalidOptionsError | DatabaseUnavailableError | SocketServer.SocketServerError | Config.ConfigError

/**
 * Building a cluster member failed on its database: unreachable, refused,
 * bad credentials, no such database, or its cluster tables could not be
 * created. `database` is the URL with its password replaced by `***`;
 * `reason` is the driver's message (e.g. `connect ECONNREFUSED 10.0.0.5:5432`).
 *
 * **Example** (Reporting it)
 *
 * ```ts
 * import { Effect, Layer } from "effect"
 * import * as ClusterNode from "effect-futures/ClusterNode"
 *
 * const client = ClusterNode.layerClient({ database: "postgres://app:secret@db.internal/cluster" }).pipe(
 *   Layer.tapError((e) => (e._tag === "DatabaseUnavailableError" ? Effect.logError(e.message) : Effect.void))
 * )
 * ```
 *
 * @category errors
 * @since 0.3.0
 */
export class DatabaseUnavailableError extends Schema.TaggedError<DatabaseUnavailableError>()(
  "DatabaseUnavailableError",
  {
    database: Schema.String,
    reason: Schema.String,
    cause: Schema.optional(Schema.Defect())
  }
) {
  override get message(): string {
    return `the cluster database ${this.database} is unavailable: ${this.reason}`
  }
}

/**
 * A runner process: serves the tasks of `worker` to the cluster until the
 * layer is released (SIGTERM under `NodeRuntime.runMain`), then unregisters,
 * lets its tasks in flight finish, and closes its worker threads.
 *
 * **Example** (`runner.ts`, started as `node runner.ts 34431`)
 *
 * ```ts
 * import { NodeRuntime } from "@effect/platform-node"
 * import { Layer } from "effect"
 * import * as ClusterNode from "effect-futures/ClusterNode"
 *
 * const runner = ClusterNode.layerRunner({
 *   database: process.env.DATABASE_URL ?? "postgres://localhost/cluster",
 *   port: Number(process.argv[2] ?? 34431),
 *   preset: "fast",
 *   worker: new URL("./worker.ts", import.meta.url),
 *   maxWorkers: 4
 * })
 * Layer.launch(runner).pipe(NodeRuntime.runMain)
 * ```
 *
 * @category layers
 * @since 0.3.0
 */
export const layerRunner = (options: RunnerOptions): Layer.Layer<never, LayerError> => {
  const {
    database,
    preset,
    shardsPerGroup,
    sharding,
    connectTimeout,
    host,
    port,
    listenHost,
    messageRetention,
    ...runner
  } = options
  return Layer.unwrap(
    Effect.gen(function* () {
      const common = yield* commonConfig({ database, preset, shardsPerGroup, sharding, connectTimeout })
      const address = yield* options_.nonEmptyString("host", host, "127.0.0.1")
      if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
        return yield* options_.fail("port", port, "a TCP port (an integer from 1 to 65535)")
      }
      const listen = yield* options_.nonEmptyString("listenHost", listenHost, address)
      const retentionMs = yield* options_.duration("messageRetention", messageRetention, defaultRetentionMs)
      // the runner's CPU executor first: bad options fail before anything connects
      const cpu = yield* CpuExecutor.make({ name: "cluster-runner", ...runner })
      const config = {
        ...common.sharding,
        runnerAddress: Option.some(RunnerAddress.make(address, port)),
        runnerListenAddress: Option.some(RunnerAddress.make(listen, port))
      }
      const cluster = NodeClusterSocket.layer({ storage: "byo", shardingConfig: config })
      // completed persisted calls are deleted after messageRetention (one runner does it: a singleton)
      const retention =
        retentionMs < 0
          ? Layer.empty
          : MessageRetention.make({
              entity: clusterJob.TaskEntity,
              retention: retentionMs,
              interval: Math.max(1, Math.min(retentionMs, 60_000))
            })
      return Layer.mergeAll(clusterJob.entityLayer(cpu), retention).pipe(
        Layer.provide(cluster),
        Layer.provide(storage(common, config))
      )
    })
  )
}

/**
 * A client process: provides {@link ClusterExecutor.ClusterExecutor} on the
 * cluster, without running tasks itself (it listens on no port).
 *
 * **Example** (Submitting from a client process)
 *
 * ```ts
 * import * as ClusterNode from "effect-futures/ClusterNode"
 *
 * const client = ClusterNode.layerClient({
 *   database: process.env.DATABASE_URL ?? "postgres://localhost/cluster",
 *   preset: "fast",
 *   maxWorkers: 128
 * })
 * ```
 *
 * @category layers
 * @since 0.3.0
 */
export const layerClient = (
  options: ClientOptions
): Layer.Layer<ClusterExecutor.ClusterExecutor | TaskExecutor, LayerError> => {
  const { database, preset, shardsPerGroup, sharding, connectTimeout, ...executor } = options
  return Layer.unwrap(
    Effect.map(
      Effect.tap(commonConfig({ database, preset, shardsPerGroup, sharding, connectTimeout }), () =>
        clusterOptions.validate(executor)
      ),
      (common) => {
        const sharding = { ...common.sharding, runnerAddress: Option.none(), runnerListenAddress: Option.none() }
        return ClusterExecutor.layer(executor).pipe(
          Layer.provide(
            NodeClusterSocket.layer({ clientOnly: true, storage: "byo", shardingConfig: sharding }) as Layer.Layer<
              Sharding.Sharding,
              Config.ConfigError,
              MessageStorage.MessageStorage | RunnerStorage.RunnerStorage
            >
          ),
          // the runner storage is the executor's too: stats and noRunnerTimeout read it
          Layer.provideMerge(storage(common, sharding))
        )
      }
    )
  )
}

// ---------------------------------------------------------------------------
// internal
// ---------------------------------------------------------------------------

const commonConfig = (options: ClusterOptions) =>
  Effect.gen(function* () {
    const preset = yield* options_.oneOf("preset", options.preset, ["default", "fast"], "default")
    const shardsPerGroup = yield* options_.positiveInt("shardsPerGroup", options.shardsPerGroup, 300)
    const url = Redacted.isRedacted(options.database) ? Redacted.value(options.database) : options.database
    if (typeof url !== "string" || !/^postgres(ql)?:\/\//.test(url)) {
      return yield* options_.fail("database", "<redacted>", "a postgres:// or postgresql:// URL")
    }
    if (options.sharding !== undefined && (typeof options.sharding !== "object" || options.sharding === null)) {
      return yield* options_.fail("sharding", options.sharding, "an object of ShardingConfig settings")
    }
    const connectTimeout = timeout_.parse(options.connectTimeout ?? "10 seconds", "connectTimeout")
    if (typeof connectTimeout !== "number") return yield* Effect.fail(connectTimeout)
    const sharding: Partial<ShardingConfig.ShardingConfig["Service"]> = {
      ...presets[preset],
      shardsPerGroup,
      ...options.sharding
    }
    return {
      sharding,
      url: redactUrl(url),
      database: PgClient.layer({ url: Redacted.make(url), connectTimeout })
    }
  })

/** The URL with its password hidden. */
const redactUrl = (url: string): string => {
  try {
    const parsed = new URL(url)
    if (parsed.password !== "") parsed.password = "***"
    return parsed.href
  } catch {
    return "<an unparsable URL>"
  }
}

/**
 * The SQL message and runner storages on the member's database (what
 * `NodeClusterSocket`'s `storage: "sql"` builds, built here so the runner
 * storage can be shared with the executor), with every database failure of
 * their build (a typed SqlError or a defect) as `DatabaseUnavailableError`.
 */
const storage = (
  common: { readonly url: string; readonly database: Layer.Layer<SqlClient.SqlClient, SqlError.SqlError> },
  sharding: Partial<ShardingConfig.ShardingConfig["Service"]>
): Layer.Layer<MessageStorage.MessageStorage | RunnerStorage.RunnerStorage, DatabaseUnavailableError> =>
  Layer.mergeAll(SqlMessageStorage.layer.pipe(Layer.provide(NodeCrypto.layerDigest)), SqlRunnerStorage.layer).pipe(
    Layer.provide(ShardingConfig.layer(sharding)),
    Layer.provide(common.database),
    Layer.catchCause((cause) => {
      const error = Cause.findError(cause)
      const failure = error._tag === "Success" ? error.success : Cause.squash(cause)
      return Layer.effectDiscard(
        Effect.fail(
          new DatabaseUnavailableError({ database: common.url, reason: describeSqlFailure(failure), cause: failure })
        )
      ) as Layer.Layer<MessageStorage.MessageStorage | RunnerStorage.RunnerStorage, DatabaseUnavailableError>
    })
  )

/** The deepest message of a database failure (the driver's, e.g. `connect ECONNREFUSED …`). */
const describeSqlFailure = (failure: unknown): string => {
  const messages: Array<string> = []
  let current: unknown = failure
  for (let depth = 0; depth < 6 && current !== null && typeof current === "object"; depth++) {
    const message = (current as { message?: unknown }).message
    if (typeof message === "string" && message !== "" && !messages.includes(message)) messages.push(message)
    current = (current as { cause?: unknown; reason?: unknown }).cause ?? (current as { reason?: unknown }).reason
  }
  return messages.length === 0 ? String(failure) : messages.reverse().join(" (") + ")".repeat(messages.length - 1)
}
