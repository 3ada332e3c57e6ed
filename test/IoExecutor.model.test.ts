// Model-based test of the dispatcher through the I/O executor: random command
// sequences (submit tasks of every kind, release, cancel, let time pass, shut
// down) against invariants checked after every step and at the end. The CPU
// executor runs on the same dispatcher; its worker-specific faults are tested
// in CpuExecutor.test.ts.
import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import { TestClock } from "effect/testing"
import * as Future from "../src/Future.ts"
import * as IoExecutor from "../src/IoExecutor.ts"

const Index = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 15 }))

const Command = Schema.Union([
  Schema.Struct({
    op: Schema.Literal("submit"),
    kind: Schema.Literals(["ok", "fail", "die", "interrupt", "gate", "block", "sleep"])
  }),
  Schema.Struct({ op: Schema.Literal("release"), i: Index }),
  Schema.Struct({ op: Schema.Literal("cancel"), i: Index }),
  Schema.Struct({ op: Schema.Literal("tick") }),
  Schema.Struct({ op: Schema.Literal("shutdown"), cancelFutures: Schema.Boolean })
])
type Command = typeof Command.Type

const maxWorkers = 2
const order = ["pending", "running", "succeeded", "failed", "cancelled"]

interface Entry {
  readonly future: Future.Future<unknown, unknown>
  readonly release: Deferred.Deferred<void>
  /** The task body ran to its end. */
  completed: boolean
  /** cancel() answered true at some point. */
  cancelledTrue: boolean
  /** Done-callback invocations. */
  settledCount: number
  lastState: string
}

describe("IoExecutor model", () => {
  it.effect.prop(
    "model - random command sequences keep every invariant",
    [Schema.Array(Command).check(Schema.isMinLength(8), Schema.isMaxLength(40))],
    ([commands]) =>
      Effect.gen(function* () {
        const ex = yield* IoExecutor.make({ maxWorkers, maxQueue: 4, whenFull: "fail", name: "model" })
        const entries: Array<Entry> = []
        let shutdown = false

        const check = Effect.gen(function* () {
          const s = yield* ex.stats
          assert.strictEqual(s.submitted, s.succeeded + s.failed + s.cancelled + s.running + s.queued, "stats add up")
          assert.isAtMost(s.running, maxWorkers, "never more than maxWorkers running")
          assert.isAtMost(s.queued, 4, "never more than maxQueue queued")
          for (const e of entries) {
            const state = Future.stateUnsafe(e.future)
            assert.isAtLeast(order.indexOf(state), order.indexOf(e.lastState) > 1 ? 2 : order.indexOf(e.lastState))
            if (order.indexOf(e.lastState) >= 2) assert.strictEqual(state, e.lastState, "a settled state never changes")
            e.lastState = state
          }
        })

        const run = (command: Command) =>
          Effect.gen(function* () {
            switch (command.op) {
              case "submit": {
                const release = yield* Deferred.make<void>()
                const entry = { completed: false } as Entry
                const body = {
                  ok: Effect.sync(() => 1),
                  fail: Effect.fail(0),
                  die: Effect.die("boom"),
                  interrupt: Effect.interrupt,
                  gate: Deferred.await(release),
                  block: Effect.never,
                  sleep: Effect.sleep(10)
                }[command.kind] as Effect.Effect<unknown, unknown>
                const task = Effect.tap(body, () =>
                  Effect.sync(() => {
                    entry.completed = true
                  })
                )
                const submitted = yield* Effect.exit(ex.submit(task))
                if (Exit.isFailure(submitted)) {
                  const tag = (submitted.cause.reasons[0] as any)?.error?._tag
                  assert.isTrue(shutdown ? tag === "ExecutorShutdownError" : tag === "QueueFullError", String(tag))
                  return
                }
                Object.assign(entry, {
                  future: submitted.value,
                  release,
                  cancelledTrue: false,
                  settledCount: 0,
                  lastState: Future.stateUnsafe(submitted.value)
                })
                entries.push(entry)
                yield* Future.addDoneCallback(submitted.value, () =>
                  Effect.sync(() => {
                    entry.settledCount++
                  })
                )
                return
              }
              case "release": {
                const e = entries[command.i]
                if (e !== undefined) yield* Deferred.succeed(e.release, undefined)
                return
              }
              case "cancel": {
                const e = entries[command.i]
                if (e === undefined) return
                const wasDone = yield* Future.isDone(e.future)
                const result = yield* Future.cancel(e.future)
                if (result) {
                  e.cancelledTrue = true
                  assert.strictEqual(Future.stateUnsafe(e.future), "cancelled", "cancel true ⇒ cancelled")
                } else {
                  assert.isTrue(wasDone || Future.stateUnsafe(e.future) !== "cancelled", "cancel false ⇒ not cancelled")
                }
                return
              }
              case "tick":
                return yield* TestClock.adjust(10)
              case "shutdown":
                shutdown = true
                return yield* ex.shutdown({ wait: false, cancelFutures: command.cancelFutures })
            }
          })

        for (const command of commands) {
          yield* run(command)
          yield* Effect.yieldNow
          yield* check
        }

        // wind down: release every gate, cancel what would never end, and wait
        for (const e of entries) yield* Deferred.succeed(e.release, undefined)
        yield* TestClock.adjust(10)
        for (const e of entries) {
          if (!(yield* Future.isDone(e.future))) yield* Future.cancel(e.future)
        }
        yield* Effect.forEach(entries, (e) => Future.exit(e.future), { discard: true })
        yield* Effect.yieldNow
        yield* check

        for (const e of entries) {
          assert.strictEqual(e.settledCount, 1, "every future settles exactly once")
          if (e.cancelledTrue) {
            assert.strictEqual(Future.stateUnsafe(e.future), "cancelled")
            assert.isFalse(e.completed, "cancel true ⇒ the body never completed")
          }
        }
        const s = yield* ex.stats
        assert.strictEqual(s.running + s.queued, 0)

        // no slot leaked: the pool still runs maxWorkers tasks at once
        if (!shutdown) {
          const gates = yield* Effect.forEach([0, 1], () => Deferred.make<void>())
          const started = yield* Effect.forEach([0, 1], () => Deferred.make<void>())
          const fs = yield* Effect.forEach([0, 1], (i) =>
            ex.submit(Deferred.succeed(started[i], undefined).pipe(Effect.andThen(Deferred.await(gates[i]))))
          )
          yield* Effect.forEach(started, Deferred.await, { discard: true })
          assert.strictEqual((yield* ex.stats).running, maxWorkers)
          yield* Effect.forEach(gates, (g) => Deferred.succeed(g, undefined), { discard: true })
          yield* Effect.forEach(fs, Future.await, { discard: true })
        }
        yield* ex.shutdown({ wait: true })
      }),
    { timeout: 60_000, arbitrary: { runs: Number(process.env.MODEL_RUNS ?? 150), size: 40 } }
  )
})
