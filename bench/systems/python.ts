// Python's concurrent.futures.ThreadPoolExecutor, run by `python3` (standard library only).
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

export const system: ExternalSystem = {
  _tag: "External",
  id: "python-cf",
  label: "Python concurrent.futures",
  kind: "peer",
  notes: "`ThreadPoolExecutor(max_workers)`, `submit` then `result()` per task; W6 heap = tracemalloc bytes",
  workloads: ["W1", "W2", "W6"],
  unavailable: () => (pythonVersion() === undefined ? "python3 not found on PATH" : undefined),
  command: (workload, params) => ({ file: "python3", args: [script, workload, JSON.stringify(params)] }),
  probe: () => {
    const out = spawnSync("python3", [script, "probe"], { encoding: "utf8" })
    const value = Number(out.stdout?.trim())
    return out.status === 0 && value > 0 ? value : undefined
  }
}
