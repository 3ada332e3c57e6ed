// p-limit 7: a promise limiter over a yocto-queue.
import pLimit from "p-limit"
import type { InProcessSystem } from "../types.ts"
import { ioFanOut, type MakeLimiter, queuedMemory, throughput } from "./promiseLimiter.ts"

const make: MakeLimiter = (concurrency) => {
  const limit = pLimit(concurrency)
  return { submit: (task) => limit(task), queued: () => limit.pendingCount }
}

export const system: InProcessSystem = {
  _tag: "InProcess",
  id: "p-limit",
  label: "p-limit",
  kind: "peer",
  notes: "`limit(fn)` per task, promises awaited in order",
  runners: { W1: ioFanOut(make), W2: throughput(make), W6: queuedMemory(make) }
}
