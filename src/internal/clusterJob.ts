// A cluster job from end to end: the entity both sides share, what the client
// sends, what the runner runs and how its outcome comes back.
//
//   client: encodePayload (task schema) ──▶ entity call run({ id, task, payload, chunk })
//   runner: CpuExecutor.submit(passthrough task, payload) ──▶ worker thread decodes, runs, encodes
//   runner: reply [kind, value] (kinds of protocol.ts, plus EXECUTOR) ──▶ client: decodeReply (task schema)
//
// The runner never decodes a payload or a result: it forwards the encoded
// values to its worker threads under a "passthrough" task of the same name
// (all schemas Unknown), so it needs no task definitions, only the worker
// entry module. A runner's own failures (its worker crashed, its executor is
// broken or shutting down) come back as EXECUTOR, encoded with their schemas,
// and arrive as the same classes.
//
// Cancel: the client calls `cancel({ id })` on the same entity; it interrupts
// the run's fiber on the runner (which cancels the task on its worker and
// waits until it has stopped) and returns once that is done, after which the
// run replies INTERRUPTED. So a client's `cancel` returns after the remote
// finalizers ran, which interrupting the call alone does not give.
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as ClusterSchema from "effect/cluster/ClusterSchema"
import * as Entity from "effect/cluster/Entity"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Rpc from "effect/rpc/Rpc"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { CpuExecutorShape } from "../CpuExecutor.ts"
import {
  BrokenExecutorError,
  CancelledError,
  ExecutorShutdownError,
  QueueFullError,
  TaskCodecError,
  WorkerCrashedError
} from "../ExecutorError.ts"
import * as Future from "../Future.ts"
import * as Task from "../Task.ts"
import * as codec from "./codec.ts"
import * as cpuJob from "./cpuJob.ts"
import { PartialChunk } from "./partialChunk.ts"
import * as protocol from "./protocol.ts"

/** The runner's own failure (not the task's): value is the encoded error. @internal */
export const EXECUTOR = 100
/** The task ran longer than its timeout (counted on the runner, from when its worker started it). @internal */
export const TIMEOUT = 101

/** The entity every runner registers and every client calls. @internal */
const runPayload = {
  id: Schema.String,
  task: Schema.String,
  payload: Schema.Unknown,
  chunk: Schema.Boolean,
  /** Milliseconds, -1 for none. */
  timeout: Schema.Number
}
const reply = Schema.Tuple([Schema.Number, Schema.Unknown])

/**
 * The entity every runner registers and every client calls. `run` is
 * volatile (resent to the new owner of a shard if its runner dies);
 * `runPersisted` is stored before it is delivered (it survives a client or
 * runner crash, and is replayed to whichever runner owns the shard), and its
 * `id` is its primary key: a second call with the same id on the same entity
 * returns the first call's reply (or waits for it) instead of running again.
 * @internal
 */
export const TaskEntity = Entity.make("effect-futures/Task", [
  Rpc.make("run", { payload: runPayload, success: reply }),
  Rpc.make("runPersisted", { payload: runPayload, success: reply, primaryKey: (p) => p.id }).annotate(
    ClusterSchema.Persisted,
    true
  ),
  Rpc.make("cancel", { payload: { id: Schema.String }, success: Schema.Boolean })
])

/** What `run` and `runPersisted` carry. @internal */
export interface RunPayload {
  readonly id: string
  readonly task: string
  readonly payload: unknown
  readonly chunk: boolean
  readonly timeout: number
}

/** A reply: [kind, value]. @internal */
export type Reply = readonly [kind: number, value: unknown]

const RunnerFailure = Schema.Union([
  WorkerCrashedError,
  BrokenExecutorError,
  ExecutorShutdownError,
  QueueFullError,
  TaskCodecError
])
const encodeRunnerFailure = Schema.encodeUnknownSync(RunnerFailure)
const decodeRunnerFailure = Schema.decodeUnknownSync(RunnerFailure)

// ---------------------------------------------------------------------------
// client side
// ---------------------------------------------------------------------------

/**
 * The exit of a job from its reply (any kind but INTERRUPTED, which the slot
 * settles as cancelled or timed out).
 * @internal
 */
export const decodeReply = (task: Task.AnyTask, chunk: boolean, reply: Reply): Exit.Exit<unknown, unknown> => {
  const [kind, value] = reply
  if (kind === EXECUTOR) return runnerFailure(value)
  if (kind === TIMEOUT) return timedOut()
  if (kind === protocol.CHUNK_PARTIAL) {
    const [successes, failedKind, failedValue] = value as [ReadonlyArray<unknown>, number, unknown]
    if (failedKind !== EXECUTOR && failedKind !== TIMEOUT) return cpuJob.decodeResult(task, chunk, kind, value)
    const values = cpuJob.decodeResult(task, true, protocol.SUCCESS, successes)
    if (Exit.isFailure(values)) return values
    const failure = failedKind === EXECUTOR ? runnerFailure(failedValue) : timedOut()
    return Exit.fail(new PartialChunk(values.value as Array<unknown>, failure))
  }
  return cpuJob.decodeResult(task, chunk, kind, value)
}

const timedOut = (): Exit.Failure<never, unknown> => Exit.fail(new Cause.TimeoutError()) as Exit.Failure<never, unknown>

const runnerFailure = (value: unknown): Exit.Failure<never, unknown> => {
  try {
    return Exit.fail(decodeRunnerFailure(value)) as Exit.Failure<never, unknown>
  } catch (error) {
    return Exit.die(error) as Exit.Failure<never, unknown>
  }
}

