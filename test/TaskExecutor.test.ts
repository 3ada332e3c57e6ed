// The common service: one program, written against TaskExecutor only, run on
// the CPU executor's layer and on the embedded cluster executor's layer, with
// the same results; each layer provides its own tag too (the same executor).
import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as ClusterExecutor from "../src/ClusterExecutor.ts"
import * as CpuExecutor from "../src/CpuExecutor.ts"
import * as Future from "../src/Future.ts"
import * as TaskExecutor from "../src/TaskExecutor.ts"
import * as T from "./fixtures/tasks.ts"
import { eventually } from "./reliability/helpers.ts"
import * as Cluster from "./utils/cluster.ts"
import { leaks, snapshot } from "./reliability/resources.ts"

const worker = new URL("./fixtures/worker.ts", import.meta.url)

/** Depends on "something that runs my tasks", nothing else. */
const program = Effect.gen(function* () {
  const tasks = yield* TaskExecutor.TaskExecutor
  const root = yield* Future.await(yield* tasks.submit(T.Sqrt, 16))
  const error = yield* Effect.flip(Future.await(yield* tasks.submit(T.Sqrt, -1)))
  const incremented = yield* Stream.runCollect(tasks.map(T.Inc, [1, 2, 3, 4, 5], { chunksize: 2, buffersize: 2 }))
  const stats = yield* tasks.stats
  return { root, error, incremented, succeeded: stats.succeeded, failed: stats.failed, name: tasks.name }
})

const layers = {
  threads: CpuExecutor.layer({ worker, maxWorkers: 2, name: "tasks" }),
  cluster: ClusterExecutor.layerEmbedded({ name: "tasks", runner: { worker, maxWorkers: 2 } })
}

describe("TaskExecutor", () => {
  it.live(
    "the same program runs on worker threads and on a cluster, with the same results",
    () =>
      Effect.gen(function* () {
        const threads = yield* Effect.provide(program, layers.threads)
        const cluster = yield* Effect.provide(program, layers.cluster)
        for (const out of [threads, cluster]) {
          assert.strictEqual(out.root, 4)
          assert.instanceOf(out.error, T.Negative)
          assert.deepStrictEqual(out.incremented, [2, 3, 4, 5, 6])
          // map with chunksize 2 over 5 items: 3 chunks, plus the two submits
          assert.strictEqual(out.succeeded, 4)
          assert.strictEqual(out.failed, 1)
          assert.strictEqual(out.name, "tasks")
        }
      }),
    30_000
  )

  it.live(
    "each layer provides its own tag and TaskExecutor, the same executor",
    () =>
      Effect.gen(function* () {
        const cpu = yield* Layer.build(layers.threads)
        assert.strictEqual<unknown>(
          Context.get(cpu, CpuExecutor.CpuExecutor),
          Context.get(cpu, TaskExecutor.TaskExecutor)
        )
        const cluster = yield* Layer.build(layers.cluster)
        const ex = Context.get(cluster, ClusterExecutor.ClusterExecutor)
        assert.strictEqual<unknown>(ex, Context.get(cluster, TaskExecutor.TaskExecutor))
        // the embedded cluster's runner storage holds its one (in-process) runner, once it registered
        // (the executor reads it every second)
        yield* Cluster.assertOneIdleRunner(ex)
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "an embedded cluster layer released leaves no thread, port, socket or timer behind",
    () =>
      Effect.gen(function* () {
        const before = snapshot()
        yield* Effect.scoped(
          Effect.gen(function* () {
            const ex = Context.get(yield* Layer.build(layers.cluster), ClusterExecutor.ClusterExecutor)
            assert.strictEqual(yield* Future.await(yield* ex.submit(T.Sqrt, 9)), 3)
          })
        )
        yield* eventually(
          "the released layer's resources are gone",
          Effect.sync(() => Object.keys(leaks(before, snapshot())).length === 0),
          10_000
        ).pipe(Effect.catchDefect(() => Effect.die(new Error(`leaked: ${JSON.stringify(leaks(before, snapshot()))}`))))
      }),
    30_000
  )
})
