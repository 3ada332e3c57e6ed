// The markdown report: one table per workload, plus the run's conditions.
import type { MachineInfo } from "./machine.ts"
import type { Spread } from "./stats.ts"
import type { RunRecord, TargetResult, WorkloadSummary } from "./summary.ts"
import type { Params, System } from "./types.ts"
import { type Figure, formatFigure, idealSeconds, type Workload, workloadById } from "./workloads.ts"

export interface ReportInput {
  readonly startedAt: string
  readonly quick: boolean
  readonly rounds: number
  readonly machine: MachineInfo
  readonly systems: ReadonlyArray<System>
  readonly skipped: ReadonlyArray<string>
  readonly runs: ReadonlyArray<RunRecord>
  readonly summaries: ReadonlyArray<WorkloadSummary>
  readonly disturbance: { readonly rule: string; readonly maxRedos: number }
}

const ratioText = (value: Spread | undefined): string =>
  value === undefined
    ? "n/a"
    : value.n > 1
      ? `${value.median.toFixed(2)} (${value.min.toFixed(2)}–${value.max.toFixed(2)})`
      : value.median.toFixed(2)

const opText = { "<=": "≤", "<": "<", ">=": "≥" } as const

export const targetText = (result: TargetResult): string => {
  const { target, achieved, met } = result
  const mark = met === undefined ? "n/a" : met ? "✅" : "❌"
  const value = achieved === undefined ? "no reference run" : `${achieved.median.toFixed(2)}×`
  return `${mark} ${target.text} (need ${opText[target.op]} ${target.ratio}×, got ${value})`
}

const paramsText = (workload: Workload, params: Params): string => {
  const tasks = params.tasks.toLocaleString("en-US")
  switch (workload.id) {
    case "W1":
      return `${tasks} tasks × ${params.delayMs ?? 10} ms timer, concurrency ${params.concurrency}; ideal ${idealSeconds(params).toFixed(3)} s`
    case "W3":
      return `${tasks} tasks, ${params.concurrency} workers, one task per message; pools booted and warmed before the timed section`
    case "W3c":
      return `${tasks} tasks, ${params.concurrency} workers, ${params.chunksize ?? 1000} items per message; pools booted and warmed before the timed section`
    case "W4":
      return `${tasks} tasks of ~${params.taskMs ?? 100} ms (loop iterations calibrated in each process), ${params.concurrency} workers, each warmed with one full task first; speedup = serial time on the main thread ÷ pool time, same process`
    case "W5":
      return `${tasks} sequential round trips after 500 warm ones, ${params.concurrency} workers, in ${params.processes ?? 1} fresh process(es) per round; p50/p99: medians over the processes of each one's quantile; spawn → first result: creating the pool (${params.concurrency} workers started at once) until the first result, median over the processes`
    case "W6":
      return `${tasks} tasks behind 1 busy worker (concurrency 1; a worker pool's blocker waits in Atomics.wait, Python's on a multiprocessing.Event); heap and RSS of the main thread/process read after a full GC`
    case "C1":
      return `${tasks} tiny tasks all submitted then all awaited, ${params.concurrency} in flight, after ${200} warm-up tasks; then ${params.roundTrips ?? 100} sequential submit-and-await round trips (after 10 warm ones). Every system on 2 worker processes (embedded and CPU: 2 worker threads) of this machine, each on a fresh database of the run's one PostgreSQL server, in a fresh process per round; the 2 cores are shared by PostgreSQL, the client and the workers`
    case "C2":
      return `${tasks} jobs of ${params.holdMs ?? 200} ms submitted to 2 worker processes; the process the first one starts on is SIGKILLed at once; figure: kill → the last of the ${tasks} jobs completed (observed by the client), waiting at most ${((params.boundMs ?? 40_000) / 1000).toFixed(0)} s ("> bound": not completed by then); once at each system's defaults and once at its shortest documented setting, on fresh databases, in round 1 only`
    default:
      return `${tasks} tasks, concurrency ${params.concurrency}`
  }
}

const labelOf = (systems: ReadonlyArray<System>, id: string): string => systems.find((s) => s.id === id)?.label ?? id

