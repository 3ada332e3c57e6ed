// The workloads (see /work/shared/BENCHMARKS.md): sizes, figures, reference systems and targets.
import type { Params, RunResult, WorkloadId } from "./types.ts"

/** A number derived from one run's measurements. */
export interface Figure {
  readonly key: string
  readonly label: string
  readonly better: "lower" | "higher"
  readonly compute: (result: RunResult, params: Params) => number | undefined
  readonly format: (value: number) => string
  /**
   * A censored figure (a wait bounded by the run): a value at or above this
   * bound means "did not happen within it" and is shown as "> bound".
   */
  readonly bound?: ((params: Params) => number) | undefined
}

/** A figure's value as the report shows it: "> bound" for a censored one. */
export const formatFigure = (figure: Figure, value: number, params: Params): string => {
  const bound = figure.bound?.(params)
  return bound !== undefined && value >= bound ? `> ${figure.format(bound)}` : figure.format(value)
}

/** A target on the ratio `ours / reference` of the primary figure, over the median of per-round ratios. */
export interface Target {
  readonly reference: string
  readonly op: "<=" | "<" | ">="
  readonly ratio: number
  readonly text: string
  /** Set when the reference stands in for a system of another kind (an in-process limiter for a worker pool). */
  readonly proxyFor?: string | undefined
  /** The systems (ids) the target is for; all of ours that run the workload when absent. */
  readonly appliesTo?: ReadonlyArray<string> | undefined
  /** The figure (key) the ratio is taken of; the workload's primary figure when absent. */
  readonly figure?: string | undefined
}

export interface Workload {
  readonly id: WorkloadId
  readonly title: string
  readonly full: Params
  readonly quick: Params
  /** For the smoke test: seconds at most, correctness only. */
  readonly tiny: Params
  /** The first figure is the primary one; ratios and targets use it. */
  readonly figures: ReadonlyArray<Figure>
  readonly references: ReadonlyArray<string>
  readonly targets: ReadonlyArray<Target>
  readonly nodeFlags: ReadonlyArray<string>
  /** Whether the figures are timings, which a disturbed run spoils (memory figures are not). */
  readonly timed: boolean
  /** Runs in the first N rounds only (C2: its waits are long and its figure is not a rate). */
  readonly maxRounds?: number | undefined
  /** Needs the run's PostgreSQL server (bench/run.ts starts one; not in the smoke test). */
  readonly postgres?: boolean | undefined
}

export const metTarget = (target: Target, ratio: number): boolean =>
  target.op === "<=" ? ratio <= target.ratio : target.op === "<" ? ratio < target.ratio : ratio >= target.ratio

const fixed = (digits: number) => (value: number) => value.toFixed(digits)

const si = (value: number): string =>
  value >= 1e6 ? `${(value / 1e6).toFixed(2)}M` : value >= 1e3 ? `${(value / 1e3).toFixed(1)}k` : value.toFixed(0)

const bytes = (value: number): string => Math.round(value).toLocaleString("en-US")

/** W1's ideal wall time: the tasks in waves of `concurrency`, each wave one timer long. */
export const idealSeconds = (params: Params): number =>
  (Math.ceil(params.tasks / params.concurrency) * (params.delayMs ?? 10)) / 1000

const perSecond = (result: RunResult, params: Params): number => params.tasks / (result.elapsedMs / 1000)

const us = (value: number): string => value.toFixed(value < 100 ? 1 : 0)

const ms = (value: number): string => value.toFixed(value < 100 ? 1 : 0)

/** Our CPU executor's systems, and the IoExecutor's (W6 holds both, with different references). */
export const CPU_SYSTEMS: ReadonlyArray<string> = ["effect-futures-cpu", "effect-futures-cpu-tuned"]
export const IO_SYSTEMS: ReadonlyArray<string> = ["effect-futures", "effect-futures-lean"]

const perTask =
  (field: "heapUsed" | "rss") =>
  (result: RunResult, params: Params): number | undefined =>
    result.memoryBefore === undefined || result.memoryAfter === undefined
      ? undefined
      : (result.memoryAfter[field] - result.memoryBefore[field]) / params.tasks

/** The cluster systems over PostgreSQL, the targets of C1. */
export const CLUSTER_PG_SYSTEMS: ReadonlyArray<string> = ["cluster-pg", "cluster-pg-persisted"]

