import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Ref from "effect/Ref"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { TestClock } from "effect/testing"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Option from "effect/Option"
import { BrokenExecutorError } from "../src/ExecutorError.ts"
import * as ExecutorMetrics from "../src/ExecutorMetrics.ts"
import * as Future from "../src/Future.ts"
import * as IoExecutor from "../src/IoExecutor.ts"
import { type Adapter, executorContract } from "./contract/executor.ts"

type Task = Effect.Effect<unknown, unknown>

const gated = (n: number) =>
  Effect.gen(function* () {
    const started = yield* Deferred.make<void>()
    const release = yield* Deferred.make<void>()
    return {
      task: Deferred.succeed(started, undefined).pipe(Effect.andThen(Deferred.await(release)), Effect.as(n)),
      started: Deferred.await(started),
      hasStarted: Deferred.isDone(started),
      release: Effect.asVoid(Deferred.succeed(release, undefined))
    }
  })

const blocking = Effect.gen(function* () {
  const started = yield* Deferred.make<void>()
  const finalized = yield* Ref.make(false)
  return {
    task: Deferred.succeed(started, undefined).pipe(
      Effect.andThen(Effect.never),
      Effect.onInterrupt(() => Ref.set(finalized, true))
    ) as Task,
    started: Deferred.await(started),
    hasStarted: Deferred.isDone(started),
    finalized: Ref.get(finalized)
  }
})

const ioAdapter: Adapter<Task> = {
  name: "IoExecutor",
  it: it.effect,
  make: (options) =>
    Effect.map(IoExecutor.make({ ...options, name: "contract" }), (ex) => ({
      submit: (task, o) => ex.submit(task, o ?? {}),
      map: (tasks, o) => ex.map(tasks, (t) => t, o),
      shutdown: ex.shutdown,
      stats: ex.stats
    })),
  value: (n) => Effect.sync(() => n),
  fail: (e) => Effect.fail(e),
  die: (message) => Effect.die(new Error(message)),
  selfInterrupt: Effect.interrupt,
  gated,
  blocking,
  advance: (millis) => TestClock.adjust(millis),
  failureOf: (e) => e
}

executorContract(ioAdapter)

class Greeting extends Context.Service<Greeting, string>()("test/Greeting") {}

