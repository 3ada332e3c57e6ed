// The cluster executor's options, validated: what `make` checks first, and
// what a client layer checks before it connects to anything.
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type { Options } from "../ClusterExecutor.ts"
import { InvalidOptionsError } from "../ExecutorError.ts"
import * as options_ from "./options.ts"
import * as timeout_ from "./timeout.ts"

/** @internal */
export const validate = (options: Options) =>
  Effect.gen(function* () {
    const maxWorkers = yield* options_.positiveInt("maxWorkers", options.maxWorkers, 64)
    const maxQueue = yield* options_.capacity("maxQueue", options.maxQueue)
    const whenFull = yield* options_.oneOf("whenFull", options.whenFull, ["suspend", "fail"], "suspend")
    const cancelTimeoutMs = yield* duration("cancelTimeout", options.cancelTimeout, 5_000)
    const name = yield* options_.nonEmptyString("name", options.name, "cluster")
    const metrics = yield* options_.boolean("metrics", options.metrics, true)
    return { maxWorkers, maxQueue, whenFull, cancelTimeoutMs, name, metrics }
  })

const duration = (
  option: string,
  value: Duration.Input | undefined,
  fallbackMs: number
): Exit.Exit<number, InvalidOptionsError> => {
  if (value === undefined) return Exit.succeed(fallbackMs)
  const millis = timeout_.parse(value, option)
  return millis instanceof InvalidOptionsError ? Exit.fail(millis) : Exit.succeed(millis)
}
