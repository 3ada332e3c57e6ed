// The wire protocol between the CPU executor and its worker threads: numeric
// tags in flat arrays, structured-cloned. Both sides import this module; it
// imports nothing, so the worker pays nothing to load it.
//
//   parent → worker                         worker → parent
//   [RUN, id, task, payload]                [READY]
//   [RUN_CHUNK, id, task, payloads]         [INIT_FAILED, defect]
//   [RUN_BATCH, [tag, id, task, payload, …]] [RESULTS, [id, kind, value, id, kind, value, …]]
//   [INTERRUPT, id]
//   [CLOSE]
//
// Both directions batch: the parent sends the tasks it hands one worker in
// the same turn in one message, and a worker sends the results it has at the
// end of each turn in one message.

/** @internal */
export const RUN = 0
/** @internal */
export const RUN_CHUNK = 1
/** @internal */
export const INTERRUPT = 2
/** @internal */
export const CLOSE = 3
/** Several RUN / RUN_CHUNK in one message: [RUN_BATCH, [tag, id, task, payload, tag, id, …]]. @internal */
export const RUN_BATCH = 4

/** @internal */
export const READY = 0
/** @internal */
export const INIT_FAILED = 1
/** @internal */
export const RESULTS = 2

// result kinds
/** The handler succeeded; value is the encoded success (an array of them for a chunk). @internal */
export const SUCCESS = 0
/** The handler failed with its typed error; value is the encoded error. @internal */
export const FAILURE = 1
/** The handler died or threw; value is the encoded defect. @internal */
export const DEFECT = 2
/** The task was interrupted before or while running; value is unused. @internal */
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
  readonly $effectFutures: 1
  readonly workerId: number
  readonly concurrency: number
  readonly userData: unknown
  /**
   * Shared with the parent: [0] counts the tasks this worker has taken from
   * what it was sent (started, or dropped when interrupted before starting),
   * in arrival order. When the worker dies, the parent knows that the last
   * `sent - taken` tasks it sent never started, and runs them elsewhere.
   */
  readonly taken?: Int32Array
}
