// p-queue 10: a promise queue with concurrency control.
import PQueue from "p-queue"
import type { InProcessSystem } from "../types.ts"
import { ioFanOut, type MakeLimiter, queuedMemory, throughput } from "./promiseLimiter.ts"

const make: MakeLimiter = (concurrency) => {
  const queue = new PQueue({ concurrency })
  return { submit: (task) => queue.add(task), queued: () => queue.size }
}

export const system: InProcessSystem = {
  _tag: "InProcess",
  id: "p-queue",
  label: "p-queue",
  kind: "peer",
  notes: "`queue.add(fn)` per task, promises awaited in order",
  runners: { W1: ioFanOut(make), W2: throughput(make), W6: queuedMemory(make) }
}
