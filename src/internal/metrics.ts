// The dispatcher's metrics. Zero cost when nobody reads them: counters and the
// queue-depth gauge are registered with `get` hooks that read the dispatcher's
// own counters when a metric is read, so the hot path updates nothing for
// them. The two histograms (queue wait, run time) keep effect's own histogram
// state and are updated directly, with no registry look-up per task.
import type * as Context from "effect/Context"
import * as Metric from "effect/Metric"
import * as ExecutorMetrics from "../ExecutorMetrics.ts"

/** @internal */
export interface Recorder {
  /** A task started after `waitedMs` in the queue. */
  readonly started: (waitedMs: number) => void
  /** `ranMs` is -1 for a future that never started. */
  readonly settled: (ranMs: number) => void
}

/** What the registered counters read. @internal */
export interface Counters {
  readonly submitted: number
  readonly succeeded: number
  readonly failed: number
  readonly cancelled: number
  readonly queued: number
}

/**
 * Registers the executor's metrics in the context's registry. A later
 * executor with the same name takes the series over.
 * @internal
 */
export const make = (executor: string, context: Context.Context<never>, counters: Counters): Recorder => {
  const m = ExecutorMetrics.forExecutor(executor)
  const counter = (metric: Metric.Counter<number>, read: () => number) =>
    Metric.registerUnsafe(metric, context, {
      get: () => ({ count: read(), incremental: true }),
      update: noop,
      modify: noop
    })
  counter(m.submitted, () => counters.submitted)
  counter(m.succeeded, () => counters.succeeded)
  counter(m.failed, () => counters.failed)
  counter(m.cancelled, () => counters.cancelled)
  Metric.registerUnsafe(m.queueDepth, context, { get: () => ({ value: counters.queued }), update: noop, modify: noop })
  const histogram = (metric: Metric.Histogram<number>) => {
    // effect's histogram state and bucketing, updated without a registry look-up
    const hooks = (
      metric as unknown as { createHooks(): Metric.Metric.Hooks<number, Metric.HistogramState> }
    ).createHooks()
    Metric.registerUnsafe(metric, context, hooks)
    return hooks.update
  }
  const queueWait = histogram(m.queueWait)
  const runTime = histogram(m.runTime)
  return {
    started(waitedMs) {
      queueWait(waitedMs, context)
    },
    settled(ranMs) {
      if (ranMs >= 0) runTime(ranMs, context)
    }
  }
}

const noop = () => {}
