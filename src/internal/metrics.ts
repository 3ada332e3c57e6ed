// The dispatcher's metrics hooks. The dispatcher holds a `Recorder | undefined`
// and calls it with `recorder?.x(...)`, so an executor with metrics off pays
// one undefined check per hook and nothing else.
import type * as Context from "effect/Context"
import * as ExecutorMetrics from "../ExecutorMetrics.ts"
import type { FutureImpl } from "./future.ts"
import { CANCELLED, FAILED, SUCCEEDED } from "./future.ts"

/** @internal */
export interface Recorder {
  readonly submitted: (future: FutureImpl<any, any>) => void
  /** The dispatcher has set `future.waited`. */
  readonly started: (future: FutureImpl<any, any>) => void
  /** `ranMs` is -1 for a future that never started. */
  readonly settled: (future: FutureImpl<any, any>, outcome: number, ranMs: number) => void
  readonly queueDepth: (depth: number) => void
}

/** @internal */
export const make = (executor: string, context: Context.Context<never>): Recorder => {
  const m = ExecutorMetrics.forExecutor(executor)
  return {
    submitted() {
      m.submitted.updateUnsafe(1, context)
    },
    started(future) {
      m.queueWait.updateUnsafe(future.waited, context)
    },
    settled(_future, outcome, ranMs) {
      if (ranMs >= 0) m.runTime.updateUnsafe(ranMs, context)
      if (outcome === SUCCEEDED) m.succeeded.updateUnsafe(1, context)
      else if (outcome === FAILED) m.failed.updateUnsafe(1, context)
      else if (outcome === CANCELLED) m.cancelled.updateUnsafe(1, context)
    },
    queueDepth(depth) {
      m.queueDepth.updateUnsafe(depth, context)
    }
  }
}
