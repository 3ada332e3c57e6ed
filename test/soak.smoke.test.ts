// The soak run (scripts/soak/run.ts, `npm run soak`) on a few thousand tasks
// per executor, in-process, so the script cannot rot: every check it makes
// must hold, and every scenario it is meant to exercise must have happened.
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { soak } from "../scripts/soak/run.ts"

describe("soak", () => {
  it.live(
    "soak - 2,000 tasks through each executor: every future settles once, stats add up",
    () =>
      Effect.gen(function* () {
        const hangs: Array<string> = []
        const reports = yield* soak({
          tasks: 2_000,
          hangAfterMs: 30_000,
          onHang: (diagnostics) => {
            hangs.push(diagnostics)
            console.error(`soak smoke test: no progress: ${diagnostics}`)
          }
        })
        assert.deepStrictEqual(
          reports.map((r) => r.executor),
          ["io", "cpu"]
        )
        assert.deepStrictEqual(hangs, [])
        for (const report of reports) {
          const failed = report.checks.filter((c) => !c.ok)
          assert.deepStrictEqual(failed, [], `${report.executor}: failed checks`)
          assert.isTrue(report.ok)
          // no GC could be forced in-process: no heap figures, no heap check
          assert.isUndefined(report.heap)
          const { phase } = report
          assert.strictEqual(phase.tasks, 2_000)
          assert.strictEqual(phase.futures + phase.map.items, 2_000)
          // every outcome and every way of consuming a future happened
          for (const outcome of ["succeeded", "typed", "defect", "timeout", "cancelled"]) {
            assert.isAbove(phase.outcomes[outcome], 0, `${report.executor}: ${outcome}`)
          }
          assert.strictEqual(phase.outcomes.wrong, 0)
          for (const method of ["await", "exit", "wait", "asCompleted", "callback"]) {
            assert.isAbove(phase.methods[method], 0, `${report.executor}: ${method}`)
          }
          assert.isAbove(phase.cancelled.whileQueued, 0)
          assert.isAbove(phase.cancelled.whileRunning, 0)
          assert.isAbove(phase.map.blocks, 0)
          assert.isAbove(phase.map.failingBlocks, 0)
          assert.strictEqual(phase.stats.running + phase.stats.prefetched + phase.stats.queued, 0)
        }
        // the CPU executor also lost workers: one sync loop terminated, one crash
        const cpu = reports[1].phase
        assert.strictEqual(cpu.scenarios.spin, 1)
        assert.strictEqual(cpu.scenarios.crash, 1)
        assert.isAtLeast(cpu.lostWorkers, 2)
        assert.strictEqual(cpu.extra.spinStartedInWorker, 1)
      }),
    120_000
  )
})
