// Helpers shared by the model-based tests: fast-check parameters from the
// environment, describing an Exit the way the model describes outcomes, and
// recorders for errors that escape everything.
import * as Cause from "effect/Cause"
import * as Exit from "effect/Exit"
import {
  BrokenExecutorError,
  CancelledError,
  ExecutorShutdownError,
  QueueFullError,
  WorkerCrashedError
} from "../../src/ExecutorError.ts"
import type { Outcome } from "./pool.ts"

/**
 * fast-check parameters: `MODEL_RUNS` sequences (default `defaultRuns`);
 * `MODEL_SEED` and `MODEL_PATH` replay a reported failure (fast-check prints
 * both: `{ seed: …, path: "…" }`).
 */
export const parameters = (defaultRuns: number, runTimeoutMs: number) => {
  const seed = process.env.MODEL_SEED
  const path = process.env.MODEL_PATH
  return {
    numRuns: Number(process.env.MODEL_RUNS ?? defaultRuns),
    /** a sequence that hangs fails (and shrinks) instead of hanging the file */
    timeout: runTimeoutMs,
    ...(seed === undefined || seed === "" ? {} : { seed: Number(seed) }),
    ...(path === undefined || path === "" ? {} : { path, endOnFailure: true })
  }
}

/** Describes an error as the model does. */
export const describeError = (error: unknown): Outcome => {
  if (error instanceof CancelledError) return "cancelled"
  if (Cause.isTimeoutError(error)) return "timeout"
  if (error instanceof WorkerCrashedError) return "crashed"
  if (error instanceof BrokenExecutorError) return "broken"
  if (error instanceof QueueFullError || error instanceof ExecutorShutdownError) return error._tag
  return `fail:${JSON.stringify(error)}`
}

/** Describes an Exit as the model describes outcomes (`ok:…`, `fail:…`, `die:…`, `cancelled`, …). */
export const describeExit = (exit: Exit.Exit<unknown, unknown>): Outcome => {
  if (Exit.isSuccess(exit)) return `ok:${JSON.stringify(exit.value)}`
  const error = Cause.findError(exit.cause)
  if (error._tag === "Success") return describeError(error.success)
  if (Cause.hasDies(exit.cause)) {
    const defect = Cause.squash(exit.cause)
    return `die:${defect instanceof Error ? defect.message : String(defect)}`
  }
  return Cause.hasInterrupts(exit.cause) ? "interrupted" : `cause:${String(exit.cause)}`
}

/**
 * Records unhandled rejections and uncaught exceptions in this process while
 * installed; `take()` returns and clears what was recorded.
 */
export const recorders = () => {
  const seen: Array<string> = []
  const onRejection = (reason: unknown) => seen.push(`unhandledRejection: ${String(reason)}`)
  const onException = (error: unknown) => seen.push(`uncaughtException: ${String(error)}`)
  return {
    install: () => {
      process.on("unhandledRejection", onRejection)
      process.on("uncaughtException", onException)
    },
    uninstall: () => {
      process.off("unhandledRejection", onRejection)
      process.off("uncaughtException", onException)
    },
    take: () => seen.splice(0)
  }
}

/**
 * Counts what the sequences exercised (outcomes, observer results, …); with
 * `MODEL_STATS=1` the test files print the table after their runs.
 */
export const coverage = () => {
  const counts = new Map<string, number>()
  return {
    add: (label: string) => {
      counts.set(label, (counts.get(label) ?? 0) + 1)
    },
    print: (title: string) => {
      if (process.env.MODEL_STATS === undefined) return
      const rows = Array.from(counts).sort(([a], [b]) => a.localeCompare(b))
      console.log(`${title}\n${rows.map(([k, v]) => `  ${k}: ${v}`).join("\n")}`)
    }
  }
}
