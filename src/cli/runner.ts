/**
 * `effect-futures runner --worker <module> [options]`: a cluster runner process.
 *
 * It serves the tasks of a worker entry module (the module `CpuWorker.serve`
 * serves to a `CpuExecutor`) to every `ClusterExecutor` client of the cluster
 * whose PostgreSQL database it is given, on worker threads of its own
 * (`ClusterNode.layerRunner`). It prints one line on stdout once it serves:
 *
 *   runner ready: pid 4242, 127.0.0.1:34431, preset fast, worker /app/dist/worker.js
 *
 * and runs until SIGTERM or SIGINT: it then unregisters (its shards go to the
 * other runners at once), lets the tasks it runs finish (up to the cluster's
 * `entityTerminationTimeout`, 15 s by default), closes its worker threads,
 * prints `runner stopped: pid …` and exits 0. A database it cannot reach, a
 * port it cannot bind or a bad option exits 1 with one line on stderr.
 *
 * `@effect/sql-pg` (an optional peer dependency) is loaded only by this
 * command, so `effect-futures files` works without it.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { Command, Flag } from "effect/cli"
import * as os from "node:os"
import * as path from "node:path"

/** Set once the runner was stopped by a signal (its exit is an interruption, reported as 0). */
export const state = { serving: false, failed: false }

const write = (stream: NodeJS.WriteStream, text: string) => Effect.sync(() => void stream.write(text))

/** Builds the runner layer from the flags and serves until interrupted. */
const serve = (flags: {
  readonly worker: string
  readonly database: Option.Option<string>
  readonly port: number
  readonly host: string
  readonly listenHost: Option.Option<string>
  readonly preset: "default" | "fast"
  readonly shardsPerGroup: number
  readonly maxWorkers: number
  readonly minWorkers: number
  readonly concurrentTasksPerWorker: number
  readonly messageRetention: Option.Option<string>
}) =>
  Effect.gen(function* () {
    const database = Option.getOrUndefined(flags.database) ?? process.env.DATABASE_URL
    if (database === undefined || database === "") {
      state.failed = true
      return yield* write(process.stderr, "effect-futures runner: --database <url> (or DATABASE_URL) is required\n")
    }
    // loaded here: the optional peer @effect/sql-pg is needed by this command only
    const loaded = yield* Effect.exit(Effect.tryPromise(() => import("../ClusterNode.ts")))
    if (loaded._tag === "Failure") {
      state.failed = true
      return yield* write(
        process.stderr,
        "effect-futures runner: the runner needs the optional peers @effect/sql-pg and @effect/platform-node: " +
          `npm install @effect/sql-pg@^4.1.5 @effect/platform-node@^4.1.5 (${Cause.squash(loaded.cause)})\n`
      )
    }
    const ClusterNode = loaded.value
    const worker = path.resolve(flags.worker)
    const runner = ClusterNode.layerRunner({
      database,
      port: flags.port,
      host: flags.host,
      listenHost: Option.getOrUndefined(flags.listenHost),
      preset: flags.preset,
      shardsPerGroup: flags.shardsPerGroup,
      worker,
      maxWorkers: flags.maxWorkers,
      minWorkers: Math.min(flags.minWorkers, flags.maxWorkers),
      concurrentTasksPerWorker: flags.concurrentTasksPerWorker,
      messageRetention: Option.match(flags.messageRetention, {
        onNone: () => undefined,
        onSome: (r) => (r === "Infinity" ? Infinity : (r as Duration.Input))
      })
    })
    const built = yield* Effect.exit(Layer.build(runner))
    if (built._tag === "Failure") {
      state.failed = true
      const error = Cause.findError(built.cause)
      const message = error._tag === "Success" ? (error.success as Error).message : Cause.pretty(built.cause)
      return yield* write(process.stderr, `effect-futures runner: ${message}\n`)
    }
    state.serving = true
    yield* write(
      process.stdout,
      `runner ready: pid ${process.pid}, ${flags.host}:${flags.port}, preset ${flags.preset}, worker ${worker}\n`
    )
    return yield* Effect.never
  }).pipe(
    Effect.scoped,
    Effect.onInterrupt(() =>
      state.serving ? write(process.stdout, `runner stopped: pid ${process.pid}\n`) : Effect.void
    )
  )

const cores = os.availableParallelism()

/** The `runner` subcommand. */
export const runnerCommand = Command.make(
  "runner",
  {
    worker: Flag.String("worker").pipe(
      Flag.withDescription("The worker entry module (the file that calls CpuWorker.serve), a path")
    ),
    database: Flag.String("database").pipe(
      Flag.withDescription("PostgreSQL URL, postgres://user:password@host:port/db (default: $DATABASE_URL)"),
      Flag.optional
    ),
    port: Flag.Int("port").pipe(Flag.withDescription("The runner's TCP port (default 34431)"), Flag.withDefault(34431)),
    host: Flag.String("host").pipe(
      Flag.withDescription("The address other members reach this runner at (default 127.0.0.1)"),
      Flag.withDefault("127.0.0.1")
    ),
    listenHost: Flag.String("listen-host").pipe(
      Flag.withDescription("The address to listen on, if not --host (e.g. 0.0.0.0 on a private network)"),
      Flag.optional
    ),
    preset: Flag.Literals("preset", ["default", "fast"]).pipe(
      Flag.withDescription(
        "Sharding preset, the same on every member: default (~30 s failover) or fast (~3 s); default: default"
      ),
      Flag.withDefault("default" as const)
    ),
    shardsPerGroup: Flag.Int("shards-per-group").pipe(
      Flag.withDescription("Shards per group, the same on every member (default 300)"),
      Flag.withDefault(300)
    ),
    maxWorkers: Flag.Int("max-workers").pipe(
      Flag.withDescription("Worker threads (default: the cores)"),
      Flag.withDefault(cores)
    ),
    minWorkers: Flag.Int("min-workers").pipe(
      Flag.withDescription("Worker threads started at once and kept warm (default 1)"),
      Flag.withDefault(1)
    ),
    concurrentTasksPerWorker: Flag.Int("concurrent-tasks-per-worker").pipe(
      Flag.withDescription("Tasks one worker runs at once, more than 1 only helps asynchronous handlers (default 1)"),
      Flag.withDefault(1)
    ),
    messageRetention: Flag.String("message-retention").pipe(
      Flag.withDescription(
        'How long completed persisted and keyed calls stay stored (and keys dedupe), e.g. "1 hour" (the default), "1 day", Infinity'
      ),
      Flag.optional
    )
  },
  serve
).pipe(Command.withDescription("Serve a worker entry module's tasks to a cluster (PostgreSQL) until SIGTERM"))
