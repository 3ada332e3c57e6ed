// workerpool 10: `pool.exec(method, args)` per task, on worker threads.
import { fileURLToPath } from "node:url"
import workerpool from "workerpool"
import type { InProcessSystem } from "../types.ts"
import { type MakePool, runners } from "./poolRunners.ts"

const script = fileURLToPath(new URL("../workers/workerpool.ts", import.meta.url))

export const make: MakePool = (workers) => {
  const pool = workerpool.pool(script, { minWorkers: workers, maxWorkers: workers, workerType: "thread" })
  return {
    square: (x) => pool.exec("square", [x]),
    squares: (xs) => pool.exec("squares", [xs]),
    spin: (args) => pool.exec("spin", [args]),
    warm: (args) => pool.exec("warm", [args]),
    block: (gate) => pool.exec("block", [gate]),
    notStarted: () => pool.stats().pendingTasks,
    close: async () => {
      await pool.terminate()
    }
  }
}

export const system: InProcessSystem = {
  _tag: "InProcess",
  id: "workerpool",
  label: "workerpool",
  kind: "peer",
  notes:
    '`workerpool.pool(script, { minWorkers: n, maxWorkers: n, workerType: "thread" })`, `exec(name, [x])` per task, promises awaited in order; W3c: `exec("squares", [array of 1000])` per task (no chunking of its own)',
  runners: runners(make)
}
