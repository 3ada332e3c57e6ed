// Validation of user-supplied durations. effect's Duration turns NaN into 0
// silently; a timeout of NaN is a bug in the caller, so it is rejected here
// with an error that names the option.
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { InvalidOptionsError } from "../ExecutorError.ts"

/**
 * Milliseconds, or -1 for "no limit" (undefined or infinite). Negative, NaN or
 * unparseable inputs give an `InvalidOptionsError` naming `option`.
 * @internal
 */
export const parse = (input: Duration.Input | undefined, option: string): number | InvalidOptionsError => {
  if (input === undefined) return -1
  if (hasNaN(input)) return invalid(option, input)
  const duration = Duration.fromInput(input)
  if (duration._tag === "None") return invalid(option, input)
  const millis = Duration.toMillis(duration.value)
  if (Number.isNaN(millis) || millis < 0) return invalid(option, input)
  return millis === Infinity ? -1 : millis
}

/**
 * As `parse`, for an argument of a call that has no typed error channel for it:
 * an invalid value is a defect carrying the `InvalidOptionsError`.
 * @internal
 */
export const parseOrDie = (input: Duration.Input | undefined, option: string): Effect.Effect<number> => {
  const millis = parse(input, option)
  return typeof millis === "number" ? Effect.succeed(millis) : Effect.die(millis)
}

/** A NaN number, or a NaN component of a `[seconds, nanos]` tuple or a duration object (which effect reads as 0). */
const hasNaN = (input: Duration.Input): boolean => {
  if (typeof input === "number") return Number.isNaN(input)
  if (typeof input !== "object" || input === null) return false
  return Object.values(input).some((v) => typeof v === "number" && Number.isNaN(v))
}

const invalid = (option: string, value: unknown) =>
  new InvalidOptionsError({ option, value, expected: "a non-negative duration (or Infinity for none)" })
