// Every benchmarked system, in report order. Worker-pool systems (piscina, tinypool,
// workerpool, the CpuExecutor, raw postMessage) join this list as more modules.
import type { System } from "../types.ts"
import * as effectForEach from "./effectForEach.ts"
import * as effectFutures from "./effectFutures.ts"
import * as pLimit from "./pLimit.ts"
import * as pQueue from "./pQueue.ts"
import * as python from "./python.ts"
import * as raw from "./raw.ts"

export const systems: ReadonlyArray<System> = [
  effectFutures.system,
  effectFutures.lean,
  effectForEach.system,
  pLimit.system,
  pQueue.system,
  python.system,
  raw.system
]

export const systemById = (id: string): System | undefined => systems.find((system) => system.id === id)
