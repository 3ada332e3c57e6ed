// Progress and batches on the I/O executor, in four self-contained parts:
//
//   a. mapWithProgress: `executor.map` with a progress report (done/total,
//      rate, running, queued) after every result the stream yields.
//   b. waitThenCancel: `Future.wait` with a deadline, then `Future.cancel` of
//      everything not done; running tasks are interrupted, queued ones never
//      start, and no cancelled body ever runs to its end.
//   c. asCompletedDemo: `Future.asCompleted`, results handled in the order
//      they complete, failures included.
//   d. firstException: `Future.wait` with `returnWhen: "FIRST_EXCEPTION"`,
//      then cancelling the rest.
//
// Every task is simulated I/O: an `Effect.sleep` stands in for a request, so
// under the real clock (main.ts) they take real time and under a TestClock
// (the tests) they finish exactly when the clock is moved past them. All
// times are read from `Clock`, so both see the same schedule.
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Future from "effect-futures/Future"
import * as IoExecutor from "effect-futures/IoExecutor"

const executor = (name: string, maxWorkers: number) => IoExecutor.make({ name, maxWorkers }).pipe(Effect.orDie)

const elapsedSince = (start: number) => Effect.map(Clock.currentTimeMillis, (now) => now - start)

// ---------------------------------------------------------------------------
// a. executor.map with a live progress report
// ---------------------------------------------------------------------------

export interface Progress {
  readonly done: number
  readonly total: number
  readonly elapsedMs: number
  /** Results per second so far. */
  readonly perSecond: number
  /** The executor's tasks running and queued at this report. */
  readonly running: number
  readonly queued: number
}

/** The latencies (ms) of the 30 simulated requests of part a. */
export const progressLatencies: ReadonlyArray<number> = Array.from({ length: 30 }, (_, i) => 30 + ((i * 53) % 120))

/**
 * Runs one simulated request per latency on 6 slots with `executor.map` and
 * calls `onProgress` after each result: the stream counts its own elements
 * (`Stream.mapAccum`) and reports (`Stream.tap`). Results come in input order,
 * so a slow early request holds the count back while later ones finish.
 * Returns the results, in input order.
 */
export const mapWithProgress = (
  onProgress: (progress: Progress) => Effect.Effect<void>,
  latencies: ReadonlyArray<number> = progressLatencies
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const pool = yield* executor("progress", 6)
      const total = latencies.length
      const start = yield* Clock.currentTimeMillis
      const request = (i: number) => Effect.as(Effect.sleep(latencies[i]), `response ${i}`)
      return yield* pool
        .map(
          latencies.map((_, i) => i),
          request
        )
        .pipe(
          Stream.mapAccum(
            () => 0,
            (done, response) => [done + 1, [{ done: done + 1, response }]] as const
          ),
          Stream.tap(({ done }) =>
            Effect.gen(function* () {
              const elapsedMs = yield* elapsedSince(start)
              const { running, queued } = yield* pool.stats
              const perSecond = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0
              yield* onProgress({ done, total, elapsedMs, perSecond, running, queued })
            })
          ),
          Stream.map(({ response }) => response),
          Stream.runCollect
        )
    })
  )

// ---------------------------------------------------------------------------
// b. wait with a deadline, then cancel what did not finish
// ---------------------------------------------------------------------------

/** The latencies (ms) of the 7 tasks of part b, run on 3 slots. */
export const deadlineLatencies: ReadonlyArray<number> = [100, 400, 250, 800, 150, 600, 300]

export interface DeadlineReport {
  /** Tasks (by index) whose futures were done when `wait` returned. */
  readonly done: ReadonlyArray<number>
  /** The others, with their state at that moment (`running` or `pending`). */
  readonly notDone: ReadonlyArray<{ readonly task: number; readonly state: Future.State }>
  /** Tasks whose body had run to its end when `wait` returned. */
  readonly finishedAtDeadline: ReadonlyArray<number>
  /** What `Future.cancel` returned for each not-done task, and its state afterwards. */
  readonly cancelled: ReadonlyArray<{ readonly task: number; readonly result: boolean; readonly state: Future.State }>
  /** Tasks whose body started; those whose interruption handler ran. */
  readonly started: ReadonlyArray<number>
  readonly interrupted: ReadonlyArray<number>
  /** Tasks whose body ran to its end, read again once every original latency has passed. */
  readonly finishedLater: ReadonlyArray<number>
}

/**
 * Submits the tasks of `latencies` to 3 slots, waits for all of them for at
 * most `deadline` ms, cancels the ones not done, then waits past the longest
 * latency to show that no cancelled body ever finishes.
 */
