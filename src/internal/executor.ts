// What both executors build on top of the dispatcher, written once: option
// validation, the scoped lifecycle (shutdown on release), `shutdown`, `stats`
// and `map`.
import type * as Arr from "effect/Array"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import type { MapOptions, ShutdownOptions, Stats } from "../Executor.ts"
import { type CancelledError, InvalidOptionsError, type SubmitError } from "../ExecutorError.ts"
import type { Dispatcher, Slot } from "./dispatcher.ts"
import * as future_ from "./future.ts"
import type { FutureImpl } from "./future.ts"
import { fromPullScoped } from "./stream.ts"
import * as timeout_ from "./timeout.ts"

// ---------------------------------------------------------------------------
// option validation
// ---------------------------------------------------------------------------

/** @internal */
export const invalid = (option: string, value: unknown, expected: string) =>
  new InvalidOptionsError({ option, value, expected })

/** @internal */
export const positiveInt = (option: string, value: unknown, fallback: number): number => {
  if (value === undefined) return fallback
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw invalid(option, value, "a positive integer")
  }
  return value
}

/** @internal */
export const nonNegativeInt = (option: string, value: unknown, fallback: number): number => {
  if (value === undefined) return fallback
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw invalid(option, value, "a non-negative integer")
  }
  return value
}

/** A non-negative integer, or Infinity for "unbounded". @internal */
export const capacity = (option: string, value: unknown): number => {
  if (value === undefined || value === Infinity) return Infinity
  return nonNegativeInt(option, value, Infinity)
}

/** @internal */
export const oneOf = <const L extends string>(
  option: string,
  value: unknown,
  literals: ReadonlyArray<L>,
  fallback: L
): L => {
  if (value === undefined) return fallback
  if (typeof value !== "string" || !literals.includes(value as L)) {
    throw invalid(option, value, `one of ${literals.map((l) => JSON.stringify(l)).join(", ")}`)
  }
  return value as L
}

/** @internal */
export const boolean = (option: string, value: unknown, fallback: boolean): boolean => {
  if (value === undefined) return fallback
  if (typeof value !== "boolean") throw invalid(option, value, "a boolean")
  return value
}

/** @internal */
export const nonEmptyString = (option: string, value: unknown, fallback: string): string => {
  if (value === undefined) return fallback
  if (typeof value !== "string" || value.length === 0) throw invalid(option, value, "a non-empty string")
  return value
}

/**
 * Runs a validation function that throws `InvalidOptionsError`, as an effect
 * failing with it.
 * @internal
 */
export const validate = <A>(f: () => A): Effect.Effect<A, InvalidOptionsError> =>
  Effect.suspend(() => {
    try {
      return Effect.succeed(f())
    } catch (error) {
      if (error instanceof InvalidOptionsError) return Effect.fail(error)
      return Effect.die(error)
    }
  })

// ---------------------------------------------------------------------------
// lifecycle
// ---------------------------------------------------------------------------

/**
 * Starts a dispatcher whose release is `shutdown({ wait: true })` followed by
 * closing every slot. The finalizer is registered before any slot starts.
 * @internal
 */
export const start = <S extends Slot>(dispatcher: Dispatcher<S>): Effect.Effect<Dispatcher<S>, never, Scope.Scope> =>
  Effect.uninterruptible(
    Effect.gen(function* () {
      const scope = yield* Effect.scope
      yield* Scope.addFinalizer(scope, shutdown(dispatcher, { wait: true }))
      dispatcher.start()
      return dispatcher
    })
  )

/** @internal */
export const shutdown = (dispatcher: Dispatcher<any>, options?: ShutdownOptions): Effect.Effect<void> =>
  Effect.suspend(() => {
    dispatcher.shutdownNow(options?.cancelFutures === true)
    if (options?.wait === false) return Effect.void
    return Effect.andThen(dispatcher.awaitIdle(), dispatcher.closeAll())
  })

/** @internal */
export const stats = (dispatcher: Dispatcher<any>): Effect.Effect<Stats> => Effect.sync(() => dispatcher.stats())

// ---------------------------------------------------------------------------
// map
// ---------------------------------------------------------------------------

/**
 * Python's `Executor.map`, written once against a submit function: results
 * in input order, the first failure in input order fails the stream, and
 * however the stream ends every unfinished task it submitted is cancelled.
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
  submit: (item: I, track: (future: FutureImpl<A, E>) => void) => Effect.Effect<FutureImpl<A, E>, SubmitError, R>,
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
      const track = (future: FutureImpl<A, E>) => {
        inflight.push(future)
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
          add(out, (next.exit as any).value)
          inflight[head++] = undefined
        }
        return Effect.succeed(out)
      }

      type Chunk = Arr.NonEmptyReadonlyArray<A>
      type PullError = E | CancelledError | SubmitError | Cause.TimeoutError | Cause.Done
      return Effect.suspend((): Effect.Effect<Chunk, PullError, R> => {
        if (head >= inflight.length) {
          if (head > 0) {
            inflight = []
            head = 0
          }
          return Cause.done()
        }
        const future = inflight[head]!
        return Effect.flatMap(awaitHead(future), (value) => {
          inflight[head] = undefined
          return emit(value)
        })
      })
    })
  )
