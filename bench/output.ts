// latest.json (raw runs, summaries, machine), latest.md and latest.svg, written from one document.
import * as fs from "node:fs"
import * as path from "node:path"
import { svg } from "./chart.ts"
import { describeRule } from "./disturbance.ts"
import type { MachineInfo } from "./machine.ts"
import { markdown } from "./report.ts"
import { type RunRecord, summarize, type WorkloadSummary } from "./summary.ts"
import { systemById } from "./systems/index.ts"
import type { Params, System, SystemKind, WorkloadId } from "./types.ts"
import { workloadById } from "./workloads.ts"

/** The content of latest.json. */
export interface ResultsDoc {
  readonly startedAt: string
  readonly finishedAt: string
  readonly argv: ReadonlyArray<string>
  readonly quick: boolean
  readonly rounds: number
  readonly machine: MachineInfo
  readonly method: {
    readonly freshProcessPerPair: true
    readonly rotation: string
    readonly ratio: string
    readonly disturbance: { readonly rule: string; readonly maxRedos: number } & Record<string, unknown>
  }
  readonly workloads: ReadonlyArray<{ readonly id: WorkloadId; readonly title: string; readonly params: Params }>
  readonly systems: ReadonlyArray<{
    readonly id: string
    readonly label: string
    readonly kind: SystemKind
    readonly notes: string
  }>
  readonly skipped: ReadonlyArray<string>
  readonly summaries: ReadonlyArray<WorkloadSummary>
  readonly runs: ReadonlyArray<RunRecord>
}

/** Summaries of the document's runs, computed with the current workload definitions. */
export const summaries = (doc: Omit<ResultsDoc, "summaries">): Array<WorkloadSummary> => {
  const systems = doc.systems.map((s) => systemById(s.id)).filter((s): s is System => s !== undefined)
  return doc.workloads.map((w) => summarize(workloadById(w.id)!, w.params, systems, doc.runs))
}

/** Writes latest.{json,md,svg} into `dir`; returns the markdown. */
export const writeResults = (doc: ResultsDoc, dir: string): string => {
  const systems = doc.systems.map((s) => systemById(s.id)).filter((s): s is System => s !== undefined)
  const md = markdown({
    startedAt: doc.startedAt,
    quick: doc.quick,
    rounds: doc.rounds,
    machine: doc.machine,
    systems,
    skipped: doc.skipped,
    runs: doc.runs,
    summaries: doc.summaries,
    // Files written before the rule was stored in them get the current rule's text.
    disturbance: { rule: doc.method.disturbance.rule ?? describeRule(), maxRedos: doc.method.disturbance.maxRedos }
  })
  const title = `effect-futures: ratios against targets${doc.quick ? " (QUICK run, reduced sizes)" : ""}, ${doc.startedAt.slice(0, 10)}`
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, "latest.json"), `${JSON.stringify(doc, null, 2)}\n`)
  fs.writeFileSync(path.join(dir, "latest.md"), md)
  fs.writeFileSync(path.join(dir, "latest.svg"), svg(doc.summaries, title))
  return md
}

/** Reads latest.json back (for `--report-only`). */
export const readResults = (dir: string): ResultsDoc =>
  JSON.parse(fs.readFileSync(path.join(dir, "latest.json"), "utf8")) as ResultsDoc