export const waitThenCancel = (deadline: number, latencies: ReadonlyArray<number> = deadlineLatencies) =>
  Effect.scoped(
    Effect.gen(function* () {
      const pool = yield* executor("deadline", 3)
      const started = new Set<number>()
      const finished = new Set<number>()
      const interrupted = new Set<number>()
      const task = (i: number) =>
        Effect.sync(() => started.add(i)).pipe(
          Effect.andThen(Effect.sleep(latencies[i])),
          Effect.andThen(Effect.sync(() => finished.add(i))),
          Effect.onInterrupt(() => Effect.sync(() => interrupted.add(i))),
          Effect.as(i)
        )
      const futures = yield* Effect.forEach(latencies, (_, i) => pool.submit(task(i)))
      const index = (f: (typeof futures)[number]) => futures.indexOf(f)

      const { done, notDone } = yield* Future.wait(futures, { timeout: deadline, returnWhen: "ALL_COMPLETED" })
      const finishedAtDeadline = sorted(finished)
      const waiting = [...notDone].map((f) => ({ future: f, task: index(f), state: Future.stateUnsafe(f) }))
      // cancelAll cancels the queued ones first: cancelling a running task frees its
      // slot, and a queued task would start there, only to be interrupted at once
      const results = yield* Future.cancelAll(waiting.map((w) => w.future))
      const cancelled = waiting.map(({ future, task }, k) => ({
        task,
        result: results[k],
        state: Future.stateUnsafe(future)
      }))
      yield* Effect.sleep(Math.max(...latencies))
      return {
        done: [...done].map(index).sort((a, b) => a - b),
        notDone: waiting.map(({ task, state }) => ({ task, state })).sort((a, b) => a.task - b.task),
        finishedAtDeadline,
        cancelled: cancelled.sort((a, b) => a.task - b.task),
        started: sorted(started),
        interrupted: sorted(interrupted),
        finishedLater: sorted(finished)
      } satisfies DeadlineReport
    })
  )

const sorted = (set: ReadonlySet<number>) => [...set].sort((a, b) => a - b)

// ---------------------------------------------------------------------------
// c. asCompleted: results in completion order
// ---------------------------------------------------------------------------

export class LookupFailed extends Schema.TaggedError<LookupFailed>()("LookupFailed", { city: Schema.String }) {}

export interface Lookup {
  readonly city: string
  readonly latencyMs: number
  readonly fails?: boolean
}

/** The lookups of part c: submitted in this order, completing in order of latency; oslo fails. */
export const lookups: ReadonlyArray<Lookup> = [
  { city: "tokyo", latencyMs: 320 },
  { city: "lima", latencyMs: 80 },
  { city: "oslo", latencyMs: 200, fails: true },
  { city: "cairo", latencyMs: 140 },
  { city: "perth", latencyMs: 260 },
  { city: "quito", latencyMs: 40 }
]

export interface Arrival {
  readonly city: string
  readonly elapsedMs: number
  readonly exit: Exit.Exit<string, unknown>
}

const lookup = (l: Lookup, finishOrder: Array<string>) =>
  Effect.gen(function* () {
    yield* Effect.sleep(l.latencyMs)
    finishOrder.push(l.city)
    if (l.fails === true) return yield* new LookupFailed({ city: l.city })
    return `${l.city}: ${(l.latencyMs * 7) % 31} °C`
  })

/**
 * Submits every lookup (all run at once) and handles each future as
 * `Future.asCompleted` yields it: `onArrival` is called in completion order.
 * Returns the arrivals and the order in which the task bodies finished.
 */
export const asCompletedDemo = (onArrival: (arrival: Arrival) => Effect.Effect<void>) =>
  Effect.scoped(
    Effect.gen(function* () {
      const pool = yield* executor("lookups", lookups.length)
      const finishOrder: Array<string> = []
      const start = yield* Clock.currentTimeMillis
      const futures = yield* Effect.forEach(lookups, (l) => pool.submit(lookup(l, finishOrder)))
      const arrivals = yield* Future.asCompleted(futures).pipe(
        Stream.mapEffect((future) =>
          Effect.gen(function* () {
            const arrival = {
              city: lookups[futures.indexOf(future)].city,
              elapsedMs: yield* elapsedSince(start),
              exit: yield* Future.exit(future)
            }
            yield* onArrival(arrival)
            return arrival
          })
        ),
        Stream.runCollect
      )
      return { arrivals, finishOrder }
    })
  )

// ---------------------------------------------------------------------------
// d. FIRST_EXCEPTION
// ---------------------------------------------------------------------------

/** The lookups of part d: dublin fails at 300 ms, while two others are still running. */
export const batch: ReadonlyArray<Lookup> = [
  { city: "accra", latencyMs: 150 },
  { city: "dublin", latencyMs: 300, fails: true },
  { city: "hanoi", latencyMs: 500 },
  { city: "kyiv", latencyMs: 900 }
]

/**
 * Waits with `returnWhen: "FIRST_EXCEPTION"`: it returns as soon as one lookup
 * fails. Reports when, what was done, the error, and cancels the rest.
 */
export const firstException = Effect.scoped(
  Effect.gen(function* () {
    const pool = yield* executor("batch", batch.length)
    const finishOrder: Array<string> = []
    const start = yield* Clock.currentTimeMillis
    const futures = yield* Effect.forEach(batch, (l) => pool.submit(lookup(l, finishOrder)))
    const cityOf = (f: (typeof futures)[number]) => batch[futures.indexOf(f)].city
    const { done, notDone } = yield* Future.wait(futures, { returnWhen: "FIRST_EXCEPTION" })
    const elapsedMs = yield* elapsedSince(start)
    const failed = [...done].filter((f) => Future.stateUnsafe(f) === "failed")
    const error = failed.length === 1 ? yield* Effect.flip(Future.await(failed[0])) : undefined
    const results = yield* Future.cancelAll(notDone)
    const cancelled = [...notDone].map((f, k) => ({ city: cityOf(f), result: results[k] }))
    yield* Effect.sleep(Math.max(...batch.map((l) => l.latencyMs)))
    return {
      elapsedMs,
      done: [...done].map(cityOf),
      notDone: [...notDone].map(cityOf),
      error,
      cancelled,
      finishedLater: [...finishOrder]
    }
  })
)
