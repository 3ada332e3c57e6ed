// A runner process of the cluster workloads:
//   node --conditions=effect-futures-source clusterRunner.ts <database url> <port> <preset> <volatile|persisted> [retention]
// Serves test/fixtures/cluster/worker.ts's tasks (Where, Hold) on 2 worker threads.
// Prints `ready <pid>` once it serves; the bench SIGKILLs it.
import { NodeRuntime } from "@effect/platform-node"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ClusterNode from "../../src/ClusterNode.ts"
import * as CpuExecutor from "../../src/CpuExecutor.ts"
import * as persisted from "./persisted.ts"

const [database, port, preset, mode, retention] = process.argv.slice(2) as [
  string,
  string,
  ClusterNode.Preset,
  string,
  string | undefined
]

const cpuOptions = {
  worker: new URL("../../test/fixtures/cluster/worker.ts", import.meta.url),
  maxWorkers: 2,
  minWorkers: 2,
  concurrentTasksPerWorker: 16
}

const runner: Layer.Layer<never, unknown> =
  mode === "persisted"
    ? Layer.unwrap(
        Effect.map(CpuExecutor.make({ name: "cluster-runner", ...cpuOptions }), (cpu) =>
          persisted.runnerLayer(database, Number(port), preset, cpu, retention as `${number} seconds` | undefined)
        )
      )
    : ClusterNode.layerRunner({
        database,
        port: Number(port),
        preset,
        shardsPerGroup: persisted.SHARDS,
        ...cpuOptions
      })

Effect.gen(function* () {
  yield* Layer.build(runner)
  process.stdout.write(`ready ${process.pid}\n`)
  return yield* Effect.never
}).pipe(Effect.scoped, NodeRuntime.runMain)
