// Worked example: count the primes below N on one worker, then on every core.
//
//   npm run example:primes            (N = 3,000,000)
//   npm run example:primes -- 500000
//
// Shows: typed tasks, map over chunks of work, the speed-up with more workers,
// a typed error crossing the thread boundary as its own class, and cancelling
// a running synchronous task (its worker is terminated and replaced).
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as os from "node:os"
import * as CpuExecutor from "effect-futures/CpuExecutor"
import * as Future from "effect-futures/Future"
import { CountPrimes } from "./tasks.ts"

const N = Number(process.argv[2] ?? 3_000_000)
const ranges = Array.from({ length: 32 }, (_, i) => ({
  from: Math.floor((i * N) / 32),
  to: Math.floor(((i + 1) * N) / 32)
}))
const worker = new URL("./worker.ts", import.meta.url)

const countWith = (maxWorkers: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const cpu = yield* CpuExecutor.make({ worker, maxWorkers, minWorkers: maxWorkers })
      // warm up: every worker boots and JIT-compiles the loop
      yield* Effect.forEach(
        Array.from({ length: maxWorkers }, () => ({ from: 0, to: 20_000 })),
        (range) => Effect.flatMap(cpu.submit(CountPrimes, range), Future.await),
        { concurrency: "unbounded" }
      )
      const start = yield* Clock.currentTimeMillis
      const total = yield* cpu.map(CountPrimes, ranges).pipe(
        Stream.runFold(
          () => 0,
          (sum, r) => sum + r.primes
        )
      )
      return { total, ms: (yield* Clock.currentTimeMillis) - start }
    })
  )

const program = Effect.gen(function* () {
  const cores = os.availableParallelism()
  const one = yield* countWith(1)
  const all = yield* countWith(cores)
  yield* Effect.log(`primes below ${N}: ${one.total} (1 worker: ${one.ms} ms, ${cores} workers: ${all.ms} ms)`)
  yield* Effect.log(`speed-up: ${(one.ms / all.ms).toFixed(2)}x on ${cores} cores`)
  if (one.total !== all.total) return yield* Effect.die(new Error("results differ"))

  yield* Effect.scoped(
    Effect.gen(function* () {
      const cpu = yield* CpuExecutor.make({ worker, maxWorkers: 1, cancelGracePeriod: "100 millis" })
      // a typed error arrives as its own class, with its fields
      const error = yield* Effect.flip(Future.await(yield* cpu.submit(CountPrimes, { from: 0, to: 1e9 })))
      yield* Effect.log(`typed error: ${error._tag} (${error.message})`)
      // a long synchronous task is cancelled: its worker is terminated and replaced
      const long = yield* cpu.submit(CountPrimes, { from: 0, to: 4_900_000 })
      yield* Effect.sleep("50 millis")
      const startCancel = yield* Clock.currentTimeMillis
      const cancelled = yield* Future.cancel(long)
      const cancelMs = (yield* Clock.currentTimeMillis) - startCancel
      yield* Effect.log(
        `cancel of a running loop: ${cancelled} after ${cancelMs} ms; state ${Future.stateUnsafe(long)}`
      )
      const after = yield* Future.await(yield* cpu.submit(CountPrimes, { from: 0, to: 100 }))
      yield* Effect.log(`the pool keeps serving: ${after.primes} primes below 100`)
    })
  )
})

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