describe("IoExecutor", () => {
  it.effect("submit - the task runs with the submitter's context", () =>
    Effect.gen(function* () {
      const ex = yield* IoExecutor.make({ maxWorkers: 1 })
      const f = yield* ex.submit(Effect.service(Greeting)).pipe(Effect.provideService(Greeting, "hello"))
      assert.strictEqual(yield* Future.await(f), "hello")
    })
  )

  it.effect("submit - thousands of synchronous tasks queued behind one slot run without recursion", () =>
    Effect.gen(function* () {
      const ex = yield* IoExecutor.make({ maxWorkers: 1 })
      const g = yield* gated(-1)
      yield* ex.submit(g.task)
      yield* g.started
      const fs = []
      for (let i = 0; i < 50_000; i++) fs.push(yield* ex.submit(Effect.sync(() => i)))
      yield* g.release
      const last = yield* Future.await(fs[fs.length - 1])
      assert.strictEqual(last, 49_999)
      assert.strictEqual((yield* ex.stats).succeeded, 50_001)
    })
  )

  it.effect("initializer - runs once per worker slot before its first task", () =>
    Effect.gen(function* () {
      const runs = yield* Ref.make(0)
      const ex = yield* IoExecutor.make({ maxWorkers: 2, initializer: Ref.update(runs, (n) => n + 1) })
      const gates = yield* Effect.forEach([1, 2, 3, 4], gated)
      const fs = yield* Effect.forEach(gates, (g) => ex.submit(g.task))
      for (const g of gates) {
        yield* g.started
        yield* g.release
      }
      yield* Effect.forEach(fs, Future.await)
      assert.strictEqual(yield* Ref.get(runs), 2)
      assert.strictEqual((yield* ex.stats).workers, 2)
    })
  )

  it.effect("initializer - a failure breaks the executor; cancelled futures stay cancelled", () =>
    Effect.gen(function* () {
      const gate = yield* Deferred.make<void>()
      const ex = yield* IoExecutor.make({
        maxWorkers: 1,
        initializer: Effect.andThen(Deferred.await(gate), Effect.fail("no database"))
      })
      const f1 = yield* ex.submit(Effect.succeed(1))
      const f2 = yield* ex.submit(Effect.succeed(2))
      assert.isTrue(yield* Future.cancel(f2))
      yield* Deferred.succeed(gate, undefined)
      const error = yield* Effect.flip(Future.await(f1))
      assert.strictEqual(error._tag, "BrokenExecutorError")
      if (error instanceof BrokenExecutorError) {
        assert.strictEqual(error.cause, "no database")
        assert.include(error.message, "initializer failed")
      }
      assert.strictEqual(Future.stateUnsafe(f2), "cancelled")
      const later = yield* Effect.flip(ex.submit(Effect.succeed(3)))
      assert.strictEqual(later._tag, "BrokenExecutorError")
      const s = yield* ex.stats
      assert.strictEqual(s.failed, 1)
      assert.strictEqual(s.cancelled, 1)
    })
  )

  it.effect("initializer - one that interrupts itself breaks the executor instead of leaving a slot starting", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const gate = yield* Deferred.make<void>()
      const ctx = yield* Layer.buildWithScope(
        IoExecutor.layer({ maxWorkers: 2, initializer: Effect.andThen(Deferred.await(gate), Effect.interrupt) }),
        scope
      )
      const ex = Context.get(ctx, IoExecutor.IoExecutor)
      const f1 = yield* ex.submit(Effect.succeed(1))
      const f2 = yield* ex.submit(Effect.succeed(2))
      yield* Deferred.succeed(gate, undefined)
      for (const f of [f1, f2]) {
        const error = yield* Effect.flip(Future.await(f))
        assert.instanceOf(error, BrokenExecutorError)
        if (error instanceof BrokenExecutorError) assert.include(error.message, "initializer was interrupted")
      }
      // each queued future failed with its own error instance
      const [e1, e2] = yield* Effect.all([Effect.flip(Future.await(f1)), Effect.flip(Future.await(f2))])
      assert.notStrictEqual(e1, e2)
      // releasing the layer does not hang (it did: the slot stayed "spawning")
      yield* Scope.close(scope, Exit.void)
    })
  )

  it.effect("shutdown - called with wait from inside one of its own tasks, it waits for the others, not itself", () =>
    Effect.gen(function* () {
      const ex = yield* IoExecutor.make({ maxWorkers: 2 })
      const other = yield* gated(2)
      const queued = yield* gated(3)
      const fOther = yield* ex.submit(other.task)
      const returned = yield* Deferred.make<string>()
      const go = yield* Deferred.make<void>()
      const fSelf = yield* ex.submit(
        Effect.gen(function* () {
          yield* Deferred.await(go)
          yield* ex.shutdown({ wait: true })
          // every other task (running and queued) has settled by now
          yield* Deferred.succeed(returned, `${Future.stateUnsafe(fOther)},${Future.stateUnsafe(fQueued)}`)
          return 1
        })
      )
      const fQueued = yield* ex.submit(queued.task)
      yield* other.started
      yield* Deferred.succeed(go, undefined)
      yield* Effect.yieldNow
      assert.isFalse(yield* Deferred.isDone(returned))
      yield* other.release
      yield* queued.started
      assert.isFalse(yield* Deferred.isDone(returned))
      yield* queued.release
      assert.strictEqual(yield* Deferred.await(returned), "succeeded,succeeded")
      assert.strictEqual(yield* Future.await(fSelf), 1)
      // a synchronous task that shuts down with wait returns too
      const ex2 = yield* IoExecutor.make({ maxWorkers: 1 })
      const f = yield* ex2.submit(Effect.as(ex2.shutdown({ wait: true }), "done"))
      assert.strictEqual(yield* Future.await(f), "done")
    })
  )

  it.effect("layer - releasing the layer waits for running and queued tasks", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const ctx = yield* Layer.buildWithScope(IoExecutor.layer({ maxWorkers: 1 }), scope)
      const ex = Context.get(ctx, IoExecutor.IoExecutor)
      const g = yield* gated(1)
      const f1 = yield* ex.submit(g.task)
      const f2 = yield* ex.submit(Effect.succeed(2))
      yield* g.started
      const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
      yield* Effect.yieldNow
      assert.isUndefined(closing.pollUnsafe())
      yield* g.release
      yield* Fiber.join(closing)
      assert.strictEqual(yield* Future.await(f1), 1)
      assert.strictEqual(yield* Future.await(f2), 2)
      const error = yield* Effect.flip(ex.submit(Effect.succeed(3)))
      assert.strictEqual(error._tag, "ExecutorShutdownError")
    })
  )

  it.effect("layerConfig - reads options from config, and invalid values name the option", () =>
    Effect.gen(function* () {
      const provider = ConfigProvider.fromUnknown({ IO_WORKERS: 3, IO_NAME: "cfg" })
      const layer = IoExecutor.layerConfig({ maxWorkers: Config.Int("IO_WORKERS"), name: Config.String("IO_NAME") })
      const stats = yield* Effect.service(IoExecutor.IoExecutor).pipe(
        Effect.flatMap((ex) => ex.stats),
        Effect.provide(layer),
        Effect.provideService(ConfigProvider.ConfigProvider, provider)
      )
      assert.strictEqual(stats.maxWorkers, 3)
      const bad = IoExecutor.layerConfig({ maxWorkers: Config.succeed(-2) })
      const error = yield* Effect.flip(Effect.provide(Effect.void, bad))
      assert.strictEqual(error._tag, "InvalidOptionsError")
    })
  )

  it.effect("options - default maxWorkers is min(32, cores + 4)", () =>
    Effect.gen(function* () {
      const ex = yield* IoExecutor.make()
      assert.strictEqual((yield* ex.stats).maxWorkers, IoExecutor.defaultMaxWorkers())
      const error = yield* Effect.flip(IoExecutor.make({ initializer: 42 as any }))
      assert.strictEqual(error.option, "initializer")
    })
  )

  it.effect("metrics - submitted, settled by outcome, queue depth and timings per executor", () =>
    Effect.gen(function* () {
      const ex = yield* IoExecutor.make({ maxWorkers: 1, name: "metered" })
      const g = yield* gated(1)
      yield* ex.submit(g.task)
      yield* g.started
      const queued = yield* ex.submit(Effect.fail("x"))
      const m = ExecutorMetrics.forExecutor("metered")
      assert.strictEqual((yield* Metric.value(m.queueDepth)).value, 1)
      yield* TestClock.adjust(40)
      yield* g.release
      yield* Future.exit(queued)
      const cancelled = yield* ex.submit(Effect.never)
      yield* Future.cancel(cancelled)
      assert.strictEqual((yield* Metric.value(m.submitted)).count, 3)
      assert.strictEqual((yield* Metric.value(m.succeeded)).count, 1)
      assert.strictEqual((yield* Metric.value(m.failed)).count, 1)
      assert.strictEqual((yield* Metric.value(m.cancelled)).count, 1)
      assert.strictEqual((yield* Metric.value(m.queueDepth)).value, 0)
      const wait = yield* Metric.value(m.queueWait)
      assert.strictEqual(wait.count, 3)
      assert.strictEqual(wait.max, 40)
      const run = yield* Metric.value(m.runTime)
      assert.strictEqual(run.count, 3)
      assert.strictEqual(run.max, 40)
    })
  )

  it.effect("metrics - metrics: false records nothing", () =>
    Effect.gen(function* () {
      const ex = yield* IoExecutor.make({ maxWorkers: 1, name: "silent", metrics: false })
      yield* Future.await(yield* ex.submit(Effect.succeed(1)))
      const m = ExecutorMetrics.forExecutor("silent")
      assert.strictEqual((yield* Metric.value(m.submitted)).count, 0)
    })
  )

  it.effect("tracing - the task runs in a span that is a child of the submitter's span", () =>
    Effect.gen(function* () {
      const ex = yield* IoExecutor.make({ maxWorkers: 1, name: "traced" })
      const g = yield* gated(0)
      yield* ex.submit(g.task)
      yield* g.started
      const parent = yield* Effect.makeSpan("parent")
      const f = yield* ex.submit(Effect.currentSpan).pipe(Effect.withParentSpan(parent))
      yield* TestClock.adjust(25)
      yield* g.release
      const span = yield* Future.await(f)
      assert.strictEqual(span.name, "traced.task")
      assert.strictEqual(Option.getOrUndefined(span.parent)?.spanId, parent.spanId)
      assert.strictEqual(span.attributes.get("queue.wait_ms"), 25)
      // outside any span no task span is made
      const g2 = yield* ex.submit(Effect.exit(Effect.currentSpan))
      assert.isTrue(Exit.isFailure(yield* Future.await(g2)))
    })
  )

  it.effect("callbacks - done-callbacks chain a pipeline through the executor", () =>
    Effect.gen(function* () {
      const ex = yield* IoExecutor.make({ maxWorkers: 2 })
      const result = yield* Deferred.make<number>()
      const f = yield* ex.submit(Effect.succeed(20))
      yield* Future.addDoneCallback(f, (done) =>
        Effect.gen(function* () {
          const n = yield* Effect.orDie(Future.await(done))
          const g = yield* Effect.orDie(ex.submit(Effect.succeed(n + 1)))
          yield* Future.addDoneCallback(g, (d) =>
            Effect.flatMap(Effect.orDie(Future.await(d)), (m) => Deferred.succeed(result, m * 2))
          )
        })
      )
      assert.strictEqual(yield* Deferred.await(result), 42)
    })
  )

  it.effect("map - chunksize is accepted and ignored; taskTimeout bounds each task", () =>
    Effect.gen(function* () {
      const ex = yield* IoExecutor.make({ maxWorkers: 2 })
      const out = yield* Stream.runCollect(ex.map([1, 2, 3], (n) => Effect.succeed(n * 10), { chunksize: 100 }))
      assert.deepStrictEqual(out, [10, 20, 30])
      const fiber = yield* Effect.forkChild(
        Effect.flip(Stream.runCollect(ex.map([1], () => Effect.never, { taskTimeout: 10 })))
      )
      yield* TestClock.adjust(10)
      assert.isTrue(Cause.isTimeoutError(yield* Fiber.join(fiber)))
    })
  )

  it.effect("map - an infinite input is safe with buffersize", () =>
    Effect.gen(function* () {
      const ex = yield* IoExecutor.make({ maxWorkers: 2 })
      function* naturals() {
        for (let i = 0; ; i++) yield i
      }
      const out = yield* Stream.runCollect(
        Stream.take(
          ex.map(naturals(), (n) => Effect.succeed(n), { buffersize: 4 }),
          10
        )
      )
      assert.deepStrictEqual(out, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
      const s = yield* ex.stats
      assert.isAtMost(s.submitted, 14)
    })
  )
})

