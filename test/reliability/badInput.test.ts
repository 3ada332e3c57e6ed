// Bad input (issue 6), table-driven: every invalid option of both executors'
// `layer` and `make`, invalid timeouts and sizes on submit / wait /
// asCompleted / map, payloads and results that cannot cross the thread or
// do not match their schema, unknown tasks, huge payloads, and calls on a
// shut-down or released executor. Each gets a typed error naming the
// problem, and the executor keeps serving where it should.
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { fileURLToPath } from "node:url"
import * as CpuExecutor from "../../src/CpuExecutor.ts"
import { CancelledError, InvalidOptionsError, TaskCodecError } from "../../src/ExecutorError.ts"
import * as Future from "../../src/Future.ts"
import * as IoExecutor from "../../src/IoExecutor.ts"
import * as F from "../fixtures/faults.ts"
import * as Gate from "../fixtures/gate.ts"
import { assertConsistent, bounded, defectOf, failureOf } from "./helpers.ts"
import * as Tap from "./workerTap.ts"

Tap.install()
afterAll(() => Tap.uninstall())

const worker = new URL("../fixtures/faultWorker.ts", import.meta.url)

// ---------------------------------------------------------------------------
// options
// ---------------------------------------------------------------------------

type Case<O> = readonly [label: string, options: O, option: string, value: unknown]

/** `[option, bad values]`, expanded to one case per value. */
const expand = <O>(base: O, table: ReadonlyArray<readonly [string, ReadonlyArray<unknown>]>): Array<Case<O>> =>
  table.flatMap(([option, values]) =>
    values.map((value) => [`${option} = ${show(value)}`, { ...base, [option]: value } as O, option, value] as const)
  )

const show = (value: unknown): string =>
  typeof value === "string"
    ? JSON.stringify(value)
    : typeof value === "function"
      ? "a function"
      : typeof value === "object" && value !== null
        ? (JSON.stringify(value) ?? String(value))
        : String(value)

const sizes = [0, -1, 1.5, Number.NaN, Infinity, "2", null]
const counts = [-1, 1.5, Number.NaN, "3", -Infinity]
// effect reads a NaN inside a tuple or a duration object as 0 (an immediate timeout): rejected too
const durations = [-1, Number.NaN, -Infinity, "soon", "-5 seconds", [Number.NaN, 0], { millis: 5, seconds: Number.NaN }]

const ioCases: Array<Case<IoExecutor.Options<never>>> = expand<IoExecutor.Options<never>>({}, [
  ["maxWorkers", sizes],
  ["maxQueue", counts],
  ["whenFull", ["x", "", 1]],
  ["name", ["", 5]],
  ["metrics", ["yes", 1]],
  ["tracing", ["no", 0]],
  ["initializer", ["not an effect", () => Effect.void, {}]]
])

const cpuCases: Array<Case<CpuExecutor.Options>> = [
  ["worker missing", {} as CpuExecutor.Options, "worker", undefined],
  ["worker = empty string", { worker: "" }, "worker", ""],
  ["worker = a number", { worker: 42 as any }, "worker", 42],
  ["worker = a path that does not exist", { worker: "test/fixtures/no-such-worker.ts" }, "worker", undefined],
  ["worker = a file: URL that does not exist", { worker: new URL("./no-such.ts", worker) }, "worker", undefined],
  ["worker = an http URL", { worker: new URL("https://example.com/worker.js") }, "worker", undefined],
  ["worker = a directory", { worker: fileURLToPath(new URL(".", worker)) }, "worker", undefined],
  ["minWorkers > maxWorkers", { worker, maxWorkers: 2, minWorkers: 3 }, "minWorkers", 3],
  ...expand<CpuExecutor.Options>({ worker }, [
    ["maxWorkers", sizes],
    ["minWorkers", [-1, 1.5, Number.NaN, "1"]],
    ["idleTimeout", durations],
    ["maxTasksPerWorker", [0, -1, 1.5, Number.NaN, "10"]],
    ["prefetch", [-1, 1.5, Number.NaN, Infinity]],
    ["concurrentTasksPerWorker", [0, -1, 1.5, Infinity]],
    ["cancelGracePeriod", durations],
    ["closeTimeout", durations],
    ["maxCrashes", counts],
    ["crashWindow", durations],
    ["maxQueue", counts],
    ["whenFull", ["x"]],
    ["name", [""]],
    ["metrics", ["no"]],
    ["execArgv", ["--inspect", [1]]],
    ["env", ["X=1", { X: 1 }]],
    ["resourceLimits", ["big", null]]
  ]),
  ["workerData = uncloneable", { worker, workerData: { f: () => 1 } }, "workerData", undefined]
]

