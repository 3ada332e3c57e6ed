// The soak run's worker entry: serves the Soak task. Direct module imports
// keep the boot of each replacement worker short.
import * as Effect from "effect/Effect"
import * as CpuWorker from "../../src/CpuWorker.ts"
import { Counter, Kind, type Shared, Soak, SoakFailure, startedMask } from "./tasks.ts"

let shared: Shared | undefined

const markStarted = (seq: number, counter: number) => {
  Atomics.add(shared!.counters, counter, 1)
  Atomics.store(shared!.started, seq & startedMask, seq + 1)
  Atomics.notify(shared!.started, seq & startedMask)
}

CpuWorker.serve(
  [
    CpuWorker.handler(Soak, (payload) => {
      const kind = payload % 8
      const seq = (payload - kind) / 8
      switch (kind) {
        case Kind.succeed:
          return Effect.succeed(seq)
        case Kind.fail:
          return Effect.fail(new SoakFailure({ seq }))
        case Kind.die:
          return Effect.die(new Error(`die ${seq}`))
        case Kind.interrupt:
          return Effect.interrupt
        case Kind.hang:
          return Effect.suspend(() => {
            markStarted(seq, Counter.hangStarted)
            return Effect.never
          }).pipe(
            Effect.onInterrupt(() => Effect.sync(() => Atomics.add(shared!.counters, Counter.hangInterrupted, 1)))
          )
        case Kind.spin:
          return Effect.sync(() => {
            markStarted(seq, Counter.spinStarted)
            // a synchronous loop: INTERRUPT is never seen, the worker must be terminated
            const end = Date.now() + 120_000
            while (Date.now() < end) {
              // spin
            }
            return seq
          })
        case Kind.crash:
          return Effect.sync(() => process.exit(3))
        default:
          return Effect.die(new Error(`unknown kind ${kind}`))
      }
    })
  ],
  {
    initialize: (data) =>
      Effect.sync(() => {
        shared = data as Shared
        Atomics.add(shared.counters, Counter.workersStarted, 1)
      })
  }
)
