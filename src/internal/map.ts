// `map`, written once for every executor against a submit function (Python's
// `Executor.map`): results in input order, the first failure in input order
// fails the stream, and however the stream ends every unfinished task it
// submitted is cancelled.
import type * as Arr from "effect/Array"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import type { MapOptions } from "../Executor.ts"
import type { CancelledError, SubmitError } from "../ExecutorError.ts"
import type { Future } from "../Future.ts"
import * as future_ from "./future.ts"
import type { FutureImpl } from "./future.ts"
import { invalid } from "./options.ts"
import { PartialChunk } from "./partialChunk.ts"
import { fromPullScoped } from "./stream.ts"
import * as timeout_ from "./timeout.ts"

/**
 * Python's `Executor.map`, written once against a submit function: results
 * in input order, the first failure in input order fails the stream, and
 * however the stream ends every unfinished task it submitted is cancelled.
 * With chunks (`expand`), the results of a failing chunk's items before its
 * failing one are emitted first, then the failure (Python loses the chunk).
 * @internal
 */
export const map = <I, A, E, R>(
  items: Iterable<I>,
  /**
   * Submits one item. It must call `track` with the item's future when it
   * creates it, before admitting it, in the same synchronous step: once
   * admitted, the future is the stream's to cancel even if the stream is
   * interrupted before `submit` returns it.
   */
  submit: (item: I, track: (future: Future<A, E>) => void) => Effect.Effect<Future<A, E>, SubmitError, R>,
  options: MapOptions | undefined,
  /** Each future's value is an array (a chunk of results): emit its elements. */
  expand = false
): Stream.Stream<A, E | CancelledError | SubmitError | Cause.TimeoutError, R> =>
  fromPullScoped<A, E | CancelledError | SubmitError | Cause.TimeoutError | Cause.Done, R, SubmitError, R>((scope) =>
    Effect.gen(function* () {
      const millis = yield* timeout_.parseOrDie(options?.timeout, "timeout")
      // each submit parses it again as its `timeout`: check it here so the error names the map option
      yield* timeout_.parseOrDie(options?.taskTimeout, "taskTimeout")
      const buffersize = options?.buffersize
      if (buffersize !== undefined && (!Number.isInteger(buffersize) || buffersize < 1)) {
        return yield* Effect.die(invalid("buffersize", buffersize, "a positive integer"))
      }
      const startedAt = yield* Effect.clockWith((clock) => Effect.succeed(clock.currentTimeMillisUnsafe()))
      const iterator = items[Symbol.iterator]()
      let exhausted = false
      // futures submitted and not yet emitted, in input order
      let inflight: Array<FutureImpl<A, E> | undefined> = []
      let head = 0
      // a failing chunk's earlier results were emitted: its failure comes next
      let failure: Exit.Failure<never, unknown> | undefined

      yield* Scope.addFinalizer(
        scope,
        Effect.suspend(() => {
          // queued futures leave the queue before a running one frees its slot,
          // so none of them starts on the way out
          const open = inflight.slice(head).filter((f) => f !== undefined && !future_.isDoneUnsafe(f))
          inflight = []
          if (!exhausted) iterator.return?.()
          return Effect.asVoid(future_.cancelAll(open as Array<FutureImpl<A, E>>))
        })
      )

      // a future is recorded when it is created, not when submit returns it: the
      // stream may be interrupted in between, and an admitted future it did not
      // record would run on, never cancelled (one that was never admitted, or
      // whose admission failed, is recorded too: cancelling it is a no-op)
      const track = (future: Future<A, E>) => {
        inflight.push(future_.impl(future))
      }
      const submitNext: Effect.Effect<boolean, SubmitError, R> = Effect.suspend(() => {
        if (exhausted) return Effect.succeed(false)
        const next = iterator.next()
        if (next.done) {
          exhausted = true
          return Effect.succeed(false)
        }
        return Effect.as(submit(next.value, track), true)
      })

      if (buffersize === undefined) {
        yield* Effect.whileLoop({ while: () => !exhausted, body: () => submitNext, step: () => {} })
      } else {
        for (let i = 0; i < buffersize && !exhausted; i++) yield* submitNext
      }

      const awaitHead = (future: FutureImpl<A, E>) => {
        const result = future_.await_(future)
        if (millis < 0 || future.exit !== undefined) return result
        return Effect.clockWith((clock) => {
          const left = startedAt + millis - clock.currentTimeMillisUnsafe()
          return left <= 0 ? Effect.fail(new Cause.TimeoutError()) : Effect.timeout(result, left)
        })
      }

      const add: (out: Array<A>, value: A) => void = expand
        ? (out, value) => {
            const values = value as unknown as ReadonlyArray<A>
            for (let i = 0; i < values.length; i++) out.push(values[i])
          }
        : (out, value) => {
            out.push(value)
          }

      const emit = (first: A): Effect.Effect<Arr.NonEmptyReadonlyArray<A>, SubmitError, R> => {
        const out = [] as unknown as [A, ...Array<A>]
        add(out, first)
        head++
        if (head >= 1024 && head * 2 >= inflight.length) {
          // drop the emitted prefix so a long stream holds only what is in flight
          inflight = inflight.slice(head)
          head = 0
        }
        if (buffersize !== undefined) return Effect.as(submitNext, out)
        // emit the following results that are already in, in one chunk
        while (head < inflight.length) {
          const next = inflight[head]!
          if (next.state !== future_.SUCCEEDED) break
          add(out, (next.exit as Exit.Success<A>).value)
          inflight[head++] = undefined
        }
        return Effect.succeed(out)
      }

      type Chunk = Arr.NonEmptyReadonlyArray<A>
      type PullError = E | CancelledError | SubmitError | Cause.TimeoutError | Cause.Done
      const partial = (chunk: PartialChunk): Effect.Effect<Chunk, PullError, R> => {
        inflight[head] = undefined
        head++
        if (chunk.values.length === 0) return chunk.exit as Exit.Exit<never, PullError>
        failure = chunk.exit
        return Effect.succeed(chunk.values as unknown as Chunk)
      }
      const next = expand
        ? (future: FutureImpl<A, E>): Effect.Effect<Chunk, PullError, R> =>
            Effect.matchCauseEffect(awaitHead(future), {
              onSuccess: (value) => {
                inflight[head] = undefined
                return emit(value)
              },
              onFailure: (cause): Effect.Effect<Chunk, PullError, R> => {
                const error = Cause.findErrorOption(cause)
                return error._tag === "Some" && error.value instanceof PartialChunk
                  ? partial(error.value)
                  : Effect.failCause(cause)
              }
            })
        : (future: FutureImpl<A, E>): Effect.Effect<Chunk, PullError, R> =>
            Effect.flatMap(awaitHead(future), (value) => {
              inflight[head] = undefined
              return emit(value)
            })

      return Effect.suspend((): Effect.Effect<Chunk, PullError, R> => {
        if (failure !== undefined) return failure as Exit.Exit<never, PullError>
        if (head >= inflight.length) {
          if (head > 0) {
            inflight = []
            head = 0
          }
          return Cause.done()
        }
        return next(inflight[head]!)
      })
    })
  )
