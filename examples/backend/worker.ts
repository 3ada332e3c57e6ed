// The CPU worker entry: serves Digest and Ping. Direct module imports keep boot fast.
//
// `initialize` runs once per worker before any task, with the executor's
// `workerData`. It stands for loading what a real worker needs (a model, a
// dictionary): when it fails, the executor is broken, and /health says so.
// The example makes it fail on demand (BACKEND_CPU_INIT=fail) to show that.
import * as Effect from "effect/Effect"
import * as CpuWorker from "effect-futures/CpuWorker"
import { Digest, digest, InvalidRounds, maxRounds, Ping } from "./tasks.ts"

const encoder = new TextEncoder()

CpuWorker.serve(
  [
    CpuWorker.handler(Digest, ({ text, rounds }) => {
      if (!Number.isInteger(rounds) || rounds < 1 || rounds > maxRounds) {
        return Effect.fail(new InvalidRounds({ rounds, max: maxRounds }))
      }
      const bytes = encoder.encode(text)
      return Effect.succeed({ bytes: bytes.length, rounds, digest: digest(bytes, rounds) })
    }),
    CpuWorker.handler(Ping, () => Effect.succeed({ pid: process.pid }))
  ],
  {
    initialize: (data) =>
      (data as { readonly init?: string } | undefined)?.init === "fail"
        ? Effect.fail(new Error("worker resources could not be loaded (BACKEND_CPU_INIT=fail)"))
        : Effect.void
  }
)
