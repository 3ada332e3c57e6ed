// The cluster workloads' report code (C1, C2): a failover not seen within its
// bound shows as "> bound", a latency target is a ratio of the latency figure.
// The runs themselves need PostgreSQL and worker processes: `npm run bench -- --only C1,C2`.
import { assert, describe, it } from "@effect/vitest"
import type { RunRecord } from "../../bench/summary.ts"
import { summarize } from "../../bench/summary.ts"
import { systems } from "../../bench/systems/index.ts"
import type { RunResult, WorkloadId } from "../../bench/types.ts"
import { formatFigure, workloadById } from "../../bench/workloads.ts"

const record = (workload: WorkloadId, system: string, round: number, figures: Record<string, number>): RunRecord => ({
  workload,
  system,
  round,
  order: 0,
  params: workloadById(workload)!.full,
  ok: true,
  figures,
  othersCores: 0,
  disturbed: false,
  redone: []
})

describe("bench cluster workloads", () => {
  it("C2: a failover not completed within the bound is the bound, shown as '> bound'", () => {
    const workload = workloadById("C2")!
    const params = workload.full
    const result: RunResult = {
      completed: 8,
      elapsedMs: 2980,
      failover: { defaultsMs: null, shortestMs: 2980, killedJobs: 3 }
    }
    const [shortest, defaults] = workload.figures
    assert.strictEqual(shortest!.compute(result, params), 2980)
    assert.strictEqual(formatFigure(shortest!, 2980, params), "2.98")
    const bound = defaults!.compute(result, params)!
    assert.strictEqual(bound, params.boundMs)
    assert.strictEqual(formatFigure(defaults!, bound, params), "> 40.0")
    // not measured (the persisted row at defaults): no figure at all
    assert.isUndefined(defaults!.compute({ ...result, failover: { shortestMs: 3000, killedJobs: 1 } }, params))
  })

  it("C1: throughput targets use tasks/s, latency targets the p50 figure, both per round", () => {
    const workload = workloadById("C1")!
    const runs = [0, 1].flatMap((round) => [
      record("C1", "cluster-pg", round, { tasks_per_s: 1000, p50_ms: 2, p99_ms: 5 }),
      record("C1", "pg-boss", round, { tasks_per_s: 250, p50_ms: 16, p99_ms: 30 }),
      record("C1", "graphile-worker", round, { tasks_per_s: 2000, p50_ms: 1, p99_ms: 3 })
    ])
    const summary = summarize(workload, workload.full, systems, runs)
    const target = (reference: string, figure: string) =>
      summary.targets.find(
        (t) =>
          t.system === "cluster-pg" && t.target.reference === reference && (t.target.figure ?? "tasks_per_s") === figure
      )!
    assert.strictEqual(target("pg-boss", "tasks_per_s").achieved?.median, 4)
    assert.isTrue(target("pg-boss", "tasks_per_s").met)
    assert.strictEqual(target("pg-boss", "p50_ms").achieved?.median, 0.125)
    assert.isTrue(target("pg-boss", "p50_ms").met)
    assert.strictEqual(target("graphile-worker", "tasks_per_s").achieved?.median, 0.5)
    assert.isFalse(target("graphile-worker", "tasks_per_s").met)
    assert.isFalse(target("graphile-worker", "p50_ms").met)
    // the embedded row and the CPU ceiling have no targets
    assert.isFalse(summary.targets.some((t) => t.system === "cluster-embedded" || t.system === "cpu-ceiling"))
  })
})
