// piscina 5: a worker_threads pool; `run(task, { name })` per task. Default options
// (Atomics-based wake-up in workers, one task per worker at a time) but the pool size.
import { Piscina } from "piscina"
import { fileURLToPath } from "node:url"
import type { InProcessSystem } from "../types.ts"
import { type MakePool, namedRunTasks, roundTrips, runners } from "./poolRunners.ts"

const filename = fileURLToPath(new URL("../workers/piscina.ts", import.meta.url))
const effectFilename = fileURLToPath(new URL("../workers/piscinaEffect.ts", import.meta.url))

const makeWith =
  (file: string): MakePool =>
  (workers) =>
    namedRunTasks(new Piscina({ filename: file, minThreads: workers, maxThreads: workers }))

export const make: MakePool = makeWith(filename)

export const system: InProcessSystem = {
  _tag: "InProcess",
  id: "piscina",
  label: "piscina",
  kind: "peer",
  notes:
    "`new Piscina({ filename, minThreads: n, maxThreads: n })`, `run(x)` per task, promises awaited in order; W3c: `run(array of 1000)` per task (no chunking of its own)",
  runners: runners(make)
}

/**
 * piscina whose task module imports effect (bench/workers/piscinaEffect.ts):
 * W5 only, to compare spawn → first result with the same effect modules loaded
 * in both pools' workers.
 */
export const withEffect: InProcessSystem = {
  _tag: "InProcess",
  id: "piscina-effect",
  label: "piscina, task module importing effect",
  kind: "peer",
  notes:
    "as piscina, with a task module that imports effect/Effect and effect/Schema (the modules effect-futures' worker entry loads) and runs the tiny task as `Effect.runSync` of a Schema-decoded payload",
  runners: { W5: roundTrips(makeWith(effectFilename)) }
}
