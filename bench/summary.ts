// Raw runs → per-workload summaries: medians, ranges, per-round ratios, targets.
import { perRoundRatios, type Spread, spread } from "./stats.ts"
import type { CpuSample, Params, Probe, RunResult, System, SystemKind, WorkloadId } from "./types.ts"
import { metTarget, type Target, type Workload } from "./workloads.ts"

/** One (workload, system, round) run, as kept in latest.json. */
export interface RunRecord {
  readonly workload: WorkloadId
  readonly system: string
  readonly round: number
  /** Position of the system in this round's (rotated) order. */
  readonly order: number
  readonly params: Params
  readonly ok: boolean
  readonly error?: string | undefined
  readonly result?: RunResult | undefined
  readonly cpu?: CpuSample | null | undefined
  readonly runtime?: string | undefined
  readonly probe?: Probe | null | undefined
  readonly figures: Readonly<Record<string, number>>
  /** Average cores other processes (and the hypervisor, as steal) used during the run. */
  readonly othersCores: number | null
  /** The slower speed probe of the run ÷ the best seen for its runtime. */
  readonly speed?: number | null | undefined
  /** Disturbed, and kept: after the allowed redos, or because its figures are not timings (W6). */
  readonly disturbed: boolean
  readonly disturbance?: ReadonlyArray<string> | undefined
  /** Disturbed attempts that were thrown away and redone. */
  readonly redone: ReadonlyArray<{ readonly reasons: ReadonlyArray<string>; readonly figures: Record<string, number> }>
}

export interface SystemSummary {
  readonly system: string
  readonly label: string
  readonly kind: SystemKind
  readonly okRuns: number
  readonly failedRuns: number
  readonly disturbedRuns: number
  readonly figures: Readonly<Record<string, Spread | undefined>>
  /** Primary figure, `this system / reference`, per round, then median and range. */
  readonly ratios: Readonly<Record<string, Spread | undefined>>
}

export interface TargetResult {
  readonly system: string
  readonly target: Target
  readonly achieved: Spread | undefined
  /** Undefined when the reference did not run. */
  readonly met: boolean | undefined
}

export interface WorkloadSummary {
  readonly workload: WorkloadId
  readonly title: string
  readonly params: Params
  readonly systems: ReadonlyArray<SystemSummary>
  readonly targets: ReadonlyArray<TargetResult>
}

const byRound = (runs: ReadonlyArray<RunRecord>, system: string, key: string): Map<number, number> => {
  const values = new Map<number, number>()
  for (const run of runs) {
    const value = run.figures[key]
    if (run.system === system && run.ok && value !== undefined) values.set(run.round, value)
  }
  return values
}

export const summarize = (
  workload: Workload,
  params: Params,
  systems: ReadonlyArray<System>,
  allRuns: ReadonlyArray<RunRecord>
): WorkloadSummary => {
  const runs = allRuns.filter((run) => run.workload === workload.id)
  const primary = workload.figures[0]!.key
  const ran = systems.filter((system) => runs.some((run) => run.system === system.id))
  const summaries = ran.map((system): SystemSummary => {
    const mine = runs.filter((run) => run.system === system.id)
    const figures: Record<string, Spread | undefined> = {}
    for (const figure of workload.figures)
      figures[figure.key] = spread([...byRound(runs, system.id, figure.key).values()])
    const ratios: Record<string, Spread | undefined> = {}
    for (const reference of workload.references) {
      if (reference === system.id) continue
      ratios[reference] = spread(perRoundRatios(byRound(runs, system.id, primary), byRound(runs, reference, primary)))
    }
    return {
      system: system.id,
      label: system.label,
      kind: system.kind,
      okRuns: mine.filter((run) => run.ok).length,
      failedRuns: mine.filter((run) => !run.ok).length,
      disturbedRuns: mine.filter((run) => run.disturbed).length,
      figures,
      ratios
    }
  })
  const targets = summaries
    .filter((summary) => summary.kind === "ours")
    .flatMap((summary) =>
      workload.targets
        .filter((target) => target.appliesTo === undefined || target.appliesTo.includes(summary.system))
        .map((target): TargetResult => {
          const achieved =
            target.figure === undefined || target.figure === primary
              ? summary.ratios[target.reference]
              : spread(
                  perRoundRatios(
                    byRound(runs, summary.system, target.figure),
                    byRound(runs, target.reference, target.figure)
                  )
                )
          return {
            system: summary.system,
            target,
            achieved,
            met: achieved === undefined ? undefined : metTarget(target, achieved.median)
          }
        })
    )
  return { workload: workload.id, title: workload.title, params, systems: summaries, targets }
}
