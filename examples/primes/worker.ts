// The worker entry: serves CountPrimes. Direct module imports keep boot fast.
import * as Effect from "effect/Effect"
import * as CpuWorker from "effect-futures/CpuWorker"
import { CountPrimes, countPrimes, RangeTooLarge } from "./tasks.ts"

const limit = 5_000_000

CpuWorker.serve([
  CpuWorker.handler(CountPrimes, ({ from, to }) =>
    to - from > limit
      ? Effect.fail(new RangeTooLarge({ from, to, limit }))
      : Effect.sync(() => ({ from, to, primes: countPrimes(from, to) }))
  )
])