describe("Future.cancelAll", () => {
  it.effect("cancelAll - queued futures are cancelled before running ones, so none of them starts", () =>
    Effect.gen(function* () {
      const ex = yield* IoExecutor.make({ maxWorkers: 1 })
      const started: Array<string> = []
      const gate = yield* Deferred.make<void>()
      const task = (name: string) => Effect.sync(() => started.push(name)).pipe(Effect.andThen(Deferred.await(gate)))
      const running = yield* ex.submit(task("a"))
      yield* Effect.yieldNow
      const queued = yield* Effect.forEach(["b", "c"], (n) => ex.submit(task(n)))
      assert.deepStrictEqual(started, ["a"])
      // the running one comes first in the list: a loop over cancel lets "b" and "c" start
      const results = yield* Future.cancelAll([running, ...queued])
      assert.deepStrictEqual(results, [true, true, true])
      assert.deepStrictEqual(started, ["a"], "no queued task started")
      assert.deepStrictEqual(
        [running, ...queued].map((f) => Future.stateUnsafe(f)),
        ["cancelled", "cancelled", "cancelled"]
      )
      const s = yield* ex.stats
      assert.strictEqual(s.cancelled, 3)
      assert.strictEqual(s.running + s.queued, 0)
      // settled ones answer as cancel does
      const done = yield* ex.submit(Effect.succeed(1))
      yield* Future.await(done)
      assert.deepStrictEqual(yield* Future.cancelAll([done, running]), [false, true])
    }).pipe(Effect.scoped)
  )
})
