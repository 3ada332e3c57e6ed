// The parent's side of `idleSpin`: after posting a task to an idle worker (a
// round trip: its caller waits for the result), the parent's event loop stays
// awake for the result, up to the window, instead of sleeping in its poll
// phase. Where an idle CPU halts (a virtual machine's vCPU), waking the
// parent's thread costs an exit to the host on every result; an awake loop
// takes the result in microseconds (measured here: a sequential round trip's
// p50 fell from 21–32 µs to 8–12 µs). The worker's side is in workerMain.ts.
//
// It stays awake by keeping an immediate pending: the loop then polls for I/O
// without blocking and runs every timer, callback and I/O event as it would
// otherwise, only without sleeping in between, so nothing else in the program
// waits longer because of it. Bounds: only while such a round trip is
// unanswered, and at most one window after the last one was posted; and it
// adapts: after a window that passed without the result, the loop sleeps as
// usual until a round trip is again answered within one window, so tasks
// longer than the window cost one window of a core per change of pace.
//
// Timed with `performance.now()`, not the executor's Clock: this bounds real
// CPU time (a test clock that does not move would keep the loop awake for
// ever), and no outcome depends on it.

/**
 * Where a round trip is kept (its worker's slot: one at a time): the task
 * posted, and when; `undefined` and -1 once it has left its worker.
 */
export interface RoundTrip {
  roundTrip: unknown
  roundTripSince: number
}

/** @internal */
export interface Awake {
  /** `task` was posted to an idle worker, kept in `trip`. */
  readonly posted: (trip: RoundTrip, task: unknown) => void
  /**
   * `task` left its worker: answered (its result came), or otherwise
   * (dropped, lost). Nothing unless it is the round trip `trip` keeps.
   */
  readonly settled: (trip: RoundTrip, task: unknown, answered: boolean) => void
  /** An immediate is pending: the loop does not sleep (for tests). */
  readonly active: () => boolean
}

/** @internal */
export const make = (windowMs: number, now: () => number = () => performance.now()): Awake => {
  let spinning = windowMs > 0
  /** Round trips posted and not yet settled. */
  let waiting = 0
  let until = 0
  let pending: ReturnType<typeof setImmediate> | undefined
  const tick = () => {
    pending = undefined
    if (waiting === 0) return
    if (now() >= until) {
      // a result slower than a window: sleep as usual from now on
      spinning = false
      return
    }
    pending = setImmediate(tick)
  }
  return {
    posted(trip, task) {
      if (windowMs <= 0) return
      const t = now()
      trip.roundTrip = task
      trip.roundTripSince = t
      waiting++
      if (!spinning) return
      until = t + windowMs
      pending ??= setImmediate(tick)
    },
    settled(trip, task, answered) {
      if (trip.roundTrip !== task) return
      // answered within a window: stay awake for the next one
      if (answered && now() - trip.roundTripSince < windowMs) spinning = true
      trip.roundTrip = undefined
      trip.roundTripSince = -1
      waiting--
    },
    active: () => pending !== undefined
  }
}
