// `Effect.forEach` with `{ concurrency }`: effect's own bounded fan-out, no futures.
import * as Effect from "effect/Effect"
import type { InProcessSystem, Runner } from "../types.ts"

const forEach =
  (task: (delayMs: number) => Effect.Effect<void>): Runner =>
  (params) => {
    const delay = params.delayMs ?? 10
    const items = new Array<number>(params.tasks)
    for (let i = 0; i < params.tasks; i++) items[i] = i
    return Effect.runPromise(
      Effect.gen(function* () {
        const start = performance.now()
        const results = yield* Effect.forEach(items, () => task(delay), { concurrency: params.concurrency })
        const elapsedMs = performance.now() - start
        let completed = 0
        for (const result of results) if (result === undefined) completed++
        return { completed, elapsedMs }
      })
    )
  }

export const system: InProcessSystem = {
  _tag: "InProcess",
  id: "effect-foreach",
  label: "Effect.forEach",
  kind: "peer",
  notes: "`Effect.forEach(items, task, { concurrency })` (no queue of futures, so no W6)",
  runners: {
    W1: forEach((delay) => Effect.sleep(`${delay} millis`)),
    W2: forEach(() => Effect.sync(() => undefined))
  }
}
