// piscina 5: a worker_threads pool; `run(task, { name })` per task. Default options
// (Atomics-based wake-up in workers, one task per worker at a time) but the pool size.
import { Piscina } from "piscina"
import { fileURLToPath } from "node:url"
import type { InProcessSystem } from "../types.ts"
import { type MakePool, namedRunTasks, runners } from "./poolRunners.ts"

const filename = fileURLToPath(new URL("../workers/piscina.ts", import.meta.url))

export const make: MakePool = (workers) =>
  namedRunTasks(new Piscina({ filename, minThreads: workers, maxThreads: workers }))

export const system: InProcessSystem = {
  _tag: "InProcess",
  id: "piscina",
  label: "piscina",
  kind: "peer",
  notes:
    "`new Piscina({ filename, minThreads: n, maxThreads: n })`, `run(x)` per task, promises awaited in order; W3c: `run(array of 1000)` per task (no chunking of its own)",
  runners: runners(make)
}