const assertInvalid = (error: unknown, option: string, value: unknown, label: string) => {
  assert.instanceOf(error, InvalidOptionsError, `${label}: ${String(error)}`)
  const e = error as InvalidOptionsError
  assert.strictEqual(e._tag, "InvalidOptionsError")
  assert.strictEqual(e.option, option, `${label}: ${e.message}`)
  if (value !== undefined) assert.isTrue(Object.is(e.value, value), `${label}: value ${String(e.value)}`)
  assert.isAbove(e.expected.length, 0)
  assert.include(e.message, `"${option}"`)
}

describe("bad input - options", () => {
  for (const [label, options, option, value] of ioCases) {
    it.effect(`IoExecutor.make and .layer - ${label} → InvalidOptionsError(${option})`, () =>
      Effect.gen(function* () {
        assertInvalid(yield* Effect.flip(IoExecutor.make(options)), option, value, `make ${label}`)
        assertInvalid(yield* Effect.flip(Layer.build(IoExecutor.layer(options))), option, value, `layer ${label}`)
      })
    )
  }

  for (const [label, options, option, value] of cpuCases) {
    it.live(`CpuExecutor.make and .layer - ${label} → InvalidOptionsError(${option})`, () =>
      Effect.gen(function* () {
        const tapBefore = Tap.all().length
        assertInvalid(yield* Effect.flip(CpuExecutor.make(options)), option, value, `make ${label}`)
        assertInvalid(yield* Effect.flip(Layer.build(CpuExecutor.layer(options))), option, value, `layer ${label}`)
        assert.strictEqual(Tap.all().length, tapBefore, "no worker was started")
      })
    )
  }

  it.live("CpuExecutor - Infinity is accepted where it means 'no limit' (idleTimeout, durations, maxQueue)", () =>
    Effect.gen(function* () {
      const ex = yield* CpuExecutor.make({
        worker,
        maxWorkers: 1,
        idleTimeout: Infinity,
        cancelGracePeriod: "Infinity",
        closeTimeout: Infinity,
        crashWindow: Infinity,
        maxQueue: Infinity
      })
      assert.strictEqual(yield* bounded("serves")(Future.await(yield* ex.submit(F.Scale, { x: 2, times: 3 }))), 6)
    })
  )

  it.live("CpuExecutor - a module that never calls CpuWorker.serve breaks the executor instead of hanging", () =>
    Effect.gen(function* () {
      const ex = yield* CpuExecutor.make({ worker: new URL("./faults.ts", worker), maxWorkers: 1 })
      const error = failureOf(yield* bounded("not a worker entry")(Future.exit(yield* ex.submit(F.WhoAmI, null))))
      assert.strictEqual(error._tag, "BrokenExecutorError")
      assert.match(error.reason, /exited during startup \(exit code 0\)/)
    })
  )
})

// ---------------------------------------------------------------------------
// timeouts and sizes of calls
// ---------------------------------------------------------------------------

const badDurations: ReadonlyArray<unknown> = [
  Number.NaN,
  -1,
  -Infinity,
  "soon",
  [1, Number.NaN],
  { millis: Number.NaN }
]

/** Calls whose options are invalid die with an InvalidOptionsError naming the option. */
const assertDies = (exit: Exit.Exit<unknown, unknown>, option: string, value: unknown, label: string) => {
  const defect = defectOf(exit, label)
  assertInvalid(defect, option, value, label)
}

interface Subject {
  readonly name: string
  readonly make: Effect.Effect<
    {
      readonly submit: (
        n: number,
        options?: { timeout?: any }
      ) => Effect.Effect<Future.Future<number, unknown>, unknown>
      readonly map: (ns: ReadonlyArray<number>, options: any) => Stream.Stream<number, unknown>
      readonly stats: Effect.Effect<any>
    },
    unknown,
    Scope.Scope
  >
  readonly it: typeof it.live
}

