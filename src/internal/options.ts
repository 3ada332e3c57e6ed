// Validation of executor options. Each validator returns an `Exit` (an
// effect that needs no fiber): the value, its default when the option is
// absent, or an `InvalidOptionsError` that names the option, so an executor's
// `make` reads as a sequence of `yield*` and fails with the first bad option.
import type * as Duration from "effect/Duration"
import * as Exit from "effect/Exit"
import { InvalidOptionsError } from "../ExecutorError.ts"
import * as timeout_ from "./timeout.ts"

type Validated<A> = Exit.Exit<A, InvalidOptionsError>

/** @internal */
export const invalid = (option: string, value: unknown, expected: string): InvalidOptionsError =>
  new InvalidOptionsError({ option, value, expected })

/** @internal */
export const fail = (option: string, value: unknown, expected: string): Validated<never> =>
  Exit.fail(invalid(option, value, expected))

/** @internal */
export const positiveInt = (option: string, value: unknown, fallback: number): Validated<number> => {
  if (value === undefined) return Exit.succeed(fallback)
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    return fail(option, value, "a positive integer")
  }
  return Exit.succeed(value)
}

/** @internal */
export const nonNegativeInt = (option: string, value: unknown, fallback: number): Validated<number> => {
  if (value === undefined) return Exit.succeed(fallback)
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    return fail(option, value, "a non-negative integer")
  }
  return Exit.succeed(value)
}

/** A non-negative integer, or Infinity for "unbounded". @internal */
export const capacity = (option: string, value: unknown): Validated<number> =>
  value === undefined || value === Infinity ? Exit.succeed(Infinity) : nonNegativeInt(option, value, Infinity)

/** @internal */
export const oneOf = <const L extends string>(
  option: string,
  value: unknown,
  literals: ReadonlyArray<L>,
  fallback: L
): Validated<L> => {
  if (value === undefined) return Exit.succeed(fallback)
  if (typeof value !== "string" || !literals.includes(value as L)) {
    return fail(option, value, `one of ${literals.map((l) => JSON.stringify(l)).join(", ")}`)
  }
  return Exit.succeed(value as L)
}

/** @internal */
export const boolean = (option: string, value: unknown, fallback: boolean): Validated<boolean> => {
  if (value === undefined) return Exit.succeed(fallback)
  if (typeof value !== "boolean") return fail(option, value, "a boolean")
  return Exit.succeed(value)
}

/** @internal */
export const nonEmptyString = (option: string, value: unknown, fallback: string): Validated<string> => {
  if (value === undefined) return Exit.succeed(fallback)
  if (typeof value !== "string" || value.length === 0) return fail(option, value, "a non-empty string")
  return Exit.succeed(value)
}

/** A duration in milliseconds (-1 for an infinite one). @internal */
export const duration = (option: string, value: Duration.Input | undefined, fallbackMs: number): Validated<number> => {
  if (value === undefined) return Exit.succeed(fallbackMs)
  const millis = timeout_.parse(value, option)
  return millis instanceof InvalidOptionsError ? Exit.fail(millis) : Exit.succeed(millis)
}
