// Smoke test of examples/pipeline: the callback-chained pipeline and the
// executor.map one save the same files and fail with the same typed errors,
// and every future the callback chains submitted settled exactly once.
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import {
  FetchFailed,
  failureOf,
  items,
  missing,
  ProcessFailed,
  readOutputs,
  truncated,
  withCallbacks,
  withEffect
} from "../../examples/pipeline/pipeline.ts"
import * as Future from "../../src/Future.ts"

const tempDir = Effect.acquireRelease(
  Effect.promise(() => fs.mkdtemp(path.join(os.tmpdir(), "pipeline-test-"))),
  (dir) => Effect.promise(() => fs.rm(dir, { recursive: true, force: true }))
)

/** A failure as plain data, so two error instances can be compared field by field. */
const fields = (error: unknown) => (error === undefined ? undefined : { ...(error as object) })

describe("examples/pipeline", () => {
  it.live(
    "callbacks and executor.map - the same saved files, the same typed failures, every future settled once",
    () =>
      Effect.gen(function* () {
        const callbackDir = yield* tempDir
        const effectDir = yield* tempDir
        // real timers, scaled down: 2 to 5 ms per fetch
        const callbacks = yield* withCallbacks(callbackDir, { latencyScale: 0.05 })
        const effect = yield* withEffect(effectDir, { latencyScale: 0.05 })

        // the same saved outputs: 18 files, byte for byte
        const left = yield* readOutputs(callbackDir)
        const right = yield* readOutputs(effectDir)
        const expectedFiles = items.filter((i) => i.id !== missing && i.id !== truncated).map((i) => `${i.id}.json`)
        assert.deepStrictEqual([...left.keys()], expectedFiles)
        assert.deepStrictEqual([...right.entries()], [...left.entries()])

        // the same outcome per item, in input order; failures are typed, with no defect or interruption
        assert.deepStrictEqual(
          callbacks.outcomes.map((o) => o.id),
          items.map((i) => i.id)
        )
        assert.deepStrictEqual(
          effect.outcomes.map((o) => o.id),
          items.map((i) => i.id)
        )
        for (let i = 0; i < items.length; i++) {
          const a = callbacks.outcomes[i].exit
          const b = effect.outcomes[i].exit
          assert.strictEqual(a._tag, b._tag, items[i].id)
          if (Exit.isSuccess(a) && Exit.isSuccess(b)) assert.deepStrictEqual(a.value, b.value)
          for (const exit of [a, b]) {
            if (Exit.isFailure(exit)) {
              assert.strictEqual(exit.cause.reasons.length, 1)
              assert.isTrue(Cause.isFailReason(exit.cause.reasons[0]))
            }
          }
          assert.deepStrictEqual(fields(failureOf(a)), fields(failureOf(b)))
        }
        const fetchError = failureOf(callbacks.outcomes[items.findIndex((i) => i.id === missing)].exit)
        assert.instanceOf(fetchError, FetchFailed)
        assert.deepStrictEqual(fields(fetchError), { _tag: "FetchFailed", id: missing, status: 404 })
        const processError = failureOf(effect.outcomes[items.findIndex((i) => i.id === truncated)].exit)
        assert.instanceOf(processError, ProcessFailed)
        assert.deepStrictEqual(fields(processError), { _tag: "ProcessFailed", id: truncated, reason: "no title line" })
        assert.strictEqual(callbacks.outcomes.filter((o) => Exit.isFailure(o.exit)).length, 2)

        // callbacks: 20 fetches, 19 processes (one fetch failed), 18 saves (one process failed);
        // each future is done and its first done-callback ran exactly once
        assert.strictEqual(callbacks.futures.length, 20 + 19 + 18)
        assert.strictEqual(new Set(callbacks.futures.map((f) => f.id)).size, callbacks.futures.length)
        for (const future of callbacks.futures) {
          assert.isTrue(yield* Future.isDone(future))
          assert.strictEqual(callbacks.settled.get(future.id), 1, `future ${future.id}`)
        }
        assert.strictEqual(callbacks.settled.size, callbacks.futures.length)
        assert.deepStrictEqual(
          { ...callbacks.stats, workers: 0 },
          {
            maxWorkers: 4,
            workers: 0,
            running: 0,
            prefetched: 0,
            queued: 0,
            submitted: 57,
            succeeded: 55,
            failed: 2,
            cancelled: 0
          }
        )
        // executor.map: one task per item, each succeeding with its item's Exit
        assert.deepStrictEqual(
          { ...effect.stats, workers: 0 },
          {
            maxWorkers: 4,
            workers: 0,
            running: 0,
            prefetched: 0,
            queued: 0,
            submitted: 20,
            succeeded: 20,
            failed: 0,
            cancelled: 0
          }
        )
      }),
    20_000
  )
})