const subjects: ReadonlyArray<Subject> = [
  {
    name: "IoExecutor",
    it: it.effect,
    make: Effect.map(IoExecutor.make({ maxWorkers: 2 }), (ex) => ({
      submit: (n, o) => ex.submit(Effect.succeed(n), o ?? {}),
      map: (ns, o) => ex.map(ns, (n) => Effect.succeed(n), o),
      stats: ex.stats
    }))
  },
  {
    name: "CpuExecutor",
    it: it.live,
    make: Effect.map(CpuExecutor.make({ worker, maxWorkers: 2 }), (ex) => ({
      submit: (n, o) => ex.submit(F.Scale, { x: n, times: 1 }, o),
      map: (ns, o) =>
        ex.map(
          F.Scale,
          ns.map((x) => ({ x, times: 1 })),
          o
        ),
      stats: ex.stats
    }))
  }
]

describe("bad input - timeouts and sizes", () => {
  for (const subject of subjects) {
    subject.it(`${subject.name} - invalid timeouts on submit / wait / asCompleted / map die naming the option`, () =>
      Effect.gen(function* () {
        const ex = yield* subject.make
        const settled = yield* ex.submit(1)
        yield* Future.await(settled)
        for (const bad of badDurations) {
          const label = `${subject.name} ${show(bad)}`
          assertDies(yield* Effect.exit(ex.submit(2, { timeout: bad })), "timeout", bad, `submit ${label}`)
          assertDies(
            yield* Effect.exit(Future.wait([settled], { timeout: bad as any })),
            "timeout",
            bad,
            `wait ${label}`
          )
          assertDies(
            yield* Effect.exit(Stream.runCollect(Future.asCompleted([settled], { timeout: bad as any }))),
            "timeout",
            bad,
            `asCompleted ${label}`
          )
          assertDies(yield* Effect.exit(Stream.runCollect(ex.map([1, 2], { timeout: bad }))), "timeout", bad, label)
          assertDies(
            yield* Effect.exit(Stream.runCollect(ex.map([1, 2], { taskTimeout: bad }))),
            "taskTimeout",
            bad,
            `map taskTimeout ${label}`
          )
        }
        for (const bad of [0, -1, 1.5, Number.NaN]) {
          assertDies(
            yield* Effect.exit(Stream.runCollect(ex.map([1, 2], { buffersize: bad }))),
            "buffersize",
            bad,
            `map buffersize ${show(bad)}`
          )
        }
        assertDies(
          yield* Effect.exit(Future.wait([settled], { returnWhen: "SOMETIMES" as any })),
          "returnWhen",
          "SOMETIMES",
          "wait returnWhen"
        )
        // nothing was submitted by the rejected calls, and the executor keeps serving
        const s = yield* ex.stats
        assertConsistent(s)
        assert.strictEqual(s.submitted, 1)
        // Infinity means no limit
        const f = yield* ex.submit(3, { timeout: Infinity })
        assert.strictEqual(yield* Future.await(f), 3)
        assert.strictEqual((yield* Future.wait([f], { timeout: Infinity })).done.size, 1)
        assert.strictEqual((yield* Stream.runCollect(Future.asCompleted([f], { timeout: "Infinity" }))).length, 1)
        assert.deepStrictEqual(
          yield* Stream.runCollect(ex.map([4, 5], { timeout: Infinity, taskTimeout: Infinity })),
          [4, 5]
        )
      })
    )
  }

  it.live("CpuExecutor - an invalid chunksize dies naming it", () =>
    Effect.gen(function* () {
      const ex = yield* CpuExecutor.make({ worker, maxWorkers: 1 })
      for (const bad of [0, -1, 1.5, Number.NaN]) {
        assertDies(
          yield* Effect.exit(Stream.runCollect(ex.map(F.Scale, [{ x: 1, times: 1 }], { chunksize: bad }))),
          "chunksize",
          bad,
          `chunksize ${show(bad)}`
        )
      }
      assert.strictEqual((yield* ex.stats).submitted, 0)
    })
  )
})

