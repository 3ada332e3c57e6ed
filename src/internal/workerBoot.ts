// The first module a CPU worker thread runs: it turns on Node's module compile
// cache (so every worker after the first on this machine loads effect and the
// task modules from cached code instead of compiling them again), then loads
// the user's worker entry module, which calls `CpuWorker.serve`. It imports
// nothing itself, so the cache is on before any other module loads.
import { enableCompileCache } from "node:module"
import { workerData } from "node:worker_threads"
import type { WorkerData } from "./protocol.ts"

const data = workerData as Pick<WorkerData, "entry" | "compileCache">
if (data.compileCache) {
  try {
    enableCompileCache()
  } catch {
    // a read-only or unavailable cache directory only costs speed
  }
}
await import(data.entry)
