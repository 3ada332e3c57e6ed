// Smoke test of examples/progress, under the TestClock: every task is an
// Effect.sleep, so each finishes exactly when the clock is moved past it and
// every ordering below is forced by the schedule, never hoped for.
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import { TestClock } from "effect/testing"
import {
  asCompletedDemo,
  batch,
  deadlineLatencies,
  firstException,
  LookupFailed,
  lookups,
  mapWithProgress,
  progressLatencies,
  type Arrival,
  type Progress,
  waitThenCancel
} from "../../examples/progress/progress.ts"

/** When each task of `latencies` finishes on `slots` FIFO slots, all submitted at time 0. */
const schedule = (latencies: ReadonlyArray<number>, slots: number) => {
  const free = Array.from({ length: slots }, () => 0)
  return latencies.map((ms) => {
    free.sort((a, b) => a - b)
    const start = free.shift()!
    free.push(start + ms)
    return start + ms
  })
}

describe("examples/progress", () => {
  it.effect(
    "mapWithProgress - one report per result, done counts 1..total, time never goes back, rate matches",
    () =>
      Effect.gen(function* () {
        const reports: Array<Progress> = []
        const fiber = yield* Effect.forkChild(mapWithProgress((p) => Effect.sync(() => reports.push(p))))
        yield* TestClock.adjust("10 seconds")
        const responses = yield* Fiber.join(fiber)

        const total = progressLatencies.length
        assert.deepStrictEqual(
          responses,
          progressLatencies.map((_, i) => `response ${i}`)
        )
        assert.deepStrictEqual(
          reports.map((r) => r.done),
          Array.from({ length: total }, (_, i) => i + 1)
        )
        for (let i = 0; i < reports.length; i++) {
          assert.strictEqual(reports[i].total, total)
          if (i > 0) assert.isAtLeast(reports[i].elapsedMs, reports[i - 1].elapsedMs)
          assert.closeTo(reports[i].perSecond, (reports[i].done * 1000) / reports[i].elapsedMs, 1e-9)
        }
        const last = reports[reports.length - 1]
        assert.strictEqual(last.done, total)
        assert.strictEqual(last.queued, 0)
        // in input order, the last result is available when the slowest prefix has finished
        assert.strictEqual(last.elapsedMs, Math.max(...schedule(progressLatencies, 6)))
      }),
    10_000
  )

  // deadlines that fall between finish times: 50 (none done), 120, 350, 420 (both tasks
  // finishing at 400 done), 750, and 2000 (all done, nothing to cancel)
  for (const deadline of [50, 120, 350, 420, 750, 2000]) {
    it.effect(
      `waitThenCancel - deadline ${deadline} ms: done is exactly what finished by then; the rest are cancelled and never finish`,
      () =>
        Effect.gen(function* () {
          const fiber = yield* Effect.forkChild(waitThenCancel(deadline))
          yield* TestClock.adjust("10 seconds")
          const report = yield* Fiber.join(fiber)

          const finish = schedule(deadlineLatencies, 3)
          const expectedDone = finish.flatMap((t, i) => (t <= deadline ? [i] : []))
          assert.deepStrictEqual(report.done, expectedDone)
          assert.deepStrictEqual(report.finishedAtDeadline, expectedDone)

          const notDone = deadlineLatencies.flatMap((_, i) => (expectedDone.includes(i) ? [] : [i]))
          assert.deepStrictEqual(
            report.notDone.map((n) => n.task),
            notDone
          )
          // running at the deadline iff its slot was free before it (start = finish - latency)
          for (const { task, state } of report.notDone) {
            assert.strictEqual(state, finish[task] - deadlineLatencies[task] < deadline ? "running" : "pending")
          }
          assert.deepStrictEqual(
            report.cancelled,
            notDone.map((task) => ({ task, result: true, state: "cancelled" as const }))
          )
          // the running ones were interrupted; the queued ones never started
          assert.deepStrictEqual(
            report.interrupted,
            report.notDone.filter((n) => n.state === "running").map((n) => n.task)
          )
          for (const { task, state } of report.notDone) {
            assert.strictEqual(report.started.includes(task), state === "running")
          }
          // past every original latency, no cancelled body has finished
          assert.deepStrictEqual(report.finishedLater, expectedDone)
        }),
      10_000
    )
  }

  it.effect(
    "asCompletedDemo - futures arrive in completion order, each once, failures included",
    () =>
      Effect.gen(function* () {
        const seen: Array<Arrival> = []
        const fiber = yield* Effect.forkChild(asCompletedDemo((a) => Effect.sync(() => seen.push(a))))
        yield* TestClock.adjust("10 seconds")
        const { arrivals, finishOrder } = yield* Fiber.join(fiber)

        const byLatency = [...lookups].sort((a, b) => a.latencyMs - b.latencyMs)
        assert.deepStrictEqual(
          arrivals.map((a) => a.city),
          byLatency.map((l) => l.city)
        )
        assert.deepStrictEqual(
          finishOrder,
          byLatency.map((l) => l.city)
        )
        assert.deepStrictEqual(seen, arrivals)
        // each handled the moment it completed
        assert.deepStrictEqual(
          arrivals.map((a) => a.elapsedMs),
          byLatency.map((l) => l.latencyMs)
        )
        for (const a of arrivals) {
          if (a.city === "oslo") {
            assert.isTrue(Exit.isFailure(a.exit))
            assert.deepStrictEqual(a.exit, Exit.fail(new LookupFailed({ city: "oslo" })))
          } else {
            assert.isTrue(Exit.isSuccess(a.exit) && a.exit.value.startsWith(`${a.city}: `))
          }
        }
      }),
    10_000
  )

  it.effect(
    "firstException - returns at the first failure with it; the rest are cancelled and never finish",
    () =>
      Effect.gen(function* () {
        const fiber = yield* Effect.forkChild(firstException)
        yield* TestClock.adjust("10 seconds")
        const report = yield* Fiber.join(fiber)

        const failing = batch.find((l) => l.fails === true)!
        assert.strictEqual(report.elapsedMs, failing.latencyMs)
        assert.sameMembers(report.done, ["accra", "dublin"])
        assert.sameMembers(report.notDone, ["hanoi", "kyiv"])
        assert.instanceOf(report.error, LookupFailed)
        assert.strictEqual((report.error as LookupFailed).city, "dublin")
        assert.sameDeepMembers(report.cancelled, [
          { city: "hanoi", result: true },
          { city: "kyiv", result: true }
        ])
        assert.deepStrictEqual(report.finishedLater, ["accra", "dublin"])
      }),
    10_000
  )
})
