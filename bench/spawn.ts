// Runs one (workload, system) pair in a fresh process.
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { type ChildReport, type Params, RESULT_PREFIX, type System, type WorkloadId } from "./types.ts"
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