const ms1 = (value: number): string => value.toFixed(value < 10 ? 2 : 1)
const seconds = (value: number): string => (value / 1000).toFixed(value < 10_000 ? 2 : 1)

/** A failover time (ms): absent when not measured, the bound when it passed it (null). */
const failoverFigure = (key: string, label: string, field: "shortestMs" | "defaultsMs"): Figure => ({
  key,
  label,
  better: "lower",
  compute: (result, params) => {
    const ms = result.failover?.[field]
    return ms === undefined ? undefined : (ms ?? params.boundMs ?? 40_000)
  },
  format: seconds,
  bound: (params) => params.boundMs ?? 40_000
})

export const workloads: ReadonlyArray<Workload> = [
  {
    id: "W1",
    title: "I/O fan-out: tasks each awaiting a timer, all submitted then all awaited",
    full: { tasks: 10_000, concurrency: 100, delayMs: 10 },
    quick: { tasks: 2_000, concurrency: 100, delayMs: 10 },
    tiny: { tasks: 60, concurrency: 10, delayMs: 1 },
    figures: [
      {
        key: "overhead_s",
        label: "overhead over ideal (s)",
        better: "lower",
        compute: (result, params) => result.elapsedMs / 1000 - idealSeconds(params),
        format: fixed(3)
      },
      {
        key: "wall_s",
        label: "wall (s)",
        better: "lower",
        compute: (result) => result.elapsedMs / 1000,
        format: fixed(3)
      }
    ],
    references: ["p-limit", "effect-foreach", "python-cf"],
    targets: [
      { reference: "effect-foreach", op: "<=", ratio: 1, text: "overhead ≤ Effect.forEach's" },
      { reference: "p-limit", op: "<", ratio: 1, text: "overhead < p-limit's" }
    ],
    nodeFlags: [],
    timed: true
  },
  {
    id: "W2",
    title: "in-process throughput: no-op tasks, all submitted then all awaited",
    full: { tasks: 200_000, concurrency: 8 },
    quick: { tasks: 20_000, concurrency: 8 },
    tiny: { tasks: 500, concurrency: 8 },
    figures: [
      {
        key: "tasks_per_s",
        label: "tasks/s",
        better: "higher",
        compute: (result, params) => params.tasks / (result.elapsedMs / 1000),
        format: si
      }
    ],
    references: ["p-limit", "effect-foreach", "python-cf"],
    targets: [
      { reference: "p-limit", op: ">=", ratio: 2, text: "≥ 2× p-limit" },
      { reference: "python-cf", op: ">=", ratio: 15, text: "≥ 15× Python" }
    ],
    nodeFlags: [],
    timed: true
  },
  {
    id: "W3",
    title: "tiny CPU tasks through a worker pool: x*x, one task per message",
    full: { tasks: 100_000, concurrency: 2 },
    quick: { tasks: 10_000, concurrency: 2 },
    tiny: { tasks: 300, concurrency: 2 },
    figures: [{ key: "tasks_per_s", label: "tasks/s", better: "higher", compute: perSecond, format: si }],
    references: ["piscina", "python-cf-process", "raw-worker"],
    targets: [
      { reference: "piscina", op: ">=", ratio: 3, text: "≥ 3× piscina" },
      { reference: "raw-worker", op: ">=", ratio: 0.4, text: "≥ 0.4× the raw postMessage baseline" }
    ],
    nodeFlags: [],
    timed: true
  },
  {
    id: "W3c",
    title: "tiny CPU tasks through a worker pool, batched: x*x, 1,000 items per message",
    full: { tasks: 100_000, concurrency: 2, chunksize: 1000 },
    quick: { tasks: 20_000, concurrency: 2, chunksize: 1000 },
    tiny: { tasks: 2_500, concurrency: 2, chunksize: 1000 },
    figures: [{ key: "tasks_per_s", label: "tasks/s", better: "higher", compute: perSecond, format: si }],
    references: ["python-cf-process", "piscina"],
    targets: [
      {
        reference: "python-cf-process",
        op: ">=",
        ratio: 1.2,
        text: "≥ 1.2× Python's map(chunksize=1000)"
      },
      { reference: "piscina", op: ">=", ratio: 1, text: "≥ piscina given arrays of 1000" }
    ],
    nodeFlags: [],
    timed: true
  },
  {
    id: "W4",
    title: "CPU-heavy: pure integer loops of ~100 ms each, speedup over serial in the same process",
    full: { tasks: 16, concurrency: 2, taskMs: 100 },
    quick: { tasks: 4, concurrency: 2, taskMs: 25 },
    tiny: { tasks: 4, concurrency: 2, taskMs: 2 },
    figures: [
      {
        key: "speedup",
        label: "speedup over serial",
        better: "higher",
        compute: (result) => (result.serialMs === undefined ? undefined : result.serialMs / result.elapsedMs),
        format: fixed(3)
      },
      {
        key: "pool_s",
        label: "pool wall (s)",
        better: "lower",
        compute: (result) => result.elapsedMs / 1000,
        format: fixed(3)
      },
      {
        key: "task_ms",
        label: "serial ms/task",
        better: "lower",
        compute: (result, params) => (result.serialMs === undefined ? undefined : result.serialMs / params.tasks),
        format: fixed(1)
      }
    ],
    references: ["piscina", "raw-worker"],
    targets: [{ reference: "piscina", op: ">=", ratio: 0.98, text: "≥ 0.98× piscina's speedup" }],
    nodeFlags: [],
    timed: true
  },
  {
    id: "W5",
    title: "round-trip latency: sequential submit-and-await of one x*x through the worker pool",
    full: { tasks: 5_000, concurrency: 2, processes: 5 },
    quick: { tasks: 500, concurrency: 2, processes: 1 },
    tiny: { tasks: 50, concurrency: 2, processes: 1 },
    figures: [
      {
        key: "p50_us",
        label: "p50 µs",
        better: "lower",
        compute: (result) => result.latencyUs?.p50,
        format: us
      },
      {
        key: "p99_us",
        label: "p99 µs",
        better: "lower",
        compute: (result) => result.latencyUs?.p99,
        format: us
      },
      {
        key: "p50_best_us",
        label: "p50 of the fastest process µs",
        better: "lower",
        compute: (result) =>
          result.perProcess === undefined
            ? result.latencyUs?.p50
            : Math.min(...result.perProcess.map((p) => p.latencyUs.p50)),
        format: us
      },
      {
        key: "spawn_ms",
        label: "spawn → first result ms",
        better: "lower",
        compute: (result) => result.spawnMs,
        format: ms
      }
    ],
    references: ["piscina", "piscina-effect", "raw-worker"],
    targets: [
      { reference: "piscina", op: "<=", ratio: 1, text: "p50 ≤ piscina's" },
      {
        reference: "piscina",
        op: "<=",
        ratio: 1.5,
        text: "spawn → first result ≤ 1.5× piscina's",
        figure: "spawn_ms"
      },
      {
        reference: "piscina-effect",
        op: "<=",
        ratio: 1,
        text: "spawn ≤ piscina-effect's, like for like",
        figure: "spawn_ms"
      }
    ],
    nodeFlags: [],
    timed: true
  },
  {
    id: "W6",
    title: "memory: tasks queued behind 1 busy worker",
    full: { tasks: 100_000, concurrency: 1 },
    quick: { tasks: 5_000, concurrency: 1 },
    tiny: { tasks: 200, concurrency: 1 },
    figures: [
      { key: "heap_b_per_task", label: "heap B/task", better: "lower", compute: perTask("heapUsed"), format: bytes },
      { key: "rss_b_per_task", label: "RSS B/task", better: "lower", compute: perTask("rss"), format: bytes }
    ],
    references: ["p-limit", "p-queue", "piscina"],
    targets: [
      {
        reference: "p-limit",
        op: "<=",
        ratio: 0.5,
        text: "heap ≤ 0.5× piscina's (in-process proxy: p-limit)",
        proxyFor: "piscina",
        appliesTo: IO_SYSTEMS
      },
      { reference: "piscina", op: "<=", ratio: 0.5, text: "heap ≤ 0.5× piscina's", appliesTo: CPU_SYSTEMS }
    ],
    nodeFlags: ["--expose-gc"],
    timed: false
  },
  {
    id: "C1",
    title: "cluster: tiny tasks through a distributed executor or job queue, 64 in flight, 2 worker processes",
    full: { tasks: 2_000, concurrency: 64, roundTrips: 200 },
    quick: { tasks: 500, concurrency: 64, roundTrips: 50 },
    tiny: { tasks: 50, concurrency: 64, roundTrips: 10 },
    figures: [
      { key: "tasks_per_s", label: "tasks/s", better: "higher", compute: perSecond, format: si },
      {
        key: "p50_ms",
        label: "round trip p50 ms",
        better: "lower",
        compute: (result) => (result.latencyUs === undefined ? undefined : result.latencyUs.p50 / 1000),
        format: ms1
      },
      {
        key: "p99_ms",
        label: "round trip p99 ms",
        better: "lower",
        compute: (result) => (result.latencyUs === undefined ? undefined : result.latencyUs.p99 / 1000),
        format: ms1
      }
    ],
    references: ["graphile-worker", "pg-boss", "cpu-ceiling"],
    targets: [
      {
        reference: "graphile-worker",
        op: ">=",
        ratio: 1,
        text: "tasks/s ≥ graphile-worker's",
        appliesTo: CLUSTER_PG_SYSTEMS
      },
      { reference: "pg-boss", op: ">=", ratio: 1, text: "tasks/s ≥ pg-boss's", appliesTo: CLUSTER_PG_SYSTEMS },
      {
        reference: "graphile-worker",
        op: "<=",
        ratio: 1,
        text: "p50 ≤ graphile-worker's",
        appliesTo: CLUSTER_PG_SYSTEMS,
        figure: "p50_ms"
      },
      {
        reference: "pg-boss",
        op: "<=",
        ratio: 1,
        text: "p50 ≤ pg-boss's",
        appliesTo: CLUSTER_PG_SYSTEMS,
        figure: "p50_ms"
      }
    ],
    nodeFlags: [],
    timed: true,
    postgres: true
  },
  {
    id: "C2",
    title: "cluster failover: SIGKILL of the worker process holding a job → the batch completed by the other",
    full: { tasks: 8, concurrency: 2, holdMs: 200, boundMs: 40_000 },
    quick: { tasks: 8, concurrency: 2, holdMs: 200, boundMs: 40_000 },
    tiny: { tasks: 2, concurrency: 2, holdMs: 50, boundMs: 10_000 },
    figures: [
      failoverFigure("shortest_ms", "failover s, shortest setting", "shortestMs"),
      failoverFigure("defaults_ms", "failover s, defaults", "defaultsMs"),
      {
        key: "killed_jobs",
        label: "jobs started on the killed worker",
        better: "lower",
        compute: (result) => result.failover?.killedJobs,
        format: fixed(0)
      }
    ],
    references: ["graphile-worker", "pg-boss"],
    targets: [
      {
        reference: "graphile-worker",
        op: "<",
        ratio: 1,
        text: "failover at defaults < graphile-worker's (theirs censored at the bound)",
        appliesTo: CLUSTER_PG_SYSTEMS,
        figure: "defaults_ms"
      },
      {
        reference: "pg-boss",
        op: "<",
        ratio: 1,
        text: "failover at defaults < pg-boss's (theirs censored at the bound)",
        appliesTo: CLUSTER_PG_SYSTEMS,
        figure: "defaults_ms"
      }
    ],
    nodeFlags: [],
    timed: true,
    maxRounds: 1,
    postgres: true
  }
]

export const workloadById = (id: string): Workload | undefined => workloads.find((workload) => workload.id === id)

/** Why a run's result is wrong (not all tasks ran, readings missing), or undefined when it is right. */
export const checkResult = (workload: Workload, result: RunResult, params: Params): string | undefined => {
  if (result.completed !== params.tasks) return `${result.completed} of ${params.tasks} tasks completed`
  if (!(result.elapsedMs > 0)) return `elapsed time ${result.elapsedMs} ms`
  if (workload.id === "W4" && !(result.serialMs! > 0)) return "no serial time"
  if ((workload.id === "W5" || workload.id === "C1") && result.latencyUs === undefined) return "no latency readings"
  if (workload.id === "C2" && result.failover === undefined) return "no failover readings"
  if (workload.id === "W6") {
    if (result.memoryBefore === undefined || result.memoryAfter === undefined) return "no memory readings"
    if (result.queuedAtMeasure !== undefined && result.queuedAtMeasure !== params.tasks) {
      return `${result.queuedAtMeasure} of ${params.tasks} tasks were queued when memory was read`
    }
  }
  return undefined
}