// ---------------------------------------------------------------------------
// payloads and results
// ---------------------------------------------------------------------------

const codecFailure = (
  exit: Exit.Exit<unknown, unknown>,
  task: string,
  phase: TaskCodecError["phase"],
  label: string
) => {
  const error = failureOf(exit, label)
  assert.instanceOf(error, TaskCodecError, label)
  assert.strictEqual(error._tag, "TaskCodecError")
  assert.strictEqual(error.task, task, label)
  assert.strictEqual(error.phase, phase, `${label}: ${error.reason}`)
  return error as TaskCodecError
}

describe("bad input - payloads and results", () => {
  it.live(
    "CpuExecutor - uncloneable, schema-invalid payloads and results and unknown tasks fail only their future",
    () =>
      Effect.gen(function* () {
        const ex = yield* CpuExecutor.make({ worker, maxWorkers: 1 })
        const serves = Effect.gen(function* () {
          assert.strictEqual(yield* bounded("serves")(Future.await(yield* ex.submit(F.Scale, { x: 7, times: 6 }))), 42)
        })
        yield* serves
        const uncloneable: ReadonlyArray<readonly [string, unknown]> = [
          ["a function", () => 1],
          ["a symbol", Symbol("s")],
          ["an object holding a function", { f: () => 1 }],
          ["a WeakMap", new WeakMap()]
        ]
        for (const [label, payload] of uncloneable) {
          const error = codecFailure(
            yield* bounded(label)(Future.exit(yield* ex.submit(F.Echo, payload))),
            "Echo",
            "payload",
            label
          )
          assert.include(error.reason, "cannot be sent to the worker")
          yield* serves
        }
        const invalid: ReadonlyArray<readonly [string, unknown]> = [
          ["x is a string", { x: "1", times: 2 }],
          ["times is not an integer", { x: 1, times: 1.5 }],
          ["times is missing", { x: 1 }],
          ["null", null]
        ]
        for (const [label, payload] of invalid) {
          // encoded in the parent: it never reaches a worker
          const f = yield* ex.submit(F.Scale, payload as any)
          assert.strictEqual(Future.stateUnsafe(f), "failed", label)
          codecFailure(yield* Future.exit(f), "Scale", "payload", label)
          yield* serves
        }
        const symbol = codecFailure(
          yield* bounded("symbol result")(Future.exit(yield* ex.submit(F.SymbolResult, null))),
          "SymbolResult",
          "success",
          "a symbol result"
        )
        assert.include(symbol.reason, "cannot be sent to the parent")
        codecFailure(yield* Future.exit(yield* ex.submit(F.WrongSuccess, null)), "WrongSuccess", "success", "success")
        codecFailure(yield* Future.exit(yield* ex.submit(F.WrongError, null)), "WrongError", "error", "error")
        const unknown = codecFailure(
          yield* Future.exit(yield* ex.submit(F.Unserved, null)),
          "Unserved",
          "payload",
          "an unknown task"
        )
        assert.include(unknown.reason, 'serves no task named "Unserved"')
        yield* serves
        const s = yield* ex.stats
        assertConsistent(s)
        assert.deepStrictEqual([s.failed, s.crashes, s.restarts], [12, 0, 0])
      }),
    30_000
  )

  it.live(
    "CpuExecutor - one bad payload or result in a batch fails only itself",
    () =>
      Effect.gen(function* () {
        const ex = yield* CpuExecutor.make({ worker, maxWorkers: 1, concurrentTasksPerWorker: 3 })
        yield* bounded("warm")(Future.await(yield* ex.submit(F.WhoAmI, null)))
        // dispatched in one turn to one worker: one RUN_BATCH message, which cannot be cloned
        const sent = yield* Effect.forEach([1, () => 2, 3] as ReadonlyArray<unknown>, (p) => ex.submit(F.Echo, p))
        const sentExits = yield* bounded("batch")(Effect.forEach(sent, Future.exit))
        assert.deepStrictEqual(sentExits[0], Exit.succeed(1))
        codecFailure(sentExits[1], "Echo", "payload", "the uncloneable payload of a batch")
        assert.deepStrictEqual(sentExits[2], Exit.succeed(3))
        // results of one drain go back in one message, which cannot be cloned
        const back = [
          yield* ex.submit(F.Echo, "a"),
          yield* ex.submit(F.SymbolResult, null),
          yield* ex.submit(F.Echo, "b")
        ]
        const backExits = yield* bounded("results")(Effect.forEach(back, Future.exit))
        assert.deepStrictEqual(backExits[0], Exit.succeed("a"))
        codecFailure(backExits[1], "SymbolResult", "success", "the uncloneable result of a batch")
        assert.deepStrictEqual(backExits[2], Exit.succeed("b"))
        const s = yield* ex.stats
        assert.deepStrictEqual([s.succeeded, s.failed, s.crashes], [5, 2, 0])
      }),
    30_000
  )

  it.live(
    "CpuExecutor - a 64 MiB payload, transferred and copied; a detached buffer in the transfer list",
    () =>
      Effect.gen(function* () {
        const ex = yield* CpuExecutor.make({ worker, maxWorkers: 1 })
        const size = 64 * 1024 * 1024
        const make = () => {
          const bytes = new Uint8Array(size)
          for (let i = 0; i < size; i += 4096) bytes[i] = i % 251
          return bytes
        }
        const copied = make()
        const expected = { length: size, sum: F.byteSum(copied) }
        assert.deepStrictEqual(yield* bounded("copied")(Future.await(yield* ex.submit(F.Bytes, copied))), expected)
        assert.strictEqual(copied.byteLength, size, "a copied payload stays with the sender")
        const moved = make()
        const f = yield* ex.submit(F.Bytes, moved, { transfer: [moved.buffer] })
        assert.deepStrictEqual(yield* bounded("transferred")(Future.await(f)), expected)
        assert.strictEqual(moved.byteLength, 0, "a transferred payload is detached from the sender")
        // the same (now detached) buffer again
        const error = codecFailure(
          yield* bounded("detached")(Future.exit(yield* ex.submit(F.Bytes, moved, { transfer: [moved.buffer] }))),
          "Bytes",
          "payload",
          "a detached buffer"
        )
        assert.include(error.reason, "cannot be sent to the worker")
        assert.strictEqual(yield* bounded("serves")(Future.await(yield* ex.submit(F.Scale, { x: 1, times: 1 }))), 1)
      }),
    30_000
  )
})

