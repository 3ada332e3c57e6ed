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
import * as Future from "../../src/Future.ts"
import type { FutureImpl } from "../../src/internal/future.ts"
import { type Entry, isSettled, type Outcome } from "./pool.ts"

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

/** A future's Exit once it has settled (read without waiting). */
export const exitOf = (future: Future.Future<unknown, unknown>) =>
  (future as unknown as FutureImpl<unknown, unknown>).exit as Exit.Exit<unknown, unknown> | undefined

/** What a task's body did, as started/completed/interrupted. */
export interface BodyFlags {
  readonly started: boolean
  readonly completed: boolean
  readonly interrupted: boolean
}

/** Flags as `started/completed/interrupted`. */
export const showFlags = (f: BodyFlags) => `${f.started}/${f.completed}/${f.interrupted}`

/** The flags the model expects of an entry's body, shown as `showFlags` does. */
export const expectedFlags = (e: Entry) =>
  showFlags({ started: e.started, completed: e.state === "succeeded", interrupted: e.interrupted })

/** One future under test, as both model tests track it. */
export interface Tracked {
  readonly model: Entry
  readonly future: Future.Future<number, number>
  readonly callbacks: number
  readonly cancelledTrue: boolean
}

/**
 * Compares every tracked future with its model entry: state and outcome, what
 * its body did, its done-callback count (1 once settled), and that `cancel`
 * returning true means the body never completed. Adds what differs to `problems`.
 */
export const compareFutures = <H extends Tracked>(
  handles: Iterable<[number, H]>,
  flagsOf: (h: H) => BodyFlags,
  problems: Array<string>
): void => {
  for (const [k, h] of handles) {
    const e = h.model
    const state = Future.stateUnsafe(h.future)
    const exit = exitOf(h.future)
    const outcome = exit === undefined ? undefined : describeExit(exit)
    if (state !== e.state || outcome !== e.outcome) {
      problems.push(`#${k} (${e.spec.kind}) is ${state} ${outcome ?? ""}, model ${e.state} ${e.outcome ?? ""}`)
    }
    const actual = flagsOf(h)
    if (showFlags(actual) !== expectedFlags(e)) {
      problems.push(
        `#${k} (${e.spec.kind}) body started/completed/interrupted ${showFlags(actual)}, model ${expectedFlags(e)}`
      )
    }
    if (h.callbacks !== (isSettled(e) ? 1 : 0)) problems.push(`#${k} done-callbacks ran ${h.callbacks} times`)
    if (h.cancelledTrue && actual.completed) problems.push(`#${k}: cancel returned true but its body completed`)
  }
}
