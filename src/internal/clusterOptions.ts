// The cluster executor's options, validated: what `make` checks first, and
// what a client layer checks before it connects to anything.
import * as Effect from "effect/Effect"
import type { Options } from "../ClusterExecutor.ts"
import * as options_ from "./options.ts"

/** @internal */
export const validate = (options: Options) =>
  Effect.gen(function* () {
    const maxWorkers = yield* options_.positiveInt("maxWorkers", options.maxWorkers, 64)
    const maxQueue = yield* options_.capacity("maxQueue", options.maxQueue)
    const whenFull = yield* options_.oneOf("whenFull", options.whenFull, ["suspend", "fail"], "suspend")
    const cancelTimeoutMs = yield* options_.duration("cancelTimeout", options.cancelTimeout, 5_000)
    const name = yield* options_.nonEmptyString("name", options.name, "cluster")
    const metrics = yield* options_.boolean("metrics", options.metrics, true)
    const noRunnerTimeoutMs = yield* options_.duration("noRunnerTimeout", options.noRunnerTimeout, 30_000)
    return { maxWorkers, maxQueue, whenFull, cancelTimeoutMs, name, metrics, noRunnerTimeoutMs }
  })
