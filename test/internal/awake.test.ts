// The parent's side of `idleSpin` (src/internal/awake.ts), on a clock the test
// moves by hand: every step is one turn of the event loop, and the test reads
// whether the loop is kept awake after it.
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as awake_ from "../../src/internal/awake.ts"

/** One turn of the event loop: immediates run in order, so a pending tick runs before this resolves. */
const turn = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

const setup = (windowMs: number) => {
  const clock = { t: 1_000 }
  const awake = awake_.make(windowMs, () => clock.t)
  /** A worker's slot, where its round trip is kept; a task posted there is named by a string. */
  const slot = (): awake_.RoundTrip => ({ roundTrip: undefined, roundTripSince: -1 })
  return { clock, awake, slot }
}

describe("awake", () => {
  it.effect("stays awake while a round trip is unanswered, and sleeps once it is answered", () =>
    Effect.gen(function* () {
      const { awake, slot, clock } = setup(0.1)
      const a = slot()
      awake.posted(a, "a")
      for (let i = 0; i < 3; i++) {
        yield* turn
        assert.isTrue(awake.active(), `turn ${i}`)
      }
      clock.t += 0.05
      awake.settled(a, "a", true)
      assert.strictEqual(a.roundTripSince, -1)
      yield* turn
      assert.isFalse(awake.active())
    })
  )

  it.effect("sleeps after a window without the result, and stays asleep for later round trips", () =>
    Effect.gen(function* () {
      const { awake, slot, clock } = setup(0.1)
      const a = slot()
      awake.posted(a, "a")
      yield* turn
      assert.isTrue(awake.active())
      clock.t += 0.1
      yield* turn
      assert.isFalse(awake.active(), "awake past its window")
      awake.settled(a, "a", true) // 0.1 ms: not within the window
      const b = slot()
      awake.posted(b, "b")
      assert.isFalse(awake.active(), "awake again although the last result took longer than a window")
      assert.strictEqual(b.roundTripSince, clock.t, "a round trip is timed even while the loop sleeps")
      // answered within a window: the next round trip keeps the loop awake again
      clock.t += 0.02
      awake.settled(b, "b", true)
      const c = slot()
      awake.posted(c, "c")
      assert.isTrue(awake.active())
      awake.settled(c, "c", true)
      yield* turn
      assert.isFalse(awake.active())
    })
  )

  it.effect("a round trip that left its worker unanswered (dropped, lost) does not turn it back on", () =>
    Effect.gen(function* () {
      const { awake, slot, clock } = setup(0.1)
      const a = slot()
      awake.posted(a, "a")
      clock.t += 0.2
      yield* turn
      assert.isFalse(awake.active())
      const b = slot()
      awake.posted(b, "b")
      awake.settled(b, "another task", true)
      assert.strictEqual(b.roundTrip, "b", "another task leaving the worker settled its round trip")
      awake.settled(b, "b", false)
      awake.settled(b, "b", true) // settles once: already off its worker
      awake.posted(slot(), "x")
      assert.isFalse(awake.active())
    })
  )

  it.effect("the window counts from the last round trip posted", () =>
    Effect.gen(function* () {
      const { awake, slot, clock } = setup(0.1)
      awake.posted(slot(), "x")
      clock.t += 0.08
      awake.posted(slot(), "x")
      clock.t += 0.08
      yield* turn
      assert.isTrue(awake.active(), "asleep 0.08 ms after a post, with a 0.1 ms window")
      clock.t += 0.02
      yield* turn
      assert.isFalse(awake.active())
    })
  )

  it.effect("a window of 0 never keeps the loop awake", () =>
    Effect.gen(function* () {
      const { awake, slot } = setup(0)
      const a = slot()
      awake.posted(a, "a")
      assert.isFalse(awake.active())
      assert.strictEqual(a.roundTripSince, -1)
      awake.settled(a, "a", true)
      yield* turn
      assert.isFalse(awake.active())
    })
  )
})
