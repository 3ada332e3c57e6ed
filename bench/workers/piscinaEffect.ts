// piscina's worker with effect in it: the same kernels as piscina.ts, but the
// task module imports effect/Effect and effect/Schema, the modules
// effect-futures' worker entry loads, and decodes the tiny task's payload with
// Schema. W5 runs it to compare spawn → first result with the same module graph
// in both pools' workers.
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { square } from "./kernels.ts"

const decodeNumber = Schema.decodeUnknownSync(Schema.Number)

export default (x: unknown): number => Effect.runSync(Effect.sync(() => square(decodeNumber(x))))
export { block, spinTask as spin, squares, warm } from "./kernels.ts"
