import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import { TestClock } from "effect/testing"
import * as Future from "../src/Future.ts"
import * as canned from "./utils/futures.ts"

describe("Future", () => {
  describe("await and exit", () => {
    it.effect("await - resumes every awaiter when the future settles", () =>
      Effect.gen(function* () {
        const f = canned.running<number, string>()
        const a = yield* Effect.forkChild(Future.await(f), { startImmediately: true })
        const b = yield* Effect.forkChild(Future.exit(f), { startImmediately: true })
        canned.complete(f, Exit.succeed(7))
        assert.strictEqual(yield* Fiber.join(a), 7)
        assert.deepStrictEqual(yield* Fiber.join(b), Exit.succeed(7))
      })
    )

    it.effect("await - a cancelled future fails with CancelledError carrying its id", () =>
      Effect.gen(function* () {
        const f = canned.pending<number, never>()
        const waiter = yield* Effect.forkChild(Effect.flip(Future.await(f)), { startImmediately: true })
        assert.isTrue(yield* Future.cancel(f))
        const error = yield* Fiber.join(waiter)
        assert.strictEqual(error._tag, "CancelledError")
        assert.strictEqual(error.futureId, f.id)
      })
    )

    it.effect("await - composes with Effect.timeout under TestClock and leaves the future alone", () =>
      Effect.gen(function* () {
        const f = canned.running()
        const fiber = yield* Effect.forkChild(Effect.flip(Future.await(f).pipe(Effect.timeout("1 second"))))
        yield* TestClock.adjust("1 second")
        assert.isTrue(Cause.isTimeoutError(yield* Fiber.join(fiber)))
        assert.strictEqual(Future.stateUnsafe(f), "running")
      })
    )

    it.effect("await - a zero timeout on a settled future returns its value", () =>
      Effect.gen(function* () {
        assert.strictEqual(yield* Future.await(canned.succeeded(3)).pipe(Effect.timeout(0)), 3)
        assert.strictEqual(yield* Effect.flip(Future.await(canned.failed(0)).pipe(Effect.timeout(0))), 0)
      })
    )

    it.effect("exit - never fails, and keeps falsy failures as failures", () =>
      Effect.gen(function* () {
        for (const e of [undefined, 0, ""]) {
          const exit = yield* Future.exit(canned.failed(e))
          assert.isTrue(Exit.isFailure(exit))
        }
      })
    )

    it.effect("settle - happens exactly once", () =>
      Effect.gen(function* () {
        const f = canned.running<number, string>()
        assert.isTrue(canned.complete(f, Exit.succeed(1)))
        assert.isFalse(canned.complete(f, Exit.fail("late")))
        assert.isFalse(yield* Future.cancel(f))
        assert.strictEqual(yield* Future.await(f), 1)
      })
    )

    it.effect("settle - interruptions mixed into a failure are dropped; interruption alone is cancellation", () =>
      Effect.gen(function* () {
        const f = canned.running<number, string>()
        canned.complete(f, Exit.failCause(Cause.combine(Cause.fail("boom"), Cause.interrupt(1))))
        const exit = yield* Future.exit(f)
        assert.isTrue(Exit.isFailure(exit) && !Cause.hasInterrupts(exit.cause))
        assert.strictEqual(Future.stateUnsafe(f), "failed")
        const g = canned.running()
        canned.complete(g, Exit.interrupt(1))
        assert.strictEqual(Future.stateUnsafe(g), "cancelled")
      })
    )
  })

  describe("state", () => {
    it.effect("state - every state is reported", () =>
      Effect.gen(function* () {
        assert.strictEqual(yield* Future.state(canned.pending()), "pending")
        assert.strictEqual(yield* Future.state(canned.running()), "running")
        assert.strictEqual(yield* Future.state(canned.succeeded(1)), "succeeded")
        assert.strictEqual(yield* Future.state(canned.failed("e")), "failed")
        assert.strictEqual(yield* Future.state(canned.cancelled()), "cancelled")
        assert.isTrue(yield* Future.isRunning(canned.running()))
        assert.isFalse(yield* Future.isDone(canned.running()))
        assert.isTrue(yield* Future.isCancelled(canned.cancelled()))
        assert.isTrue(Future.isFuture(canned.pending()))
        assert.isFalse(Future.isFuture({ id: 1 }))
      })
    )
  })

  describe("addDoneCallback", () => {
    it.effect("addDoneCallback - runs once, after settling, in registration order", () =>
      Effect.gen(function* () {
        const log = yield* Ref.make<Array<string>>([])
        const f = canned.running<number, string>()
        for (const name of ["a", "b", "c"]) {
          yield* Future.addDoneCallback(f, (done) =>
            Effect.flatMap(Future.state(done), (s) => Ref.update(log, (l) => [...l, `${name}:${s}`]))
          )
        }
        assert.deepStrictEqual(yield* Ref.get(log), [])
        canned.complete(f, Exit.succeed(1))
        canned.complete(f, Exit.succeed(2))
        yield* Effect.yieldNow
        assert.deepStrictEqual(yield* Ref.get(log), ["a:succeeded", "b:succeeded", "c:succeeded"])
      })
    )

    it.effect("addDoneCallback - an async callback finishes before the next one starts", () =>
      Effect.gen(function* () {
        const log = yield* Ref.make<Array<string>>([])
        const f = canned.running()
        yield* f.pipe(
          Future.addDoneCallback(() =>
            Effect.andThen(
              Effect.sleep("1 second"),
              Ref.update(log, (l) => [...l, "slow"])
            )
          )
        )
        yield* Future.addDoneCallback(f, () => Ref.update(log, (l) => [...l, "fast"]))
        canned.complete(f, Exit.succeed(1))
        yield* TestClock.adjust("1 second")
        assert.deepStrictEqual(yield* Ref.get(log), ["slow", "fast"])
      })
    )

    it.effect("addDoneCallback - runs at once when the future has already settled", () =>
      Effect.gen(function* () {
        const ran = yield* Ref.make(0)
        yield* Future.addDoneCallback(canned.cancelled(), () => Ref.update(ran, (n) => n + 1))
        assert.strictEqual(yield* Ref.get(ran), 1)
      })
    )

    it.effect("addDoneCallback - a failing, dying or throwing callback is logged and affects nothing else", () => {
      const logs: Array<string> = []
      const logger = Logger.make((options) => {
        logs.push(`${options.logLevel}:${String(options.message)}`)
      })
      return Effect.gen(function* () {
        const ran = yield* Ref.make(0)
        const f = canned.running<number, string>()
        yield* Future.addDoneCallback(f, () => Effect.fail("callback error"))
        yield* Future.addDoneCallback(f, () => Effect.die("callback defect"))
        yield* Future.addDoneCallback(f, () => {
          throw new Error("thrown")
        })
        yield* Future.addDoneCallback(f, () => Ref.update(ran, (n) => n + 1))
        canned.complete(f, Exit.succeed(5))
        yield* Effect.yieldNow
        assert.strictEqual(yield* Ref.get(ran), 1)
        assert.strictEqual(yield* Future.await(f), 5)
        assert.strictEqual(logs.filter((l) => l.startsWith("Error:")).length, 3, logs.join("\n"))
      }).pipe(Effect.provide(Logger.layer([logger])))
    })
  })

  describe("wait", () => {
    it.effect("wait - ALL_COMPLETED returns when every future is done; duplicates count once", () =>
      Effect.gen(function* () {
        const a = canned.running()
        const b = canned.pending()
        const waiter = yield* Effect.forkChild(Future.wait([a, b, a]), { startImmediately: true })
        canned.complete(a, Exit.succeed(1))
        assert.isUndefined(waiter.pollUnsafe())
        yield* Future.cancel(b)
        const { done, notDone } = yield* Fiber.join(waiter)
        assert.strictEqual(done.size, 2)
        assert.strictEqual(notDone.size, 0)
      })
    )

    it.effect("wait - FIRST_COMPLETED returns at the first done, cancelled counts", () =>
      Effect.gen(function* () {
        const a = canned.running()
        const b = canned.running()
        const waiter = yield* Effect.forkChild(Future.wait([a, b], { returnWhen: "FIRST_COMPLETED" }), {
          startImmediately: true
        })
        yield* Future.cancel(b)
        const { done, notDone } = yield* Fiber.join(waiter)
        assert.isTrue(done.has(b) && notDone.has(a))
        const already = yield* Future.wait([canned.succeeded(1), canned.running()], { returnWhen: "FIRST_COMPLETED" })
        assert.strictEqual(already.done.size, 1)
      })
    )

    it.effect("wait - FIRST_EXCEPTION ignores successes and cancellations, returns at the first failure", () =>
      Effect.gen(function* () {
        const a = canned.running<number, string>()
        const b = canned.running<number, string>()
        const c = canned.running<number, string>()
        const waiter = yield* Effect.forkChild(Future.wait([a, b, c], { returnWhen: "FIRST_EXCEPTION" }), {
          startImmediately: true
        })
        canned.complete(a, Exit.succeed(1))
        canned.complete(b, Exit.interrupt(1))
        assert.isUndefined(waiter.pollUnsafe())
        canned.complete(c, Exit.fail(""))
        const { done } = yield* Fiber.join(waiter)
        assert.strictEqual(done.size, 3)
        const none = yield* Future.wait([canned.succeeded(1), canned.cancelled()], { returnWhen: "FIRST_EXCEPTION" })
        assert.strictEqual(none.done.size, 2)
      })
    )

    it.effect("wait - on timeout returns the partition at that moment", () =>
      Effect.gen(function* () {
        const a = canned.running()
        const b = canned.running()
        const waiter = yield* Effect.forkChild(Future.wait([a, b], { timeout: "1 second" }), {
          startImmediately: true
        })
        canned.complete(a, Exit.succeed(1))
        yield* TestClock.adjust("1 second")
        const { done, notDone } = yield* Fiber.join(waiter)
        assert.isTrue(done.has(a) && notDone.has(b))
        const empty = yield* Future.wait([])
        assert.strictEqual(empty.done.size + empty.notDone.size, 0)
      })
    )

    it.effect("wait - no lost wake-up when futures settle between the check and the registration", () =>
      Effect.gen(function* () {
        for (let round = 0; round < 50; round++) {
          const fs = [canned.running(), canned.running(), canned.running()]
          const waiter = yield* Effect.forkChild(Future.wait(fs))
          // settle while the waiter is scheduled but has not run yet
          for (const f of fs) canned.complete(f, Exit.succeed(round))
          const { done } = yield* Fiber.join(waiter)
          assert.strictEqual(done.size, 3)
        }
      })
    )

    it.effect("wait - interrupting the waiter unregisters it and leaves the futures alone", () =>
      Effect.gen(function* () {
        const a = canned.running()
        const waiter = yield* Effect.forkChild(Future.wait([a]), { startImmediately: true })
        yield* Fiber.interrupt(waiter)
        assert.strictEqual(Future.stateUnsafe(a), "running")
        canned.complete(a, Exit.succeed(1))
        assert.strictEqual(yield* Future.await(a), 1)
      })
    )

    it.effect("wait - data-last form and invalid timeouts", () =>
      Effect.gen(function* () {
        const { done } = yield* Future.wait({ timeout: 0 })([canned.succeeded(1)])
        assert.strictEqual(done.size, 1)
        const exit = yield* Effect.exit(Future.wait([canned.running()], { timeout: -5 }))
        assert.isTrue(Exit.isFailure(exit) && Cause.hasDies(exit.cause))
      })
    )
  })

  describe("asCompleted", () => {
    it.effect("asCompleted - settled futures first in input order, then completion order, each once", () =>
      Effect.gen(function* () {
        const s1 = canned.succeeded(1)
        const s2 = canned.failed("x")
        const r1 = canned.running<number, string>()
        const r2 = canned.running<number, string>()
        const all: Array<Future.Future<number, string>> = [r1, s1, r2, s2, r1]
        const collect = yield* Effect.forkChild(Stream.runCollect(Future.asCompleted(all)), {
          startImmediately: true
        })
        canned.complete(r2, Exit.succeed(2))
        canned.complete(r1, Exit.succeed(3))
        const out = yield* Fiber.join(collect)
        assert.deepStrictEqual(out, [s1, s2, r2, r1])
      })
    )

    it.effect("asCompleted - fails with TimeoutError when futures are still pending at the deadline", () =>
      Effect.gen(function* () {
        const r = canned.running()
        const seen: Array<unknown> = []
        const fiber = yield* Effect.forkChild(
          Future.asCompleted([canned.succeeded(1), r], { timeout: "1 second" }).pipe(
            Stream.runForEach((f) => Effect.sync(() => seen.push(f))),
            Effect.flip
          ),
          { startImmediately: true }
        )
        yield* TestClock.adjust("1 second")
        const error = yield* Fiber.join(fiber)
        assert.isTrue(Cause.isTimeoutError(error))
        // Python's message
        assert.strictEqual((error as Cause.TimeoutError).message, "1 (of 2) futures unfinished")
        assert.strictEqual(seen.length, 1)
      })
    )

    it.effect("asCompleted - stopping early unregisters its observers", () =>
      Effect.gen(function* () {
        const r = canned.running()
        const first = yield* Stream.runCollect(Stream.take(Future.asCompleted([canned.succeeded(0), r]), 1))
        assert.strictEqual(first.length, 1)
        assert.strictEqual(((r as any).observers ?? []).length, 0)
      })
    )
  })
})
