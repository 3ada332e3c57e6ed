/**
 * The metrics every executor records, as effect `Metric`s.
 *
 * Each metric carries the attribute `executor` (the executor's `name` option),
 * so several executors in one program keep separate series. Metrics are on by
 * default and can be turned off with the executor option `metrics: false`;
 * the hot path then does no metric work at all.
 *
 * | metric                              | kind      | attributes             |
 * | ----------------------------------- | --------- | ---------------------- |
 * | `effect_futures_tasks_submitted`    | counter   | executor               |
 * | `effect_futures_tasks_settled`      | counter   | executor, outcome      |
 * | `effect_futures_queue_depth`        | gauge     | executor               |
 * | `effect_futures_queue_wait_ms`      | histogram | executor               |
 * | `effect_futures_task_run_ms`        | histogram | executor               |
 *
 * `outcome` is `succeeded`, `failed` or `cancelled`. Queue wait is measured
 * from admission to the start on a slot; run time from the start to the
 * settlement (cancelled-while-queued tasks record no run time).
 *
 * @since 0.1.0
 */
import * as Metric from "effect/Metric"

/**
 * The metrics of one executor.
 *
 * @category models
 * @since 0.1.0
 */
export interface ExecutorMetrics {
  readonly submitted: Metric.Counter<number>
  readonly succeeded: Metric.Counter<number>
  readonly failed: Metric.Counter<number>
  readonly cancelled: Metric.Counter<number>
  readonly queueDepth: Metric.Gauge<number>
  readonly queueWait: Metric.Histogram<number>
  readonly runTime: Metric.Histogram<number>
}

/**
 * Millisecond histogram boundaries: 0.01 ms to ~5.6 minutes, doubling.
 *
 * @category constants
 * @since 0.1.0
 */
export const boundaries: ReadonlyArray<number> = Metric.exponentialBoundaries({ start: 0.01, factor: 2, count: 26 })

/**
 * The metrics of the executor named `executor`, to read with `Metric.value`.
 *
 * **Example** (Reading an executor's counters)
 *
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { ExecutorMetrics } from "effect-futures"
 *
 * const submitted = Metric.value(ExecutorMetrics.forExecutor("io").submitted)
 * //    ^? Effect<CounterState<number>>
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const forExecutor = (executor: string): ExecutorMetrics => {
  const attributes = { executor }
  const settled = (outcome: string) =>
    Metric.counter("effect_futures_tasks_settled", {
      description: "Tasks settled, by outcome",
      attributes: { executor, outcome },
      incremental: true
    })
  return {
    submitted: Metric.counter("effect_futures_tasks_submitted", {
      description: "Tasks admitted by the executor",
      attributes,
      incremental: true
    }),
    succeeded: settled("succeeded"),
    failed: settled("failed"),
    cancelled: settled("cancelled"),
    queueDepth: Metric.gauge("effect_futures_queue_depth", { description: "Tasks waiting for a slot", attributes }),
    queueWait: Metric.histogram("effect_futures_queue_wait_ms", {
      description: "Time from admission to start, in milliseconds",
      attributes,
      boundaries
    }),
    runTime: Metric.histogram("effect_futures_task_run_ms", {
      description: "Time from start to settlement, in milliseconds",
      attributes,
      boundaries
    })
  }
}