// ---------------------------------------------------------------------------
// lifecycle misuse
// ---------------------------------------------------------------------------

interface LifecycleSubject {
  readonly name: string
  readonly it: typeof it.live
  readonly make: Effect.Effect<
    {
      readonly submit: (n: number) => Effect.Effect<Future.Future<number, unknown>, any>
      readonly submitHeld: Effect.Effect<{
        readonly future: Future.Future<number, unknown>
        /** what it succeeds with once released */
        readonly value: () => number
        readonly started: Effect.Effect<void>
        readonly release: Effect.Effect<void>
      }>
      readonly shutdown: (o?: { wait?: boolean; cancelFutures?: boolean }) => Effect.Effect<void>
      readonly stats: Effect.Effect<any>
    },
    unknown,
    Scope.Scope
  >
}

const lifecycleSubjects: ReadonlyArray<LifecycleSubject> = [
  {
    name: "IoExecutor",
    it: it.effect,
    make: Effect.map(IoExecutor.make({ maxWorkers: 1, name: "bad-io" }), (ex) => ({
      submit: (n) => ex.submit(Effect.succeed(n)),
      submitHeld: Effect.gen(function* () {
        const started = yield* Deferred.make<void>()
        const gate = yield* Deferred.make<void>()
        const future = yield* Effect.orDie(
          ex.submit(Deferred.succeed(started, undefined).pipe(Effect.andThen(Deferred.await(gate)), Effect.as(0)))
        )
        return {
          future,
          value: () => 0,
          started: Deferred.await(started),
          release: Effect.asVoid(Deferred.succeed(gate, undefined))
        }
      }),
      shutdown: ex.shutdown,
      stats: ex.stats
    }))
  },
  {
    name: "CpuExecutor",
    it: it.live,
    make: Effect.map(CpuExecutor.make({ worker, maxWorkers: 1, name: "bad-cpu" }), (ex) => ({
      submit: (n) => ex.submit(F.Scale, { x: n, times: 1 }),
      submitHeld: Effect.gen(function* () {
        const signal = Gate.make()
        const future = yield* Effect.orDie(ex.submit(F.Hold, signal))
        return {
          future,
          // Hold returns its worker's thread id
          value: () => Gate.get(signal, Gate.THREAD),
          started: Gate.awaitStarted(signal),
          release: Gate.release(signal)
        }
      }),
      shutdown: ex.shutdown,
      stats: ex.stats
    }))
  }
]