// ---------------------------------------------------------------------------
// runner side
// ---------------------------------------------------------------------------

/** What a runner keeps per call it runs. */
interface Running {
  readonly fiber: Fiber.Fiber<Reply>
}

/** Cancels that arrived before their run (bounded: a run that never comes does not leak). */
const EARLY_CANCELS = 4096

/**
 * The entity's handlers on a runner: each run goes to the runner's CPU
 * executor under a passthrough task.
 * @internal
 */
export const handlers = (cpu: CpuExecutorShape) => {
  const passthrough = new Map<string, Task.AnyTask>()
  const taskNamed = (name: string): Task.AnyTask => {
    let task = passthrough.get(name)
    if (task === undefined) {
      task = Task.make(name, { payload: Schema.Unknown, success: Schema.Unknown, error: Schema.Unknown })
      passthrough.set(name, task)
    }
    return task
  }
  const running = new Map<string, Running>()
  const early = new Set<string>()

  const runOne = (task: Task.AnyTask, payload: unknown, timeout: number): Effect.Effect<Reply> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(Effect.result(cpu.submit(task, payload, timeout < 0 ? undefined : { timeout })), (submitted) => {
        if (submitted._tag === "Failure") return Effect.succeed(failureReply(submitted.failure))
        const future = submitted.success
        return restore(Future.exit(future)).pipe(
          Effect.onInterrupt(() => Future.cancel(future)),
          Effect.map(exitReply)
        )
      })
    )

  const runChunk = (task: Task.AnyTask, payloads: ReadonlyArray<unknown>, timeout: number): Effect.Effect<Reply> => {
    const values: Array<unknown> = []
    return Effect.map(
      Effect.exit(
        Stream.runForEach(
          cpu.map(task, payloads, {
            chunksize: Math.max(1, payloads.length),
            taskTimeout: timeout < 0 ? undefined : timeout
          }),
          (value) =>
            Effect.sync(() => {
              values.push(value)
            })
        )
      ),
      (exit): Reply => {
        if (Exit.isSuccess(exit)) return [protocol.SUCCESS, values]
        const reply = exitReply(exit)
        if (values.length === 0 || reply[0] === protocol.INTERRUPTED) return reply
        return [protocol.CHUNK_PARTIAL, [values, reply[0], reply[1]]]
      }
    )
  }

  const run = (request: { readonly payload: RunPayload }): Effect.Effect<Reply> =>
    Effect.suspend(() => {
      const { id, task, payload, chunk, timeout } = request.payload
      if (early.delete(id)) return Effect.succeed<Reply>([protocol.INTERRUPTED, null])
      const work = chunk
        ? runChunk(taskNamed(task), Array.isArray(payload) ? payload : [], timeout)
        : runOne(taskNamed(task), payload, timeout)
      return Effect.uninterruptibleMask((restore) =>
        Effect.gen(function* () {
          const fiber = yield* Effect.forkDetach(work, { startImmediately: true })
          running.set(id, { fiber })
          const exit = yield* restore(Fiber.await(fiber)).pipe(
            Effect.onInterrupt(() => Fiber.interrupt(fiber)),
            Effect.ensuring(Effect.sync(() => running.delete(id)))
          )
          return Exit.isSuccess(exit) ? exit.value : ([protocol.INTERRUPTED, null] as Reply)
        })
      )
    })

  return TaskEntity.of({
    run,
    runPersisted: run,
    cancel: (request) =>
      Effect.suspend(() => {
        const id = request.payload.id
        const entry = running.get(id)
        if (entry === undefined) {
          if (early.size >= EARLY_CANCELS) early.delete(early.values().next().value!)
          early.add(id)
          return Effect.succeed(false)
        }
        return Effect.as(Fiber.interrupt(entry.fiber), true)
      })
  })
}

/**
 * The runner's entity layer, serving on `cpu`.
 * @internal
 */
export const entityLayer = (cpu: CpuExecutorShape) =>
  TaskEntity.toLayer(handlers(cpu), {
    concurrency: "unbounded",
    mailboxCapacity: "unbounded",
    // a failed task is a reply, never a reason to restart the entity
    disableFatalDefects: true
  })

/** The reply for the exit of a task the runner's CPU executor ran. */
const exitReply = (exit: Exit.Exit<unknown, unknown>): Reply => {
  if (Exit.isSuccess(exit)) return [protocol.SUCCESS, exit.value]
  if (Cause.hasInterruptsOnly(exit.cause)) return [protocol.INTERRUPTED, null]
  const error = Cause.findError(exit.cause)
  if (error._tag === "Success") return failureReply(error.success)
  return [protocol.DEFECT, codec.encodeDefect(Cause.squash(exit.cause))]
}

/** A failure: the task's own (encoded already by the worker), or the runner's. */
const failureReply = (error: unknown): Reply => {
  if (error instanceof CancelledError) return [protocol.INTERRUPTED, null]
  if (Cause.isTimeoutError(error)) return [TIMEOUT, null]
  if (error instanceof TaskCodecError) return [protocol.CODEC_ERROR, [error.phase, error.reason]]
  if (
    error instanceof WorkerCrashedError ||
    error instanceof BrokenExecutorError ||
    error instanceof ExecutorShutdownError ||
    error instanceof QueueFullError
  ) {
    return [EXECUTOR, encodeRunnerFailure(error)]
  }
  return [protocol.FAILURE, error]
}
