// Telling a disturbed run apart. Two signs:
// - visible: other processes (or the hypervisor, as steal) used the CPU during
//   the run: /proc/stat's busy time minus the run's own CPU time;
// - invisible: the machine ran slower than usual (a busy host does not show in
//   /proc/stat): the speed probe before or after the run is well below the
//   best seen for that runtime.
import { cpuProbe, readProcStat } from "./measure.ts"
import type { ChildReport, CpuSample, System } from "./types.ts"

export const DISTURBANCE = {
  /** Other processes may use at most this share of one core during a run… */
  coreShare: 0.1,
  /** …plus this much, for the jiffy granularity of /proc/stat. */
  slackMs: 30,
  /** The speed probe may be at most this much below the best seen. */
  minSpeed: 0.8
} as const

export const describeRule = (): string =>
  `other processes used more than ${DISTURBANCE.coreShare} of a core (+${DISTURBANCE.slackMs} ms), or the speed probe before/after the run fell below ${DISTURBANCE.minSpeed}× the best seen for its runtime`

/** CPU milliseconds that other processes (and the hypervisor, as steal) used during the sample. */
export const othersCpuMs = (cpu: CpuSample, ticksPerSecond: number): number =>
  ((cpu.busyTicks + cpu.stealTicks) * 1000) / ticksPerSecond - cpu.ownCpuMs

const othersExceeded = (cpu: CpuSample, ticksPerSecond: number): boolean =>
  othersCpuMs(cpu, ticksPerSecond) > DISTURBANCE.coreShare * cpu.wallMs + DISTURBANCE.slackMs

export interface Verdict {
  /** Average cores used by others during the run. */
  readonly othersCores: number | null
  /** The slower probe ÷ the best probe seen for the runtime. */
  readonly speed: number | null
  /** Why the run counts as disturbed; empty when it does not. */
  readonly reasons: ReadonlyArray<string>
}

/** The best speed probe seen per runtime ("node", or an external system's id). */
export const makeSpeedBaseline = () => {
  const best = new Map<string, number>()
  const keyOf = (system: System) => (system._tag === "External" ? system.id : "node")
  const note = (key: string, value: number | undefined) => {
    if (value !== undefined && Number.isFinite(value) && value > (best.get(key) ?? 0)) best.set(key, value)
  }
  return {
    /** Seeds the baselines: this process runs the Node probe; external systems run theirs. */
    calibrate: (systems: ReadonlyArray<System>) => {
      for (let i = 0; i < 3; i++) note("node", cpuProbe())
      for (const system of systems) if (system._tag === "External") note(system.id, system.probe())
    },
    /**
     * `ownHelpers`: the run has processes of its own (the cluster workloads'
     * PostgreSQL and worker processes), so other processes' CPU is not a sign
     * of disturbance there; only the speed probe is.
     */
    judge: (system: System, report: ChildReport, ticksPerSecond: number, ownHelpers = false): Verdict => {
      const reasons: Array<string> = []
      const cpu = report.cpu
      const othersCores = cpu === null ? null : othersCpuMs(cpu, ticksPerSecond) / cpu.wallMs
      if (cpu !== null && !ownHelpers && othersExceeded(cpu, ticksPerSecond)) {
        reasons.push(`other processes used ${othersCores!.toFixed(2)} cores`)
      }
      let speed: number | null = null
      if (report.probe !== null) {
        const key = keyOf(system)
        const baseline = best.get(key)
        const slower = Math.min(report.probe.before, report.probe.after)
        if (baseline !== undefined) {
          speed = slower / baseline
          if (speed < DISTURBANCE.minSpeed) reasons.push(`the machine ran at ${speed.toFixed(2)}× its best speed`)
        }
        note(key, Math.max(report.probe.before, report.probe.after))
      }
      return { othersCores, speed, reasons }
    }
  }
}

export type SpeedBaseline = ReturnType<typeof makeSpeedBaseline>

/**
 * Waits (at most `maxMs`) until the machine is quiet: a 500 ms window in which
 * other processes used less than the threshold. Resolves with whether it got quiet.
 */
export const waitForQuiet = async (ticksPerSecond: number, maxMs: number): Promise<boolean> => {
  const deadline = Date.now() + maxMs
  while (Date.now() < deadline) {
    const ticks = readProcStat()
    if (ticks === undefined) return true
    const cpu = process.cpuUsage()
    const start = performance.now()
    await new Promise((resolve) => setTimeout(resolve, 500))
    const end = readProcStat()!
    const own = process.cpuUsage(cpu)
    const sample: CpuSample = {
      wallMs: performance.now() - start,
      ownCpuMs: (own.user + own.system) / 1000,
      busyTicks: end.busy - ticks.busy,
      stealTicks: end.steal - ticks.steal
    }
    if (!othersExceeded(sample, ticksPerSecond)) return true
  }
  return false
}
