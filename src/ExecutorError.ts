/**
 * The typed errors of effect-futures.
 *
 * Every error is a `Schema.TaggedError`, so it is a real `Error` subclass with
 * a `_tag`, it can be matched with `Effect.catchTag`, and it can cross a worker
 * thread boundary and arrive as the same class with its fields.
 *
 * Python's `concurrent.futures` exceptions map onto them one to one:
 *
 * | Python                                   | effect-futures                 |
 * | ---------------------------------------- | ------------------------------ |
 * | `CancelledError`                         | {@link CancelledError}         |
 * | `TimeoutError`                           | effect's `Cause.TimeoutError`  |
 * | `RuntimeError` (submit after shutdown)   | {@link ExecutorShutdownError}  |
 * | `BrokenThreadPool` / `BrokenProcessPool` | {@link BrokenExecutorError}    |
 * | (none: Python queues are unbounded)      | {@link QueueFullError}         |
 * | `ValueError` on bad constructor options  | {@link InvalidOptionsError}    |
 *
 * @since 0.1.0
 */
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

/**
 * The future was cancelled before it produced a result: it was removed from
 * the queue, interrupted while running, or its task interrupted itself.
 *
 * **Example** (Recovering from a cancelled future)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Future } from "effect-futures"
 *
 * declare const future: Future.Future<number>
 * const value = Future.await(future).pipe(
 *   Effect.catchTag("CancelledError", () => Effect.succeed(-1))
 * )
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class CancelledError extends Schema.TaggedError<CancelledError>()("CancelledError", {
  futureId: Schema.Number
}) {
  override get message(): string {
    return `future ${this.futureId} was cancelled`
  }
}

/**
 * The executor has been shut down: it accepts no new work.
 *
 * @category errors
 * @since 0.1.0
 */
export class ExecutorShutdownError extends Schema.TaggedError<ExecutorShutdownError>()("ExecutorShutdownError", {
  executor: Schema.String
}) {
  override get message(): string {
    return `executor "${this.executor}" is shut down: cannot submit new tasks`
  }
}

/**
 * The executor's queue holds `capacity` tasks already and the executor was
 * configured with `whenFull: "fail"`.
 *
 * @category errors
 * @since 0.1.0
 */
export class QueueFullError extends Schema.TaggedError<QueueFullError>()("QueueFullError", {
  executor: Schema.String,
  capacity: Schema.Number
}) {
  override get message(): string {
    return `executor "${this.executor}" queue is full (maxQueue ${this.capacity})`
  }
}

/**
 * The executor is broken and runs no more tasks: a worker initializer failed,
 * or workers crashed more often than the executor allows. Queued and later
 * submissions fail with this error; `reason` and `cause` say why.
 *
 * @category errors
 * @since 0.1.0
 */
export class BrokenExecutorError extends Schema.TaggedError<BrokenExecutorError>()("BrokenExecutorError", {
  executor: Schema.String,
  reason: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {
  override get message(): string {
    return `executor "${this.executor}" is broken: ${this.reason}`
  }
}

/**
 * An executor option is invalid. The layer (or `make`) fails with this error,
 * naming the option and the value it was given.
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidOptionsError extends Schema.TaggedError<InvalidOptionsError>()("InvalidOptionsError", {
  option: Schema.String,
  value: Schema.Unknown,
  expected: Schema.String
}) {
  override get message(): string {
    return `invalid option "${this.option}": expected ${this.expected}, got ${formatValue(this.value)}`
  }
}

/**
 * The worker thread running the task died (it exited, threw an uncaught
 * exception, or ran out of memory). Only the tasks that worker held fail with
 * this error; the worker is replaced.
 *
 * @category errors
 * @since 0.1.0
 */
export class WorkerCrashedError extends Schema.TaggedError<WorkerCrashedError>()("WorkerCrashedError", {
  workerId: Schema.Number,
  exitCode: Schema.optional(Schema.Number),
  reason: Schema.String
}) {
  override get message(): string {
    const code = this.exitCode === undefined ? "" : ` (exit code ${this.exitCode})`
    return `worker ${this.workerId} crashed${code}: ${this.reason}`
  }
}

/**
 * A task's payload or result could not be encoded, decoded or cloned across
 * the worker boundary. Only that future fails; the pool keeps serving.
 *
 * @category errors
 * @since 0.1.0
 */
export class TaskCodecError extends Schema.TaggedError<TaskCodecError>()("TaskCodecError", {
  task: Schema.String,
  phase: Schema.Literals(["payload", "success", "error"]),
  reason: Schema.String
}) {
  override get message(): string {
    return `task "${this.task}": cannot transfer its ${this.phase}: ${this.reason}`
  }
}

/**
 * A cluster call failed for a reason of the cluster, not of the task: its
 * message could not be stored (`PersistenceError`), the target entity's
 * mailbox was full (`MailboxFull`), or it could not be routed. `reason` is
 * the cluster error's tag and `cause` the error itself. Only
 * `ClusterExecutor` futures fail with it.
 *
 * **Example** (Retrying a task whose message could not be stored)
 *
 * ```ts
 * import { Effect, Schedule } from "effect"
 *
 * declare const submitAndAwait: Effect.Effect<number, { readonly _tag: "ClusterError" } | { readonly _tag: "Other" }>
 * const value = submitAndAwait.pipe(
 *   Effect.retry({ while: (e) => e._tag === "ClusterError", schedule: Schedule.spaced("1 second"), times: 3 })
 * )
 * ```
 *
 * @category errors
 * @since 0.3.0
 */
export class ClusterError extends Schema.TaggedError<ClusterError>()("ClusterError", {
  executor: Schema.String,
  task: Schema.String,
  reason: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {
  override get message(): string {
    return `executor "${this.executor}": the cluster call of task "${this.task}" failed: ${this.reason}`
  }
}

/**
 * The errors `submit` can fail with, before any future exists.
 *
 * @category models
 * @since 0.1.0
 */
export type SubmitError = ExecutorShutdownError | QueueFullError | BrokenExecutorError

/**
 * Any error defined by this module.
 *
 * @category models
 * @since 0.1.0
 */
export type ExecutorError =
  | CancelledError
  | ExecutorShutdownError
  | QueueFullError
  | BrokenExecutorError
  | InvalidOptionsError
  | WorkerCrashedError
  | TaskCodecError
  | ClusterError

const tags: ReadonlySet<string> = new Set([
  "CancelledError",
  "ExecutorShutdownError",
  "QueueFullError",
  "BrokenExecutorError",
  "InvalidOptionsError",
  "WorkerCrashedError",
  "TaskCodecError",
  "ClusterError"
])

/**
 * Tells whether a value is one of this module's errors.
 *
 * **Example** (Separating executor errors from a task's own errors)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { ExecutorError, Future } from "effect-futures"
 *
 * declare const future: Future.Future<number, Error>
 * const value = Future.await(future).pipe(
 *   Effect.catchIf(ExecutorError.isExecutorError, (error) => Effect.succeed(error._tag === "CancelledError" ? 0 : -1))
 * )
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isExecutorError = (u: unknown): u is ExecutorError =>
  Predicate.hasProperty(u, "_tag") && typeof u._tag === "string" && tags.has(u._tag) && u instanceof Error

// ---------------------------------------------------------------------------
// internal
// ---------------------------------------------------------------------------

const formatValue = (value: unknown): string => {
  if (typeof value === "string") return JSON.stringify(value)
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") return String(value)
  if (value === undefined || value === null) return String(value)
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return Object.prototype.toString.call(value)
  }
}
