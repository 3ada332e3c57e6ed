// The soak run's CPU task, shared by the parent (run.ts) and the worker entry
// (worker.ts). The payload is one number, `seq * 8 + kind`: a keyword schema
// keeps the codec off the interpreter, so the soak measures the executor, not
// schema work.
import * as Schema from "effect/Schema"
import * as Task from "../../src/Task.ts"

/** The typed error of the soak's failing tasks: it crosses the thread boundary and arrives as this class. */
export class SoakFailure extends Schema.TaggedError<SoakFailure>()("SoakFailure", { seq: Schema.Number }) {
  override get message() {
    return `task ${this.seq} failed on purpose`
  }
}

/** What the worker does with a payload (the low 3 bits). */
export const Kind = {
  /** succeed with seq */
  succeed: 0,
  /** fail with SoakFailure { seq } */
  fail: 1,
  /** die with Error(`die ${seq}`) */
  die: 2,
  /** interrupt itself */
  interrupt: 3,
  /** mark started, then wait forever without blocking (interruptible: cancels and timeouts stop it in the worker) */
  hang: 4,
  /** mark started, then block the thread in a synchronous loop (only terminating the worker stops it) */
  spin: 5,
  /** process.exit(3): the worker dies */
  crash: 6
} as const

export const encode = (seq: number, kind: number): number => seq * 8 + kind

export const Soak = Task.make("Soak", { payload: Schema.Number, success: Schema.Number, error: SoakFailure })

/**
 * Shared with every worker through `workerData` (a SharedArrayBuffer is
 * shared, not copied). `started[seq & startedMask]` is set to `seq + 1` when a
 * hang or spin task starts in a worker, so the parent can cancel it while it
 * really runs; `counters` counts what the workers saw.
 */
export interface Shared {
  readonly started: Int32Array
  readonly counters: Int32Array
}

export const startedMask = 0xffff

export const Counter = {
  /** worker threads that loaded the entry module */
  workersStarted: 0,
  /** hang tasks that started in a worker */
  hangStarted: 1,
  /** hang tasks interrupted inside a worker (their finalizer ran there) */
  hangInterrupted: 2,
  /** spin tasks that started in a worker */
  spinStarted: 3
} as const

export const makeShared = (): Shared => ({
  started: new Int32Array(new SharedArrayBuffer(4 * (startedMask + 1))),
  counters: new Int32Array(new SharedArrayBuffer(4 * 8))
})