describe("bad input - lifecycle", () => {
  for (const subject of lifecycleSubjects) {
    subject.it(
      `${subject.name} - submit after shutdown, shutdown twice, futures of a released executor`,
      () =>
        Effect.gen(function* () {
          const scope = yield* Scope.make()
          const ex = yield* Scope.provide(subject.make, scope)
          const done = yield* ex.submit(1)
          assert.strictEqual(yield* bounded("done")(Future.await(done)), 1)
          const held = yield* Effect.orDie(ex.submitHeld)
          yield* bounded("held started")(held.started)
          const queued = yield* ex.submit(2)
          const queuedToo = yield* ex.submit(3)
          assert.strictEqual(Future.stateUnsafe(queued), "pending")

          // shutdown twice without waiting, then once cancelling the queue: idempotent, and queued tasks still run until cancelled
          yield* ex.shutdown({ wait: false })
          yield* ex.shutdown({ wait: false })
          assert.strictEqual(Future.stateUnsafe(queued), "pending", "shutdown without cancelFutures keeps the queue")
          const rejected = yield* Effect.flip(ex.submit(4))
          assert.strictEqual(rejected._tag, "ExecutorShutdownError")
          assert.strictEqual(rejected.executor, subject.name === "IoExecutor" ? "bad-io" : "bad-cpu")
          yield* ex.shutdown({ wait: false, cancelFutures: true })
          for (const f of [queued, queuedToo]) {
            const error = failureOf(yield* Future.exit(f), "(cancelled by shutdown)")
            assert.instanceOf(error, CancelledError)
            assert.strictEqual(error.futureId, (f as any).id)
          }

          // release waits for the running task
          yield* held.release
          yield* bounded("release")(Scope.close(scope, Exit.void))
          yield* bounded("shutdown after release")(ex.shutdown())

          // the futures of a released executor: settled, stable, and cancel is a no-op
          assert.strictEqual(yield* Future.await(held.future), held.value())
          assert.strictEqual(yield* Future.await(done), 1)
          assert.isFalse(yield* Future.cancel(done))
          assert.isTrue(yield* Future.cancel(queued))
          const { done: all, notDone } = yield* Future.wait([done, held.future, queued, queuedToo], { timeout: 0 })
          assert.deepStrictEqual([all.size, notDone.size], [4, 0])
          assert.strictEqual((yield* Effect.flip(ex.submit(5)))._tag, "ExecutorShutdownError")
          const s = yield* ex.stats
          assertConsistent(s)
          assert.deepStrictEqual([s.submitted, s.succeeded, s.cancelled, s.running, s.queued], [4, 2, 2, 0, 0])
          if (subject.name === "CpuExecutor") assert.strictEqual(s.threads, 0)
        }),
      30_000
    )
  }

  it.effect("IoExecutor - a task that throws, dies or fails with a falsy value fails only its future", () =>
    Effect.gen(function* () {
      const ex = yield* IoExecutor.make({ maxWorkers: 1 })
      const thrown = yield* Future.exit(
        yield* ex.submit(
          Effect.sync(() => {
            throw new RangeError("thrown")
          })
        )
      )
      assert.instanceOf(defectOf(thrown), RangeError)
      assert.isTrue(Cause.hasDies((thrown as Exit.Failure<unknown, unknown>).cause))
      const falsy = yield* Future.exit(yield* ex.submit(Effect.fail(0)))
      assert.strictEqual(failureOf(falsy), 0)
      assert.strictEqual(yield* Future.await(yield* ex.submit(Effect.succeed("still serving"))), "still serving")
      const s = yield* ex.stats
      assert.deepStrictEqual([s.failed, s.succeeded], [2, 1])
    })
  )
})
