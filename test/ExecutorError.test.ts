import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as ExecutorError from "../src/ExecutorError.ts"

describe("ExecutorError", () => {
  it("messages - name what happened and where", () => {
    assert.strictEqual(new ExecutorError.CancelledError({ futureId: 3 }).message, "future 3 was cancelled")
    assert.include(new ExecutorError.ExecutorShutdownError({ executor: "io" }).message, `"io" is shut down`)
    assert.include(new ExecutorError.QueueFullError({ executor: "io", capacity: 8 }).message, "maxQueue 8")
    assert.include(
      new ExecutorError.BrokenExecutorError({ executor: "cpu", reason: "initializer failed" }).message,
      "broken: initializer failed"
    )
    const invalid = new ExecutorError.InvalidOptionsError({
      option: "maxWorkers",
      value: -1,
      expected: "a positive integer"
    })
    assert.strictEqual(invalid.message, `invalid option "maxWorkers": expected a positive integer, got -1`)
    assert.include(
      new ExecutorError.WorkerCrashedError({ workerId: 2, exitCode: 3, reason: "exit" }).message,
      "exit code 3"
    )
    assert.include(
      new ExecutorError.TaskCodecError({ task: "Square", phase: "payload", reason: "bad" }).message,
      `task "Square"`
    )
  })

  it("guards - isExecutorError recognises every error and nothing else", () => {
    assert.isTrue(ExecutorError.isExecutorError(new ExecutorError.CancelledError({ futureId: 1 })))
    assert.isTrue(ExecutorError.isExecutorError(new ExecutorError.WorkerCrashedError({ workerId: 1, reason: "x" })))
    assert.isFalse(ExecutorError.isExecutorError({ _tag: "CancelledError" }))
    assert.isFalse(ExecutorError.isExecutorError(new Error("x")))
  })

  it.effect("schema - errors round-trip through structured clone as the same class", () =>
    Effect.gen(function* () {
      const schema = ExecutorError.WorkerCrashedError
      const original = new ExecutorError.WorkerCrashedError({ workerId: 4, exitCode: 1, reason: "uncaught" })
      const encoded = yield* Schema.encodeUnknownEffect(schema)(original)
      const decoded = yield* Schema.decodeUnknownEffect(schema)(structuredClone(encoded))
      assert.instanceOf(decoded, ExecutorError.WorkerCrashedError)
      assert.strictEqual(decoded.exitCode, 1)
    })
  )
})
