// tinypool 2: a worker_threads pool (a piscina fork); `run(task, { name })` per task.
import { fileURLToPath } from "node:url"
import { Tinypool } from "tinypool"
import type { InProcessSystem } from "../types.ts"
import { type MakePool, namedRunTasks, runners } from "./poolRunners.ts"

const filename = fileURLToPath(new URL("../workers/tinypool.ts", import.meta.url))

export const make: MakePool = (workers) =>
  namedRunTasks(new Tinypool({ filename, minThreads: workers, maxThreads: workers }))

export const system: InProcessSystem = {
  _tag: "InProcess",
  id: "tinypool",
  label: "tinypool",
  kind: "peer",
  notes:
    "`new Tinypool({ filename, minThreads: n, maxThreads: n })`, `run(x)` per task, promises awaited in order; W3c: `run(array of 1000)` per task (no chunking of its own)",
  runners: runners(make)
}
