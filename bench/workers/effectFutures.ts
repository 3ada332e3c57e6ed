// effect-futures' worker entry: serves the bench tasks, as a user writes a handler (`Effect.sync`). Direct module imports, no barrels.
import * as Effect from "effect/Effect"
import * as CpuWorker from "../../src/CpuWorker.ts"
import { block, spin, square, warm, type WarmArgs } from "./kernels.ts"
import { Block, Spin, Square, Warm } from "./tasks.ts"

CpuWorker.serve([
  CpuWorker.handler(Square, (x) => Effect.sync(() => square(x))),
  CpuWorker.handler(Spin, ({ iterations, seed }) => Effect.succeed(spin(iterations, seed))),
  CpuWorker.handler(Warm, (args) => Effect.succeed(warm(args as WarmArgs))),
  CpuWorker.handler(Block, (gate) => Effect.succeed(block(gate as Int32Array)))
])
