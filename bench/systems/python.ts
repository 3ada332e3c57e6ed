// Python's concurrent.futures, run by `python3` (standard library only):
// ThreadPoolExecutor on the in-process workloads, ProcessPoolExecutor on the worker-pool ones.
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import type { ExternalSystem } from "../types.ts"

export const script = fileURLToPath(new URL("./python_cf.py", import.meta.url))

let probed: { readonly version: string | undefined } | undefined

/** `python3 --version`, or undefined when there is no python3. */
export const pythonVersion = (): string | undefined => {
  if (probed === undefined) {
    const out = spawnSync("python3", ["--version"], { encoding: "utf8" })
    probed = { version: out.status === 0 ? `${out.stdout}${out.stderr}`.trim().replace(/^Python /, "") : undefined }
  }
  return probed.version
}

const unavailable = () => (pythonVersion() === undefined ? "python3 not found on PATH" : undefined)

const probe = () => {
  const out = spawnSync("python3", [script, "probe"], { encoding: "utf8" })
  const value = Number(out.stdout?.trim())
  return out.status === 0 && value > 0 ? value : undefined
}

export const system: ExternalSystem = {
  _tag: "External",
  id: "python-cf",
  label: "Python ThreadPoolExecutor",
  kind: "peer",
  notes: "`ThreadPoolExecutor(max_workers)`, `submit` then `result()` per task; W6 heap = tracemalloc bytes",
  workloads: ["W1", "W2", "W6"],
  unavailable,
  command: (workload, params) => ({ file: "python3", args: [script, workload, JSON.stringify(params), "threads"] }),
  probe
}

export const processes: ExternalSystem = {
  _tag: "External",
  id: "python-cf-process",
  label: "Python ProcessPoolExecutor",
  kind: "peer",
  notes:
    "`ProcessPoolExecutor(max_workers)` (default start method); W3: `submit` then `result()` per task (chunksize 1); W3c: `list(map(square, items, chunksize=1000))`; W4: serial loop in the main process vs the pool; W5: `submit(...).result()` in a loop; W6: the worker blocked on a `multiprocessing.Event`, heap = tracemalloc bytes of the main process; CPU time includes the worker processes",
  workloads: ["W3", "W3c", "W4", "W5", "W6"],
  unavailable,
  command: (workload, params) => ({ file: "python3", args: [script, workload, JSON.stringify(params), "processes"] }),
  probe
}
