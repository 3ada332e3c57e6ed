// `wait` and `asCompleted` (CPython's `wait` and `as_completed`): both watch
// futures from any executors through the futures' synchronous observers, and
// stop watching however they end.
import type * as Arr from "effect/Array"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import { InvalidOptionsError } from "../ExecutorError.ts"
import type { AsCompletedOptions, DoneAndNotDone, Future, ReturnWhen, WaitOptions } from "../Future.ts"
import * as future_ from "./future.ts"
import type { FutureImpl } from "./future.ts"
import { fromPullScoped } from "./stream.ts"
import * as timeout_ from "./timeout.ts"

const returnWhens: ReadonlyArray<ReturnWhen> = ["FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED"]

/** @internal */
export const wait = <A, E>(
  futures: Iterable<Future<A, E>>,
  options?: WaitOptions
): Effect.Effect<DoneAndNotDone<A, E>> =>
  Effect.flatMap(timeout_.parseOrDie(options?.timeout, "timeout"), (millis) => {
    const fs = Array.from(new Set(futures), future_.impl)
    const returnWhen = options?.returnWhen ?? "ALL_COMPLETED"
    if (!returnWhens.includes(returnWhen)) {
      return Effect.die(
        new InvalidOptionsError({ option: "returnWhen", value: returnWhen, expected: returnWhens.join(" | ") })
      )
    }
    const partition = Effect.sync(() => partitionOf(fs))
    const waiting = Effect.callback<void>((resume) => {
      let remaining = fs.length
      let resumed = false
      const removers: Array<() => void> = []
      const onDone = (f: FutureImpl<any, any>) => {
        remaining--
        if (resumed) return
        if (
          remaining === 0 ||
          returnWhen === "FIRST_COMPLETED" ||
          (returnWhen === "FIRST_EXCEPTION" && f.state === future_.FAILED)
        ) {
          resumed = true
          // returning early: stop observing the futures still running (an
          // observer left on a long-running future would pile up, one per wait)
          for (const remove of removers) remove()
          resume(Effect.void)
        }
      }
      if (remaining === 0) return resume(Effect.void)
      // addObserver calls back at once for futures already done
      for (let i = 0; i < fs.length && !resumed; i++) removers.push(future_.addObserver(fs[i], onDone))
      if (resumed) return
      return Effect.sync(() => {
        for (const remove of removers) remove()
      })
    })
    const bounded = millis < 0 ? waiting : Effect.timeoutOption(waiting, millis)
    return Effect.andThen(bounded, partition)
  })

const partitionOf = <A, E>(fs: ReadonlyArray<FutureImpl<A, E>>): DoneAndNotDone<A, E> => {
  const done = new Set<Future<A, E>>()
  const notDone = new Set<Future<A, E>>()
  for (const f of fs) (f.state >= future_.SUCCEEDED ? done : notDone).add(f)
  return { done, notDone }
}

/** @internal */
export const asCompleted = <A, E>(
  futures: Iterable<Future<A, E>>,
  options?: AsCompletedOptions
): Stream.Stream<Future<A, E>, Cause.TimeoutError> =>
  fromPullScoped<Future<A, E>, Cause.TimeoutError | Cause.Done, never, never, never>((scope) =>
    Effect.gen(function* () {
      const millis = yield* timeout_.parseOrDie(options?.timeout, "timeout")
      const fs = Array.from(new Set(futures), future_.impl)
      const start = yield* Effect.clockWith((clock) => Effect.succeed(clock.currentTimeMillisUnsafe()))
      let ready: Array<Future<A, E>> = []
      let remaining = fs.length
      let wake: (() => void) | undefined
      const onDone = (f: FutureImpl<A, E>) => {
        ready.push(f)
        remaining--
        if (wake !== undefined) {
          const w = wake
          wake = undefined
          w()
        }
      }
      // the finalizer first: an interruption between registering the
      // observers and adding it would leave them on the futures
      let removers: Array<() => void> = []
      yield* Scope.addFinalizer(
        scope,
        Effect.sync(() => {
          for (const remove of removers) remove()
        })
      )
      // already-settled futures are pushed at once, in input order
      removers = fs.map((f) => future_.addObserver(f, onDone as future_.Observer))
      type Chunk = Arr.NonEmptyReadonlyArray<Future<A, E>>
      const take = Effect.sync((): Chunk => {
        const out = ready as unknown as Chunk
        ready = []
        return out
      })
      const waitForOne = Effect.callback<void>((resume) => {
        if (ready.length > 0) return resume(Effect.void)
        wake = () => resume(Effect.void)
        return Effect.sync(() => {
          wake = undefined
        })
      })
      // Python's message: "2 (of 4) futures unfinished"
      const timedOut = () => new Cause.TimeoutError(`${remaining} (of ${fs.length}) futures unfinished`)
      return Effect.suspend((): Effect.Effect<Chunk, Cause.TimeoutError | Cause.Done> => {
        if (ready.length > 0) return take
        if (remaining === 0) return Cause.done()
        if (millis < 0) return Effect.andThen(waitForOne, take)
        return Effect.clockWith((clock) => {
          const left = Math.max(0, start + millis - clock.currentTimeMillisUnsafe())
          return Effect.andThen(
            Effect.timeoutOrElse(waitForOne, { duration: left, orElse: () => Effect.fail(timedOut()) }),
            take
          )
        })
      })
    })
  )
