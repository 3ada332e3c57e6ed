// Shared helpers of the reliability tests.
import { assert } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type { Stats } from "../../src/Executor.ts"

/**
 * Runs `effect` with a real-time bound: a hang becomes a test failure naming
 * `label` instead of a vitest timeout.
 */
export const bounded =
  (label: string, millis = 10_000) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.timeoutOrElse(effect, {
      duration: millis,
      orElse: () => Effect.die(new Error(`${label}: did not finish within ${millis} ms`))
    })

/** Polls `check` (real time) until it holds; fails naming `label` after `millis`. */
export const eventually = (label: string, check: Effect.Effect<boolean>, millis = 10_000): Effect.Effect<void> =>
  bounded(
    label,
    millis
  )(
    Effect.gen(function* () {
      while (!(yield* check)) yield* Effect.sleep(5)
    })
  )

/** `submitted = succeeded + failed + cancelled + running + prefetched + queued`. */
export const assertConsistent = (s: Stats, label = ""): void =>
  assert.strictEqual(
    s.submitted,
    s.succeeded + s.failed + s.cancelled + s.running + s.prefetched + s.queued,
    `stats do not add up ${label}: ${JSON.stringify(s)}`
  )

/** The typed failure of an exit (asserting it failed with one). */
export const failureOf = (exit: Exit.Exit<unknown, unknown>, label = ""): any => {
  assert.isTrue(Exit.isFailure(exit), `expected a failure ${label}, got ${String(exit)}`)
  const error = Exit.isFailure(exit) ? Cause.findError(exit.cause) : undefined
  assert.isTrue(error?._tag === "Success", `expected a typed failure ${label}, got ${String(exit)}`)
  return (error as any).success
}

/** The defect of an exit (asserting it died). */
export const defectOf = (exit: Exit.Exit<unknown, unknown>, label = ""): any => {
  assert.isTrue(Exit.isFailure(exit) && Cause.hasDies(exit.cause), `expected a defect ${label}, got ${String(exit)}`)
  return Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
}

export const median = (xs: ReadonlyArray<number>): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
