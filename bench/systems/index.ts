// Every benchmarked system, in report order.
import type { System } from "../types.ts"
import * as cluster from "./cluster.ts"
import * as effectForEach from "./effectForEach.ts"
import * as effectFutures from "./effectFutures.ts"
import * as effectFuturesCpu from "./effectFuturesCpu.ts"
import * as pLimit from "./pLimit.ts"
import * as piscina from "./piscina.ts"
import * as pQueue from "./pQueue.ts"
import * as python from "./python.ts"
import * as raw from "./raw.ts"
import * as rawWorker from "./rawWorker.ts"
import * as tinypool from "./tinypool.ts"
import * as workerpool from "./workerpool.ts"

export const systems: ReadonlyArray<System> = [
  effectFutures.system,
  effectFutures.lean,
  effectFuturesCpu.system,
  effectFuturesCpu.tuned,
  effectFuturesCpu.bundled,
  effectForEach.system,
  pLimit.system,
  pQueue.system,
  piscina.system,
  piscina.withEffect,
  tinypool.system,
  workerpool.system,
  python.system,
  python.processes,
  raw.system,
  rawWorker.system,
  cluster.embedded,
  cluster.volatile,
  cluster.persistedSystem,
  cluster.graphileWorker,
  cluster.pgBossSystem,
  cluster.cpuCeiling
]

export const systemById = (id: string): System | undefined => systems.find((system) => system.id === id)
