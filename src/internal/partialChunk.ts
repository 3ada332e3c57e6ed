// How a chunk of `map` items fails part-way, shared by the executor that runs
// chunks (which builds it) and `map` (which unpacks it). Imports nothing that
// a worker thread would have to load.
import type * as Exit from "effect/Exit"

/**
 * How a chunk's future fails when one of its items fails: with the results of
 * the items before it, so `map` emits them before the failure, exactly as
 * with one item per task.
 * @internal
 */
export class PartialChunk {
  readonly values: ReadonlyArray<unknown>
  readonly exit: Exit.Failure<never, unknown>
  constructor(values: ReadonlyArray<unknown>, exit: Exit.Failure<never, unknown>) {
    this.values = values
    this.exit = exit
  }
}