const workloadSection = (input: ReportInput, summary: WorkloadSummary): Array<string> => {
  const workload = workloadById(summary.workload)!
  const [primary, ...secondary] = workload.figures
  const references = workload.references.filter((ref) => summary.systems.some((s) => s.system === ref))
  const header = [
    "system",
    `${primary!.label} (median)`,
    "range",
    ...secondary.map((figure) => `${figure.label} (median, range)`),
    ...references.map((ref) => `÷ ${labelOf(input.systems, ref)}`),
    "targets"
  ]
  const show = (figure: Figure, value: number) => formatFigure(figure, value, summary.params)
  const lines = [
    `## ${workload.id}: ${workload.title}`,
    "",
    `${paramsText(workload, summary.params)}. Ratios: median (range) of per-round ratios of ${primary!.label}, this system ÷ the column's system.`,
    "",
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`
  ]
  for (const row of summary.systems) {
    const main = row.figures[primary!.key]
    const cells = [
      row.kind === "ours" ? `**${row.label}**` : row.label,
      main === undefined ? (row.okRuns > 0 ? "n/a" : "failed") : show(primary!, main.median),
      main === undefined ? "" : `${show(primary!, main.min)}–${show(primary!, main.max)}`,
      ...secondary.map((figure) => {
        const value = row.figures[figure.key]
        return value === undefined
          ? "n/a"
          : value.n === 1
            ? show(figure, value.median)
            : `${show(figure, value.median)} (${show(figure, value.min)}–${show(figure, value.max)})`
      }),
      ...references.map((ref) => (ref === row.system ? "1" : ratioText(row.ratios[ref]))),
      summary.targets
        .filter((target) => target.system === row.system)
        .map(targetText)
        .join("<br>") || "–"
    ]
    lines.push(`| ${cells.join(" | ")} |`)
  }
  const problems = summary.systems.filter((row) => row.failedRuns > 0 || row.disturbedRuns > 0)
  const redone = input.runs.filter((run) => run.workload === summary.workload && run.redone.length > 0)
  if (problems.length > 0 || redone.length > 0) lines.push("")
  for (const row of problems) {
    lines.push(`- ${row.label}: ${row.failedRuns} failed run(s), ${row.disturbedRuns} disturbed run(s) kept.`)
  }
  if (redone.length > 0) {
    const which = redone.map((run) => `${run.system} round ${run.round + 1} (${run.redone.length}×)`)
    lines.push(`- Redone because disturbed: ${which.join(", ")}.`)
  }
  return lines
}

export const markdown = (input: ReportInput): string => {
  const m = input.machine
  const gib = (m.memoryBytes / 2 ** 30).toFixed(1)
  const versions = Object.entries(m.versions)
    .map(([name, version]) => `${name} ${version ?? "absent"}`)
    .join(", ")
  const dirty = m.git.dirty.length > 0 ? ` with uncommitted changes (${m.git.dirty.join("; ")})` : ""
  const redos = input.runs.reduce((n, run) => n + run.redone.length, 0)
  const stillDisturbed = input.runs.filter((run) => run.disturbed).length
  const lines = [
    "# effect-futures benchmarks",
    "",
    input.quick
      ? `> **QUICK RUN: reduced sizes, ${input.rounds} round(s). A smoke run: its figures are not comparable with a full run's or with BENCHMARKS.md.**`
      : `Full run: ${input.rounds} round(s), the sizes of BENCHMARKS.md.`,
    "",
    `- Started ${input.startedAt}; git ${m.git.commit?.slice(0, 12) ?? "unknown"}${dirty}.`,
    `- Machine: ${m.cpuModel}, ${m.cores} cores (availableParallelism ${m.availableParallelism}), ${gib} GiB, ${m.os} (${m.kernel}); load average at start ${m.loadAverageAtStart.map((l) => l.toFixed(2)).join(" ")}.`,
    `- Runtimes and packages: Node ${m.node}, ${versions}.`,
    `- Method: every (workload, system) pair ran in a fresh process (Node: \`process.execPath\` + the workload's flags; Python: \`python3\`); the order of systems rotated each round; figures are medians over rounds with min–max ranges. A timed run counts as disturbed when ${input.disturbance.rule}; it was then redone (at most ${input.disturbance.maxRedos}×): ${redos} redo(s) in all, ${stillDisturbed} disturbed run(s) kept (W6's memory figures are not timings, so its disturbed runs are kept, not redone).`
  ]
  if (input.skipped.length > 0) lines.push(...input.skipped.map((line) => `- Skipped: ${line}.`))
  for (const summary of input.summaries) lines.push("", ...workloadSection(input, summary))
  lines.push("", "## Systems", "")
  for (const system of input.systems)
    lines.push(`- **${system.label}** (\`${system.id}\`, ${system.kind}): ${system.notes}.`)
  lines.push("")
  return lines.join("\n")
}
