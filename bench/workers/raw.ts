// The raw baseline's worker: bare `postMessage`, no pool, no schema, no
// bookkeeping. A message is [id, kind, payload]; the reply is [id, result].
import { parentPort } from "node:worker_threads"
import { block, type SpinArgs, spinTask, square, squares, warm, type WarmArgs } from "./kernels.ts"
import { BLOCK, SPIN, SQUARE, SQUARES, WARM } from "./rawProtocol.ts"

const port = parentPort!

port.on("message", (message: [number, number, unknown]) => {
  const [id, kind, payload] = message
  switch (kind) {
    case SQUARE:
      return port.postMessage([id, square(payload as number)])
    case SQUARES:
      return port.postMessage([id, squares(payload as Array<number>)])
    case SPIN:
      return port.postMessage([id, spinTask(payload as SpinArgs)])
    case WARM:
      return port.postMessage([id, warm(payload as WarmArgs)])
    case BLOCK:
      return port.postMessage([id, block(payload as Int32Array)])
  }
})
