// What a released executor must not leave behind: active handles (threads,
// ports, timers, sockets), process listeners, and the executor's own timers.
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"

/** Process events a library could listen to. */
export const EVENTS = [
  "exit",
  "beforeExit",
  "uncaughtException",
  "uncaughtExceptionMonitor",
  "unhandledRejection",
  "rejectionHandled",
  "warning",
  "message",
  "disconnect",
  "worker",
  "SIGINT",
  "SIGTERM"
] as const

export interface Snapshot {
  /** `process.getActiveResourcesInfo()` as a multiset: type → count. */
  readonly resources: Record<string, number>
  readonly listeners: Record<string, number>
}

export const snapshot = (): Snapshot => {
  const resources: Record<string, number> = {}
  for (const r of process.getActiveResourcesInfo()) resources[r] = (resources[r] ?? 0) + 1
  const listeners: Record<string, number> = {}
  for (const e of EVENTS) listeners[e] = process.listenerCount(e)
  return { resources, listeners }
}

/**
 * The resources of `after` that `before` does not account for (type →
 * surplus), and the listener counts that changed. The test runner's own
 * timers may end between the two snapshots (a resource can disappear), but
 * nothing may be added.
 */
export const leaks = (before: Snapshot, after: Snapshot): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const [type, n] of Object.entries(after.resources)) {
    const surplus = n - (before.resources[type] ?? 0)
    if (surplus > 0) out[type] = surplus
  }
  for (const e of EVENTS) {
    if (after.listeners[e] !== before.listeners[e]) out[`listeners:${e}`] = after.listeners[e] - before.listeners[e]
  }
  return out
}

/**
 * The real clock, counting the sleeps in progress. Provided to an executor
 * (and to the tasks it runs), it shows exactly whether any of the
 * executor's timers (timeouts, grace periods, idle retirement, restart
 * backoff) outlives its release.
 */
export const countingClock = (real: Clock.Clock) => {
  let active = 0
  const clock: Clock.Clock = {
    currentTimeMillisUnsafe: () => real.currentTimeMillisUnsafe(),
    currentTimeMillis: real.currentTimeMillis,
    currentTimeNanosUnsafe: () => real.currentTimeNanosUnsafe(),
    currentTimeNanos: real.currentTimeNanos,
    monotonicTimeNanosUnsafe: () => real.monotonicTimeNanosUnsafe(),
    monotonicTimeNanos: real.monotonicTimeNanos,
    sleep: (duration) =>
      Effect.suspend(() => {
        active++
        return Effect.ensuring(
          real.sleep(duration),
          Effect.sync(() => {
            active--
          })
        )
      })
  }
  return { clock, active: () => active }
}
