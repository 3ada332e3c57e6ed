// Shared types of the benchmark: workloads, systems and what one run reports.

/** Workload ids, as in /work/shared/BENCHMARKS.md. */
export type WorkloadId = "W1" | "W2" | "W3" | "W3c" | "W4" | "W5" | "W6" | "C1" | "C2"

/** The size of one run. Fields a workload does not use are ignored. */
export interface Params {
  /** Tasks submitted. */
  readonly tasks: number
  /** Tasks running at once (worker slots, limiter concurrency, `max_workers`). */
  readonly concurrency: number
  /** W1: each task awaits a timer of this many milliseconds. */
  readonly delayMs?: number | undefined
  /** W3c: items per message (`map`'s `chunksize`, or the length of the array a pool without chunking gets). */
  readonly chunksize?: number | undefined
  /** W4: each task's loop runs about this many milliseconds (its iteration count is calibrated in the run's process). */
  readonly taskMs?: number | undefined
  /** W5: the orchestrator runs the pair in this many fresh processes per round and merges them (latency is bimodal per process). */
  readonly processes?: number | undefined
  /** C1: sequential submit-and-await round trips measured after the throughput section. */
  readonly roundTrips?: number | undefined
  /** C2: how long each job holds its worker (ms). */
  readonly holdMs?: number | undefined
  /** C2: how long to wait after a kill for the jobs to complete before reporting "> bound" (ms). */
  readonly boundMs?: number | undefined
}

/**
 * C2: SIGKILL of the worker process holding a job → the last job of the batch
 * completed by the other worker, in milliseconds; null when the jobs were not
 * all completed within `boundMs` (reported as "> bound").
 */
export interface Failover {
  /** At the system's default recovery settings (undefined: not measured). */
  readonly defaultsMs?: number | null | undefined
  /** At its shortest documented setting. */
  readonly shortestMs?: number | null | undefined
  /** Jobs the killed worker had started when it was killed (at the shortest setting). */
  readonly killedJobs: number
}

/** Round-trip latencies of one process, in microseconds. */
export interface Latency {
  readonly p25: number
  readonly p50: number
  readonly p75: number
  readonly p99: number
  readonly mean: number
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
  /** W4: wall time of the same tasks run one after another on the main thread (same process, same runtime). */
  readonly serialMs?: number | undefined
  /** W4: loop iterations per task, as calibrated. */
  readonly iterations?: number | undefined
  /** W5: round-trip latencies (for a run merged from several processes: per-quantile medians over them). */
  readonly latencyUs?: Latency | undefined
  /** W5: creating the pool (workers spawned) until the first task's result arrived, in milliseconds. */
  readonly spawnMs?: number | undefined
  /** W5: each process's readings, when the orchestrator merged several. */
  readonly perProcess?:
    ReadonlyArray<{ readonly latencyUs: Latency; readonly spawnMs?: number | undefined }> | undefined
  /** C2: failover times. */
  readonly failover?: Failover | undefined
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
  /** Needs the run's PostgreSQL server (skipped, with the reason, when it does not start). */
  readonly postgres?: boolean | undefined
  /** Why it cannot run here (a package or service missing), or undefined when it can. */
  readonly unavailable?: (() => string | undefined) | undefined
  /** Runs once in the bench's own process before any round (e.g. builds a bundle its runs load). */
  readonly prepare?: (() => Promise<void>) | undefined
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
