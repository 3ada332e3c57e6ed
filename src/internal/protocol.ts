// The wire protocol between the CPU executor and its worker threads (v2):
// numeric tags in flat arrays, structured-cloned, plus one word of shared
// memory per task that says where the task is. Both sides import this
// module; it imports nothing, so the worker pays nothing to load it.
//
//   parent → worker                                    worker → parent
//   [RUN, id, task, payload, index, word, timed]       [READY]
//   [RUN_CHUNK, id, task, payloads, index, word, timed] [INIT_FAILED, defect]
//   [RUN_BATCH, [tag, id, task, payload, index, word, timed, …]]
//                                                      [RESULTS, [id, kind, value, …]]
//   [INTERRUPT, id]                                    [STARTED, id]   (tasks with a timeout)
//   [CLOSE]
//
// Task state, shared: each worker has a ring of Int32 words (`WorkerData.states`),
// one per task it holds, at the `index` sent with the task. A word is
// `generation * 8 + state`; `word` in RUN is the task's word in state SENT.
// Only `Atomics.compareExchange` moves a task on, so the parent and the worker
// never both win it:
//
//                   worker: start                    worker: finished
//        SENT ─────────────────────────▶ STARTED ─────────────────────────▶ DONE
//          │  (the CAS fails: skip it, it was dropped)      (result sent before the next start)
//          └──────────────▶ DROPPED
//            parent: cancel or timeout of a task not started (settled at once, nobody terminated)
//
// The parent reuses an index only once its task has left the worker's hands
// (its result arrived, or it was dropped), with the next generation: a
// dropped task's message still in the worker's queue then fails its CAS.
// When a worker dies, the words say exactly which of its tasks never started
// (SENT: they run elsewhere, in order), which started (STARTED or DONE
// without a result: WorkerCrashedError) and which were dropped.
//
// Results are not held: a finished result goes out before the worker starts
// its next task; results that finish together (async tasks in one turn) go
// in one message, flushed within a microtask.
//
// An idle worker polls its port (`receiveMessageOnPort`) for `idleSpinMs`
// before its thread sleeps in the event loop, and the parent, after posting
// a task to an idle worker, keeps its own event loop from sleeping until the
// result comes (at most as long), so a steady stream of round trips never
// wakes a halted CPU on either side; what the worker takes while polling is
// handled as the event loop would, in order (see `workerMain` and `awake`).

/** @internal */
export const RUN = 0
/** @internal */
export const RUN_CHUNK = 1
/** @internal */
export const INTERRUPT = 2
/** @internal */
export const CLOSE = 3
/** Several RUN / RUN_CHUNK in one message: [RUN_BATCH, [tag, id, task, payload, index, word, timed, …]]. @internal */
export const RUN_BATCH = 4
/** Fields per job in a RUN_BATCH. @internal */
export const JOB_FIELDS = 7

/** @internal */
export const READY = 0
/** @internal */
export const INIT_FAILED = 1
/** @internal */
export const RESULTS = 2
/** A task with a timeout has started: its timeout counts from now. @internal */
export const STARTED = 3

// task states (the low 3 bits of a word)
/** Sent to the worker, not started: the parent may still drop it. @internal */
export const SENT = 1
/** The worker started it. @internal */
export const STARTED_STATE = 2
/** The worker finished it; its result is on its way. @internal */
export const DONE = 3
/** The parent dropped it before it started (cancel, timeout): the worker skips it. @internal */
export const DROPPED = 4

/** The state of a word. @internal */
export const stateOf = (word: number): number => word & 7

/** The word of the next generation of an index, in state SENT. @internal */
export const nextSent = (word: number): number => ((((word >>> 3) + 1) & 0xfffffff) << 3) | SENT

// result kinds
/** The handler succeeded; value is the encoded success (an array of them for a chunk). @internal */
export const SUCCESS = 0
/** The handler failed with its typed error; value is the encoded error. @internal */
export const FAILURE = 1
/** The handler died or threw; value is the encoded defect. @internal */
export const DEFECT = 2
/** The task was interrupted while running; value is unused. @internal */
export const INTERRUPTED = 3
/** A payload, success or error could not be decoded or encoded; value is [phase, reason]. @internal */
export const CODEC_ERROR = 4
/** No handler is registered for the task name; value is the name. @internal */
export const UNKNOWN_TASK = 5
/**
 * A chunk stopped at a failing item; value is [successes, kind, value]: the
 * encoded results of the items before it, and that item's failure. @internal
 */
export const CHUNK_PARTIAL = 6

/** What the parent passes as the worker's `workerData`. @internal */
export interface WorkerData {
  readonly $effectFutures: 2
  /** The user's worker entry module, which `workerBoot` loads. */
  readonly entry: string
  /** Turn on Node's module compile cache before loading it. */
  readonly compileCache: boolean
  readonly workerId: number
  readonly concurrency: number
  readonly userData: unknown
  /** The task-state ring, shared with the parent (see above). */
  readonly states: Int32Array
  /** How long an idle worker polls its port before its thread sleeps (ms; 0: never; see `workerMain`). */
  readonly idleSpinMs: number
}
