// Shared types of the benchmark: workloads, systems and what one run reports.

/** Workload ids, as in /work/shared/BENCHMARKS.md. Worker-pool ids are reserved for later systems. */
export type WorkloadId = "W1" | "W2" | "W3" | "W3c" | "W4" | "W5" | "W6"

/** The size of one run. Fields a workload does not use are ignored. */
export interface Params {
  /** Tasks submitted. */
  readonly tasks: number
  /** Tasks running at once (worker slots, limiter concurrency, `max_workers`). */
  readonly concurrency: number
  /** W1: each task awaits a timer of this many milliseconds. */
  readonly delayMs?: number | undefined
}

/** A heap or RSS reading, taken after a full GC. */
export interface Memory {
  readonly heapUsed: number
  readonly rss: number
}

/** What a runner measured; every field is a measurement, never a constant. */
export interface RunResult {
  /** Tasks whose result was received by the submitter (must equal `params.tasks`). */
  readonly completed: number
  /** Wall time of the timed section (submit the first task … receive the last result). */
  readonly elapsedMs: number
  /** W6: readings before the tasks were queued and once they all were. */
  readonly memoryBefore?: Memory | undefined
  readonly memoryAfter?: Memory | undefined
  /** W6: tasks the system itself reported as queued when memory was read, where it can tell. */
  readonly queuedAtMeasure?: number | undefined
  /** Which kind of memory `heapUsed` is, when not V8's heap (e.g. Python's tracemalloc). */
  readonly heapKind?: string | undefined
}

/** What the process of a run used, for telling a disturbed run apart. */
export interface CpuSample {
  /** Wall time between the two samples. */
  readonly wallMs: number
  /** CPU time of the run's own process (all its threads). */
  readonly ownCpuMs: number
  /** Busy jiffies of the whole machine (`/proc/stat`: user+nice+system+irq+softirq). */
  readonly busyTicks: number
  /** Jiffies stolen by the hypervisor. */
  readonly stealTicks: number
}

/**
 * Speed of a fixed integer loop (iterations per microsecond) just before and
 * just after the timed section: a slower machine than usual (say, a busy
 * host, which /proc/stat does not show) makes it drop.
 */
export interface Probe {
  readonly before: number
  readonly after: number
}

/** The JSON line a child process prints, prefixed by {@link RESULT_PREFIX}. */
export interface ChildReport {
  readonly result: RunResult
  readonly cpu: CpuSample | null
  readonly probe: Probe | null
  readonly runtime: string
}

export const RESULT_PREFIX = "BENCH_RESULT "

/** Services a runner gets from its process. */
export interface RunEnv {
  /**
   * Runs a full GC (when the process has `--expose-gc`) and reads the heap and
   * RSS. `exact` tells whether the GC ran: child processes insist on it.
   */
  readonly readMemory: () => Memory
  readonly exact: boolean
}

export type Runner = (params: Params, env: RunEnv) => Promise<RunResult>

export type SystemKind = "ours" | "peer" | "baseline"

/** A system benchmarked in a Node child process (or, in the smoke test, in-process). */
export interface InProcessSystem {
  readonly _tag: "InProcess"
  readonly id: string
  readonly label: string
  readonly kind: SystemKind
  /** How each workload is implemented, shown in the report. */
  readonly notes: string
  readonly runners: Partial<Record<WorkloadId, Runner>>
  /** Extra Node flags of its child process. */
  readonly nodeFlags?: ReadonlyArray<string> | undefined
}

/** A system benchmarked through another program (Python); it prints a {@link ChildReport} line. */
export interface ExternalSystem {
  readonly _tag: "External"
  readonly id: string
  readonly label: string
  readonly kind: SystemKind
  readonly notes: string
  readonly workloads: ReadonlyArray<WorkloadId>
  /** Why it cannot run here, or undefined when it can. */
  readonly unavailable: () => string | undefined
  readonly command: (workload: WorkloadId, params: Params) => { readonly file: string; readonly args: Array<string> }
  /** Runs its runtime's speed probe (see {@link Probe}) in a process of its own. */
  readonly probe: () => number | undefined
}

export type System = InProcessSystem | ExternalSystem

export const supports = (system: System, workload: WorkloadId): boolean =>
  system._tag === "InProcess" ? system.runners[workload] !== undefined : system.workloads.includes(workload)
