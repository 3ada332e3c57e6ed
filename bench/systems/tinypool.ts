// tinypool 2: a worker_threads pool (a piscina fork); `run(task, { name })` per task.
import { fileURLToPath } from "node:url"
import { Tinypool } from "tinypool"
import type { InProcessSystem } from "../types.ts"
import { type MakePool, runners } from "./poolRunners.ts"

const filename = fileURLToPath(new URL("../workers/tinypool.ts", import.meta.url))

export const make: MakePool = (workers) => {
  const pool = new Tinypool({ filename, minThreads: workers, maxThreads: workers })
  return {
    square: (x) => pool.run(x),
    squares: (xs) => pool.run(xs, { name: "squares" }),
    spin: (args) => pool.run(args, { name: "spin" }),
    warm: (args) => pool.run(args, { name: "warm" }),
    block: (gate) => pool.run(gate, { name: "block" }),
    notStarted: () => pool.queueSize,
    close: () => pool.destroy()
  }
}

export const system: InProcessSystem = {
  _tag: "InProcess",
  id: "tinypool",
  label: "tinypool",
  kind: "peer",
  notes:
    "`new Tinypool({ filename, minThreads: n, maxThreads: n })`, `run(x)` per task, promises awaited in order; W3c: `run(array of 1000)` per task (no chunking of its own)",
  runners: runners(make)
}
