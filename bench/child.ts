// One (workload, system) run in this fresh process:
//   node --expose-gc bench/child.ts --workload W2 --system p-limit --params '{"tasks":200000,"concurrency":8}'
// Prints one line `BENCH_RESULT {json}` (a ChildReport) on stdout; exits non-zero on any error.
import { parseArgs } from "node:util"
import { cpuProbe, processEnv, startCpuSample } from "./measure.ts"
import { systemById } from "./systems/index.ts"
import { type ChildReport, type Params, RESULT_PREFIX, type RunEnv, type RunResult, type WorkloadId } from "./types.ts"
import { checkResult, workloadById } from "./workloads.ts"

/** Runs a Node system's workload in this process and checks its result. */
export const runInProcess = async (
  systemId: string,
  workloadId: WorkloadId,
  params: Params,
  env: RunEnv
): Promise<RunResult> => {
  const system = systemById(systemId)
  const workload = workloadById(workloadId)
  if (system === undefined || system._tag !== "InProcess") throw new Error(`no in-process system ${systemId}`)
  if (workload === undefined) throw new Error(`no workload ${workloadId}`)
  const runner = system.runners[workloadId]
  if (runner === undefined) throw new Error(`${systemId} does not implement ${workloadId}`)
  const result = await runner(params, env)
  const wrong = checkResult(workload, result, params)
  if (wrong !== undefined) throw new Error(`${systemId} ${workloadId}: ${wrong}`)
  return result
}

const main = async () => {
  const { values } = parseArgs({
    options: {
      workload: { type: "string" },
      system: { type: "string" },
      params: { type: "string" }
    }
  })
  if (values.workload === undefined || values.system === undefined || values.params === undefined) {
    throw new Error("usage: child.ts --workload ID --system ID --params JSON")
  }
  const workloadId = values.workload as WorkloadId
  const env = processEnv()
  if (workloadById(workloadId)?.nodeFlags.includes("--expose-gc") && !env.exact) {
    throw new Error(`${workloadId} reads memory: run with --expose-gc`)
  }
  cpuProbe()
  const before = cpuProbe()
  const stop = startCpuSample()
  const result = await runInProcess(values.system, workloadId, JSON.parse(values.params) as Params, env)
  const cpu = stop()
  const report: ChildReport = { result, cpu, probe: { before, after: cpuProbe() }, runtime: `node ${process.version}` }
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(report)}\n`)
}

if (import.meta.main) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : error)
      process.exit(1)
    }
  )
}
