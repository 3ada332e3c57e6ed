// The worker entry the runners serve (`effect-futures runner --worker examples/cluster/worker.ts`):
// each runner runs these tasks on its own worker threads.
import * as Effect from "effect/Effect"
import * as CpuWorker from "effect-futures/CpuWorker"
import { countPrimes } from "../primes/tasks.ts"
import { CountPrimesOn } from "./tasks.ts"

CpuWorker.serve([
  CpuWorker.handler(CountPrimesOn, ({ from, to }) =>
    Effect.sync(() => ({ primes: countPrimes(from, to), pid: process.pid }))
  )
])
