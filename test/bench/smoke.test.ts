// Smoke test of the benchmark (bench/): every workload of every system at a tiny
// size, checking that all tasks ran with the right results (each runner counts
// only correct results as completed) and that readings were taken. Never timing.
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { svg } from "../../bench/chart.ts"
import { runInProcess } from "../../bench/child.ts"
import { processEnv } from "../../bench/measure.ts"
import { spawnPair, spawnRun } from "../../bench/spawn.ts"
import type { RunRecord } from "../../bench/summary.ts"
import { summarize } from "../../bench/summary.ts"
import { systemById, systems } from "../../bench/systems/index.ts"
import { type RunResult, supports, type WorkloadId } from "../../bench/types.ts"
import { checkResult, type Workload, workloadById, workloads } from "../../bench/workloads.ts"

const TIMEOUT = 15_000

const assertRan = (workload: Workload, result: RunResult) => {
  assert.strictEqual(result.completed, workload.tiny.tasks)
  assert.isUndefined(checkResult(workload, result, workload.tiny))
  if (workload.id === "W4") {
    assert.isAbove(result.serialMs!, 0)
    assert.isAbove(result.iterations!, 0)
  }
  if (workload.id === "W5") {
    const latency = result.latencyUs!
    assert.isTrue(latency.p25 > 0 && latency.p25 <= latency.p50 && latency.p50 <= latency.p75)
    assert.isTrue(latency.p75 <= latency.p99)
    assert.isAbove(result.spawnMs!, 0)
  }
  if (workload.id === "W6") {
    assert.isDefined(result.memoryBefore)
    assert.isDefined(result.memoryAfter)
    assert.strictEqual(result.queuedAtMeasure, workload.tiny.tasks)
  }
}

const tinyRun = (system: string, workload: WorkloadId, round: number, figures: Record<string, number>): RunRecord => ({
  workload,
  system,
  round,
  order: 0,
  params: workloadById(workload)!.tiny,
  ok: true,
  figures,
  othersCores: 0,
  disturbed: false,
  redone: []
})

describe("bench smoke", () => {
  // the cluster workloads (C1, C2) need a PostgreSQL server and worker processes: `npm run bench -- --only C1,C2`, not npm test
  for (const workload of workloads.filter((w) => w.postgres !== true)) {
    for (const system of systems) {
      if (!supports(system, workload.id)) continue
      if (system._tag === "InProcess") {
        it.live(
          `${workload.id} ${system.id} in-process`,
          () =>
            Effect.gen(function* () {
              if (system.prepare !== undefined) yield* Effect.promise(system.prepare)
              const result = yield* Effect.promise(() =>
                runInProcess(system.id, workload.id, workload.tiny, processEnv())
              )
              assertRan(workload, result)
            }),
          TIMEOUT
        )
      } else {
        it.live.skipIf(system.unavailable() !== undefined)(
          `${workload.id} ${system.id} (python3${system.unavailable() === undefined ? "" : ": missing, skipped"})`,
          () =>
            Effect.gen(function* () {
              const report = yield* Effect.promise(() => spawnRun(system, workload, workload.tiny, TIMEOUT))
              assertRan(workload, report.result)
            }),
          TIMEOUT
        )
      }
    }
  }

  it.live(
    "the child-process entry point reports a checked result (W6 with --expose-gc)",
    () =>
      Effect.gen(function* () {
        const workload = workloadById("W6")!
        const report = yield* Effect.promise(() =>
          spawnRun(systemById("effect-futures-lean")!, workload, workload.tiny, TIMEOUT)
        )
        assertRan(workload, report.result)
        assert.match(report.runtime, /^node v24\./)
      }),
    TIMEOUT
  )

  it.live(
    "a W5 pair runs in several processes, merged into one result",
    () =>
      Effect.gen(function* () {
        const workload = workloadById("W5")!
        const params = { ...workload.tiny, processes: 2 }
        const report = yield* Effect.promise(() => spawnPair(systemById("raw-worker")!, workload, params, TIMEOUT))
        assert.strictEqual(report.result.completed, params.tasks)
        assert.strictEqual(report.result.perProcess?.length, 2)
        const p50s = report.result.perProcess!.map((p) => p.latencyUs.p50)
        assert.strictEqual(report.result.latencyUs!.p50, (p50s[0]! + p50s[1]!) / 2)
        assert.isUndefined(checkResult(workload, report.result, params))
      }),
    TIMEOUT
  )

  it.live(
    "W6 targets: the IoExecutor against p-limit, the CpuExecutor against piscina",
    () =>
      Effect.sync(() => {
        const workload = workloadById("W6")!
        const runs = [
          tinyRun("effect-futures", "W6", 0, { heap_b_per_task: 300 }),
          tinyRun("effect-futures-cpu", "W6", 0, { heap_b_per_task: 300 }),
          tinyRun("p-limit", "W6", 0, { heap_b_per_task: 800 }),
          tinyRun("piscina", "W6", 0, { heap_b_per_task: 500 })
        ]
        const summary = summarize(workload, workload.tiny, systems, runs)
        const targetsOf = (system: string) => summary.targets.filter((t) => t.system === system)
        const io = targetsOf("effect-futures")
        assert.deepStrictEqual(
          io.map((t) => [t.target.reference, t.met]),
          [["p-limit", true]]
        )
        const cpu = targetsOf("effect-futures-cpu")
        assert.deepStrictEqual(
          cpu.map((t) => [t.target.reference, t.met]),
          [["piscina", false]]
        )
        assert.strictEqual(cpu[0]!.achieved?.median, 0.6)
      }),
    TIMEOUT
  )

  it.live(
    "summaries turn per-round figures into ratios and targets",
    () =>
      Effect.sync(() => {
        const workload = workloadById("W2")!
        const params = workload.tiny
        const run = (system: string, round: number, tasksPerSecond: number): RunRecord => ({
          workload: "W2",
          system,
          round,
          order: 0,
          params,
          ok: true,
          figures: { tasks_per_s: tasksPerSecond },
          othersCores: 0,
          disturbed: false,
          redone: []
        })
        const runs = [run("effect-futures-lean", 0, 900), run("p-limit", 0, 300), run("effect-futures-lean", 1, 800)]
        runs.push(run("p-limit", 1, 200))
        const summary = summarize(workload, params, systems, runs)
        const ours = summary.systems.find((s) => s.system === "effect-futures-lean")!
        assert.strictEqual(ours.figures.tasks_per_s?.median, 850)
        assert.strictEqual(ours.ratios["p-limit"]?.median, 3.5)
        const target = summary.targets.find((t) => t.target.reference === "p-limit")!
        assert.isTrue(target.met)
        assert.isUndefined(summary.targets.find((t) => t.target.reference === "python-cf")!.met)
        assert.match(svg([summary], "t"), /^<svg[\s\S]*<\/svg>\n$/)
      }),
    TIMEOUT
  )
})
