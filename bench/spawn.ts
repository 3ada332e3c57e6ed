// Runs one (workload, system) pair in a fresh process.
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { median } from "./stats.ts"
import {
  type ChildReport,
  type CpuSample,
  type Latency,
  type Params,
  RESULT_PREFIX,
  type System,
  type WorkloadId
} from "./types.ts"
import type { Workload } from "./workloads.ts"

export const childScript = fileURLToPath(new URL("./child.ts", import.meta.url))

/** The command line of a run: Node systems run bench/child.ts under this very Node binary. */
export const commandFor = (
  system: System,
  workload: Workload,
  params: Params
): { readonly file: string; readonly args: Array<string> } =>
  system._tag === "External"
    ? system.command(workload.id, params)
    : {
        file: process.execPath,
        args: [
          ...workload.nodeFlags,
          ...(system.nodeFlags ?? []),
          childScript,
          "--workload",
          workload.id,
          "--system",
          system.id,
          "--params",
          JSON.stringify(params)
        ]
      }

/** Spawns the run and resolves with its report; rejects with its stderr when it fails or times out. */
export const spawnRun = (system: System, workload: Workload, params: Params, timeoutMs: number): Promise<ChildReport> =>
  new Promise((resolve, reject) => {
    const { file, args } = commandFor(system, workload, params)
    const child = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs, killSignal: "SIGKILL" })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk
    })
    child.on("error", reject)
    child.on("close", (code, signal) => {
      const line = stdout.split("\n").find((l) => l.startsWith(RESULT_PREFIX))
      if (code === 0 && line !== undefined) {
        resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as ChildReport)
      } else {
        const why = signal !== null ? `killed by ${signal} (timeout ${timeoutMs} ms?)` : `exit code ${code}`
        reject(new Error(`${system.id} ${workload.id as WorkloadId}: ${why}\n${stderr.trim().slice(-2000)}`))
      }
    })
  })

const medianOf = <A>(items: ReadonlyArray<A>, get: (item: A) => number | undefined): number | undefined => {
  const values = items.map(get).filter((v): v is number => v !== undefined)
  return values.length === 0 ? undefined : median(values)
}

/**
 * One report from several processes' (W5): each latency quantile and the
 * spawn time are medians over the processes, which are also kept one by one;
 * CPU samples add up; the probe keeps the slowest readings.
 */
export const mergeReports = (reports: ReadonlyArray<ChildReport>): ChildReport => {
  const results = reports.map((r) => r.result)
  const latencies = results.map((r) => r.latencyUs).filter((l): l is Latency => l !== undefined)
  const quantile = (key: keyof Latency) => median(latencies.map((l) => l[key]))
  const cpus = reports.map((r) => r.cpu)
  const probes = reports.map((r) => r.probe)
  return {
    result: {
      completed: Math.min(...results.map((r) => r.completed)),
      elapsedMs: medianOf(results, (r) => r.elapsedMs)!,
      latencyUs:
        latencies.length === results.length
          ? {
              p25: quantile("p25"),
              p50: quantile("p50"),
              p75: quantile("p75"),
              p99: quantile("p99"),
              mean: quantile("mean")
            }
          : undefined,
      spawnMs: medianOf(results, (r) => r.spawnMs),
      perProcess:
        latencies.length === results.length
          ? results.map((r) => ({ latencyUs: r.latencyUs!, spawnMs: r.spawnMs }))
          : undefined
    },
    cpu: cpus.some((c) => c === null)
      ? null
      : (cpus as Array<CpuSample>).reduce((a, b) => ({
          wallMs: a.wallMs + b.wallMs,
          ownCpuMs: a.ownCpuMs + b.ownCpuMs,
          busyTicks: a.busyTicks + b.busyTicks,
          stealTicks: a.stealTicks + b.stealTicks
        })),
    probe: probes.some((p) => p === null)
      ? null
      : {
          before: Math.min(...probes.map((p) => p!.before)),
          after: Math.min(...probes.map((p) => p!.after))
        },
    runtime: reports[0]!.runtime
  }
}

/** Runs the pair in `params.processes` fresh processes (default 1), one after another, and merges their reports. */
export const spawnPair = async (
  system: System,
  workload: Workload,
  params: Params,
  timeoutMs: number
): Promise<ChildReport> => {
  const n = params.processes ?? 1
  if (n <= 1) return spawnRun(system, workload, params, timeoutMs)
  const reports: Array<ChildReport> = []
  for (let i = 0; i < n; i++) reports.push(await spawnRun(system, workload, params, timeoutMs))
  return mergeReports(reports)
}
