// effect-futures' task definitions for the worker-pool workloads, shared by
// the parent (bench/systems/effectFuturesCpu.ts) and the worker (effectFutures.ts).
import * as Schema from "effect/Schema"
import * as Task from "../../src/Task.ts"

/** W3, W3c (through `map` with `chunksize`), W5, W6. */
export const Square = Task.make("Square", { payload: Schema.Number, success: Schema.Number })

/** W4: the integer loop. */
export const Spin = Task.make("Spin", {
  payload: Schema.Struct({ iterations: Schema.Number, seed: Schema.Number }),
  success: Schema.Number
})

/** W4's warm-up (a `WarmArgs` carrying an Int32Array over a SharedArrayBuffer). */
export const Warm = Task.make("Warm", { payload: Schema.Unknown, success: Schema.Number })

/** W6's blocker (an Int32Array over a SharedArrayBuffer). */
export const Block = Task.make("Block", { payload: Schema.Unknown, success: Schema.Number })
