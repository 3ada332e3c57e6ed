// Model-based test of the CPU executor: random command sequences against real
// worker threads (test/fixtures/modelWorker.ts) and the reference model in
// test/model/pool.ts, in real time.
//
// Commands: submit tasks that succeed, fail, die, interrupt themselves, wait on
// a gate, block until cancelled (optionally with a timeout that fires), block
// their thread synchronously (spin), or kill their worker (process.exit, an
// uncaught exception); release; cancel; kill a worker from outside (the one
// running a given task, or an idle one); await, Future.wait and
// Future.asCompleted; map consumed partially; pause until every starting
// worker has started (nothing may change); and, on a fresh executor,
// shutdown with each combination of wait × cancelFutures. Workers are recycled
// (maxTasksPerWorker) along the way.
//
// The model describes the state the executor settles into after each command
// (workers boot in real time); the test waits, bounded, until the executor is
// in exactly that state: every future's state and outcome, what its body did
// (started, completed, interrupted: read from a SharedArrayBuffer the task
// writes), its done-callback count, the counters of `stats` including crashes,
// and `shutdown({ wait: true })` returning exactly once the executor is idle.
// `cancel` returning true means the body never completed and the task has
// stopped. At the end, everything is wound down and the pool runs maxWorkers
// tasks at once again (proven with gates), keeps minWorkers warm, and no worker
// ran more than maxTasksPerWorker tasks. No unhandled rejection or uncaught
// exception may occur.
//
// Most sequences share one warm executor (a worker takes ~300 ms to start), so
// their checks are on counter deltas from a quiescent start; sequences that
// shut down get a fresh one. A failing sequence discards the shared executor.
//
// Runs: MODEL_RUNS sequences (default 60; `npm run fuzz` runs 10,000). A
// failure prints fast-check's `{ seed, path }` and the shrunk command list;
// replay it with
//   MODEL_SEED=<seed> MODEL_PATH=<path> npx vitest run test/CpuExecutor.model.test.ts
// and add the shrunk list as a regression case below. A failure on the shared
// executor may depend on the sequences before it (workers' task counts, for
// recycling): if the shrunk case passes alone, replay the whole run with
// MODEL_SEED=<seed> (and the same MODEL_RUNS), without MODEL_PATH.
import { afterAll, assert, describe, it } from "@effect/vitest"
import { fc, it as prop } from "@fast-check/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { Worker } from "node:worker_threads"
import * as CpuExecutor from "../src/CpuExecutor.ts"
import * as Future from "../src/Future.ts"
import * as protocol from "../src/internal/protocol.ts"
import * as M from "./fixtures/model.ts"
import {
  compareFutures,
  coverage,
  describeExit,
  expectedFlags,
  parameters,
  recorders,
  showFlags
} from "./model/harness.ts"
import { type Entry, isSettled, type Outcome, Pool, type ReturnWhen, unique } from "./model/pool.ts"

const workerUrl = new URL("./fixtures/modelWorker.ts", import.meta.url)

/** A block task's timeout that fires (ms). */
const SHORT = 30
/** A timeout that never fires (ms): its timer must be cleaned up. */
const LONG = 60_000
/** How long the executor may take to reach the model's state (worker starts included). */
const SETTLE_MS = 10_000

// ---------------------------------------------------------------------------
// commands
// ---------------------------------------------------------------------------

interface Spec {
  readonly kind: M.StepKind
  readonly n: number
  /** SHORT (block only: fires), LONG (never fires) or none. */
  readonly timeout: number | undefined
}

type Command =
  | { readonly op: "submit"; readonly task: Spec }
  | { readonly op: "release"; readonly i: number }
  | { readonly op: "cancel"; readonly i: number }
  | { readonly op: "kill"; readonly i: number; readonly idle: boolean }
  | { readonly op: "await"; readonly i: number }
  | { readonly op: "wait"; readonly is: ReadonlyArray<number>; readonly returnWhen: ReturnWhen }
  | { readonly op: "asCompleted"; readonly is: ReadonlyArray<number> }
  | {
      readonly op: "map"
      readonly items: ReadonlyArray<Spec>
      readonly take: number
      readonly buffersize: number | undefined
    }
  | { readonly op: "shutdown"; readonly wait: boolean; readonly cancelFutures: boolean }
  /** Changes nothing: lets every worker that is starting finish starting (the state must still match). */
  | { readonly op: "pause" }

interface Fresh {
  readonly maxWorkers: number
  readonly maxCrashes: number
  readonly maxTasksPerWorker: number | undefined
}

interface Input {
  /** undefined: the shared executor (no shutdown commands). */
  readonly fresh: Fresh | undefined
  readonly commands: ReadonlyArray<Command>
}

const weighted = <A>(...entries: ReadonlyArray<readonly [A, number]>): fc.Arbitrary<A> =>
  fc.oneof(...entries.map(([value, weight]) => ({ arbitrary: fc.constant(value), weight })))

const spec = (kinds: fc.Arbitrary<M.StepKind>, timeouts: boolean): fc.Arbitrary<Spec> =>
  fc
    .record({
      kind: kinds,
      n: fc.integer({ min: 0, max: 9 }),
      timeout: timeouts ? weighted<number | undefined>([undefined, 6], [SHORT, 2], [LONG, 1]) : fc.constant(undefined)
    })
    .map((s) => (s.timeout === SHORT && s.kind !== "block" ? { ...s, timeout: undefined } : s))

const taskKinds = weighted<M.StepKind>(
  ["value", 12],
  ["fail", 4],
  ["die", 4],
  ["interrupt", 4],
  ["gate", 16],
  ["block", 8],
  ["spin", 2],
  ["exit", 1],
  ["throw", 1]
)
const itemKinds = weighted<M.StepKind>(["value", 6], ["fail", 1], ["die", 1], ["interrupt", 1], ["block", 2])

const index = fc.nat({ max: 15 })

const commands = (fresh: boolean): fc.Arbitrary<ReadonlyArray<Command>> =>
  fc.array(
    fc.oneof(
      { weight: 40, arbitrary: fc.record({ op: fc.constant("submit" as const), task: spec(taskKinds, true) }) },
      { weight: 20, arbitrary: fc.record({ op: fc.constant("release" as const), i: index }) },
      { weight: 12, arbitrary: fc.record({ op: fc.constant("cancel" as const), i: index }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant("kill" as const), i: index, idle: fc.boolean() }) },
      { weight: 5, arbitrary: fc.record({ op: fc.constant("await" as const), i: index }) },
      {
        weight: 5,
        arbitrary: fc.record({
          op: fc.constant("wait" as const),
          is: fc.array(index, { maxLength: 4 }),
          returnWhen: fc.constantFrom<ReturnWhen>("FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED")
        })
      },
      {
        weight: 5,
        arbitrary: fc.record({ op: fc.constant("asCompleted" as const), is: fc.array(index, { maxLength: 4 }) })
      },
      {
        weight: 5,
        arbitrary: fc.record({
          op: fc.constant("map" as const),
          items: fc.array(spec(itemKinds, false), { minLength: 1, maxLength: 4 }),
          take: fc.integer({ min: 1, max: 4 }),
          buffersize: fc.option(fc.integer({ min: 1, max: 2 }), { nil: undefined })
        })
      },
      { weight: 2, arbitrary: fc.constant({ op: "pause" as const }) },
      {
        weight: fresh ? 10 : 0,
        arbitrary: fc.record({ op: fc.constant("shutdown" as const), wait: fc.boolean(), cancelFutures: fc.boolean() })
      }
    ),
    { minLength: 1, maxLength: 14 }
  )

const input: fc.Arbitrary<Input> = fc.oneof(
  { weight: 9, arbitrary: fc.record({ fresh: fc.constant(undefined), commands: commands(false) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      fresh: fc.record({
        maxWorkers: fc.constantFrom(1, 2),
        maxCrashes: fc.constantFrom(0, 1, 3),
        maxTasksPerWorker: fc.option(fc.constantFrom(1, 3), { nil: undefined })
      }),
      commands: commands(true)
    })
  }
)

// ---------------------------------------------------------------------------
// the workers, seen from outside
// ---------------------------------------------------------------------------

interface Tracked {
  readonly worker: Worker
  booted: boolean
  /** The executor asked it to close (idle, recycled, shut down). */
  closing: boolean
  exited: boolean
  /** Tasks posted to it. */
  runs: number
}

/**
 * Every worker thread the executors create, found by wrapping
 * `Worker.prototype.on` (the executor listens to each worker's events) and
 * `postMessage` (to count the tasks each receives): the test can terminate a
 * worker from outside, as a crash would, and check recycling.
 */
const workers = new Map<Worker, Tracked>()
const originalOn = Worker.prototype.on
const originalPostMessage = Worker.prototype.postMessage

const track = (worker: Worker): Tracked => {
  let t = workers.get(worker)
  if (t === undefined) {
    const tracked: Tracked = { worker, booted: false, closing: false, exited: false, runs: 0 }
    workers.set(worker, tracked)
    originalOn.call(worker, "exit", () => {
      tracked.exited = true
      workers.delete(worker)
    })
    t = tracked
  }
  return t
}

const installWorkerTracking = () => {
  Worker.prototype.on = function (this: Worker, event: string | symbol, listener: (...args: Array<any>) => void) {
    const t = track(this)
    if (event !== "message") return originalOn.call(this, event, listener)
    return originalOn.call(this, event, (message: unknown) => {
      if (Array.isArray(message) && message[0] === protocol.READY) t.booted = true
      listener(message)
    })
  } as typeof Worker.prototype.on
  Worker.prototype.postMessage = function (this: Worker, message: any, transfer?: any) {
    const t = track(this)
    if (Array.isArray(message)) {
      if (message[0] === protocol.RUN || message[0] === protocol.RUN_CHUNK) t.runs++
      else if (message[0] === protocol.RUN_BATCH) t.runs += (message[1] as Array<unknown>).length / 4
      else if (message[0] === protocol.CLOSE) t.closing = true
    }
    return originalPostMessage.call(this, message, transfer)
  }
}

const uninstallWorkerTracking = () => {
  // `on` is EventEmitter's, inherited; `postMessage` is Worker's own
  delete (Worker.prototype as { on?: unknown }).on
  Worker.prototype.postMessage = originalPostMessage
}

// ---------------------------------------------------------------------------
// executors
// ---------------------------------------------------------------------------

interface Executor {
  readonly ex: CpuExecutor.CpuExecutorShape
  readonly maxWorkers: number
  readonly minWorkers: number
  readonly maxCrashes: number
  readonly maxTasksPerWorker: number | undefined
}

const sharedOptions = { maxWorkers: 2, minWorkers: 2, maxTasksPerWorker: 40, maxCrashes: 1_000_000_000 }

const make = (o: Omit<Executor, "ex">, name: string) =>
  Effect.map(
    CpuExecutor.make({
      worker: workerUrl,
      maxWorkers: o.maxWorkers,
      minWorkers: o.minWorkers,
      maxTasksPerWorker: o.maxTasksPerWorker,
      maxCrashes: o.maxCrashes,
      // the shared executor crashes often: keep its restart backoff short
      crashWindow: o.maxCrashes > 100 ? 1 : 60_000,
      cancelGracePeriod: 25,
      name
    }),
    (ex): Executor => ({ ...o, ex })
  )

let shared: { readonly executor: Executor; readonly scope: Scope.Closeable } | undefined

const closeShared = Effect.suspend(() => {
  const s = shared
  shared = undefined
  return s === undefined ? Effect.void : Effect.ignore(Effect.timeout(Scope.close(s.scope, Exit.void), 10_000))
})

const sharedExecutor = Effect.gen(function* () {
  if (shared !== undefined) return shared.executor
  const scope = yield* Scope.make()
  const executor = yield* make(sharedOptions, "model-shared").pipe(Scope.provide(scope))
  shared = { executor, scope }
  return executor
})

// ---------------------------------------------------------------------------
// the harness
// ---------------------------------------------------------------------------

interface Handle {
  readonly model: Entry
  readonly future: Future.Future<number, number>
  readonly g: Int32Array
  callbacks: number
  cancelledTrue: boolean
}

const flag = (g: Int32Array, i: number) => Atomics.load(g, i) === 1
const bodyFlags = (g: Int32Array) => ({
  started: flag(g, M.STARTED),
  completed: flag(g, M.COMPLETED),
  interrupted: flag(g, M.INTERRUPTED)
})
const releaseGate = (g: Int32Array) => {
  Atomics.store(g, M.RELEASE, 1)
  Atomics.notify(g, M.RELEASE)
}
/** The model's view of a spec: only a SHORT timeout changes what happens. */
const modelSpec = (s: Spec) => ({ kind: s.kind, n: s.n, timeout: s.timeout === SHORT ? SHORT : undefined })
const payload = (s: Spec, g: Int32Array): M.StepPayload => ({ k: s.kind, n: s.n, g })
const submitOptions = (s: Spec) => (s.timeout === undefined ? undefined : { timeout: s.timeout })

const errors = recorders()
const cov = coverage()
const kindOf = (outcome: Outcome | undefined) => (outcome ?? "none").replace(/:.*/, "")

/** Runs one command sequence; fails (throws) at the first divergence from the model. */
const runSequence = ({ ex, maxWorkers, minWorkers, maxCrashes, maxTasksPerWorker }: Executor, input: Input) =>
  Effect.gen(function* () {
    const base = yield* ex.stats
    assert.strictEqual(base.running + base.queued, 0, "the executor starts the sequence idle")
    const model = new Pool({ maxWorkers, maxQueue: Infinity, maxCrashes, timed: false })
    const handles: Array<Handle> = []
    /** Every flags buffer handed to a task (map items too): released on the way out. */
    const buffers: Array<Int32Array> = []
    const shutdowns: Array<Fiber.Fiber<void>> = []
    let step = "start"

    const newFlags = () => {
      const g = M.newFlags()
      buffers.push(g)
      return g
    }
    const pick = (i: number): Handle | undefined => (handles.length === 0 ? undefined : handles[i % handles.length])

    // on a failure, stop everything so that the executor can be released
    yield* Effect.addFinalizer((exit) =>
      Exit.isSuccess(exit)
        ? Effect.void
        : Effect.suspend(() => {
            for (const g of buffers) releaseGate(g)
            return Effect.forEach(handles, (h) => Effect.ignore(Effect.timeout(Future.cancel(h.future), 5_000)), {
              discard: true
            })
          })
    )

    const diff = Effect.gen(function* () {
      const s = yield* ex.stats
      const problems: Array<string> = []
      const actual = {
        running: s.running,
        queued: s.queued,
        submitted: s.submitted - base.submitted,
        succeeded: s.succeeded - base.succeeded,
        failed: s.failed - base.failed,
        cancelled: s.cancelled - base.cancelled,
        crashes: s.crashes - base.crashes
      }
      const expected = {
        running: model.running.size,
        queued: model.queue.length,
        submitted: model.submitted,
        succeeded: model.succeeded,
        failed: model.failed,
        cancelled: model.cancelled,
        crashes: model.crashes
      }
      if (JSON.stringify(actual) !== JSON.stringify(expected)) {
        problems.push(`stats ${JSON.stringify(actual)}, model ${JSON.stringify(expected)}`)
      }
      if (s.submitted !== s.succeeded + s.failed + s.cancelled + s.running + s.queued) problems.push("stats add up")
      compareFutures(handles.entries(), (h) => bodyFlags(h.g), problems)
      for (const [k, fiber] of shutdowns.entries()) {
        const done = fiber.pollUnsafe() !== undefined
        if (done !== model.drained) problems.push(`shutdown({ wait: true }) #${k} ${done ? "returned" : "waits"}`)
      }
      if (maxTasksPerWorker !== undefined) {
        for (const g of buffers) {
          const ordinal = Atomics.load(g, M.ORDINAL)
          if (ordinal > maxTasksPerWorker)
            problems.push(`a worker began its task number ${ordinal} (maxTasksPerWorker ${maxTasksPerWorker})`)
        }
      }
      return problems.length === 0 ? undefined : problems.join("\n")
    })

    /** Waits (bounded) until `check` passes. */
    const until = (check: Effect.Effect<string | undefined>, what: string) =>
      Effect.gen(function* () {
        const start = Date.now()
        let problems: string | undefined
        for (let i = 0; ; i++) {
          problems = yield* check
          if (problems === undefined) return
          if (Date.now() - start > SETTLE_MS) break
          if (i < 20) yield* Effect.yieldNow
          else yield* Effect.sleep(1)
        }
        assert.fail(`after ${step}: ${what}:\n${problems}`)
      })

    const converge = until(diff, "the executor did not reach the model's state")

    const submit = (s: Spec) =>
      Effect.gen(function* () {
        const g = newFlags()
        const submitted = yield* Effect.exit(ex.submit(M.Step, payload(s, g), submitOptions(s)))
        model.begin()
        const entry = model.submit(modelSpec(s))
        model.end()
        const expected = typeof entry === "string" ? entry : "accepted"
        assert.strictEqual(
          Exit.isFailure(submitted) ? describeExit(submitted) : "accepted",
          expected,
          `after ${step}: submit`
        )
        cov.add(`submit ${expected}`)
        if (Exit.isFailure(submitted)) return undefined
        const handle: Handle = {
          model: entry as Entry,
          future: submitted.value as Future.Future<number, number>,
          g,
          callbacks: 0,
          cancelledTrue: false
        }
        handles.push(handle)
        yield* Future.addDoneCallback(handle.future, () =>
          Effect.sync(() => {
            handle.callbacks++
          })
        )
        return handle
      })

    const release = (h: Handle) =>
      Effect.sync(() => {
        releaseGate(h.g)
        model.begin()
        model.release(h.model)
        model.end()
      })

    const cancel = (h: Handle) =>
      Effect.gen(function* () {
        const result = yield* Future.cancel(h.future)
        model.begin()
        const expected = model.cancel(h.model)
        model.end()
        assert.strictEqual(result, expected, `after ${step}: cancel returned ${result}`)
        cov.add(`cancel ${h.model.spec.kind} → ${result}`)
        if (result) {
          // cancel returns once the task has stopped: settled, its finalizer run
          h.cancelledTrue = true
          assert.isFalse(flag(h.g, M.COMPLETED), `after ${step}: cancel returned true but the body completed`)
          assert.strictEqual(Future.stateUnsafe(h.future), "cancelled", `after ${step}: cancel returned true`)
          assert.strictEqual(
            flag(h.g, M.INTERRUPTED),
            h.model.interrupted,
            `after ${step}: finalizer ran before cancel returned`
          )
        }
      })

    /** A live worker that has started and runs nothing, once there is one (bounded). */
    const idleWorker = Effect.gen(function* () {
      const busy = new Set(handles.filter((h) => h.model.state === "running").map((h) => Atomics.load(h.g, M.THREAD)))
      let found: Tracked | undefined
      yield* until(
        Effect.sync(() => {
          found = Array.from(workers.values()).find(
            (t) =>
              t.booted &&
              !t.closing &&
              !t.exited &&
              !busy.has(t.worker.threadId) &&
              t.runs < (maxTasksPerWorker ?? Infinity)
          )
          return found === undefined ? "no idle worker" : undefined
        }),
        "waiting for an idle worker"
      )
      return found!
    })

    const run = (c: Command): Effect.Effect<void> =>
      Effect.gen(function* () {
        switch (c.op) {
          case "submit":
            return void (yield* submit(c.task))
          case "release": {
            const h = pick(c.i)
            if (h !== undefined) yield* release(h)
            return
          }
          case "cancel": {
            const h = pick(c.i)
            if (h !== undefined) yield* cancel(h)
            return
          }
          case "kill": {
            if (c.idle) {
              // only on the shared executor (every live worker is its own), whose
              // maxWorkers workers are all kept: maxWorkers - running are idle
              if (input.fresh !== undefined || model.running.size >= maxWorkers) return
              const t = yield* idleWorker
              yield* Effect.promise(() => t.worker.terminate())
              model.begin()
              model.crashIdle()
              model.end()
              cov.add("kill an idle worker")
              return
            }
            const h = pick(c.i)
            if (h === undefined || h.model.state !== "running") return
            const threadId = Atomics.load(h.g, M.THREAD)
            const t = Array.from(workers.values()).find((w) => !w.exited && w.worker.threadId === threadId)
            assert.isDefined(t, `after ${step}: the worker running #${h.model.id} (thread ${threadId})`)
            yield* Effect.promise(() => t!.worker.terminate())
            model.begin()
            model.crash(h.model)
            model.end()
            cov.add(`kill the worker running ${h.model.spec.kind}`)
            return
          }
          case "await": {
            const h = pick(c.i)
            if (h === undefined) return
            const result = yield* Future.await(h.future).pipe(Effect.exit, Effect.timeoutOption(5))
            const actual = Option.isNone(result) ? "none" : describeExit(result.value)
            assert.strictEqual(actual, h.model.outcome ?? "none", `after ${step}: await`)
            cov.add(`await → ${kindOf(actual)}`)
            return
          }
          case "wait": {
            if (handles.length === 0) return
            const hs = c.is.map((i) => pick(i)!)
            const set = unique(hs)
            const result = yield* Future.wait(
              hs.map((h) => h.future),
              { returnWhen: c.returnWhen, timeout: 5 }
            )
            const byFuture = new Map(set.map((h) => [h.future, h.model.id]))
            const done = Array.from(result.done, (f) => byFuture.get(f)!).sort((a, b) => a - b)
            const expected = set.filter((h) => isSettled(h.model)).map((h) => h.model.id)
            assert.deepStrictEqual(
              done,
              expected.sort((a, b) => a - b),
              `after ${step}: wait done`
            )
            assert.strictEqual(
              done.length + result.notDone.size,
              set.length,
              `after ${step}: wait partitions its input`
            )
            cov.add(`wait ${c.returnWhen}`)
            return
          }
          case "asCompleted": {
            if (handles.length === 0) return
            const hs = c.is.map((i) => pick(i)!)
            const set = unique(hs)
            const byFuture = new Map(set.map((h) => [h.future as Future.Future<unknown, unknown>, h.model.id]))
            const seen: Array<number> = []
            const result = yield* Future.asCompleted(
              hs.map((h) => h.future),
              { timeout: 5 }
            ).pipe(
              Stream.runForEach((f) =>
                Effect.sync(() => {
                  seen.push(byFuture.get(f)!)
                })
              ),
              Effect.exit
            )
            const expected = set.filter((h) => isSettled(h.model)).map((h) => h.model.id)
            const ending = expected.length === set.length ? "done" : "timeout"
            assert.deepStrictEqual(
              seen,
              expected,
              `after ${step}: asCompleted emits the settled futures in input order`
            )
            assert.strictEqual(
              Exit.isSuccess(result) ? "done" : describeExit(result),
              ending,
              `after ${step}: asCompleted end`
            )
            cov.add(`asCompleted → ${ending}`)
            return
          }
          case "map": {
            const items = c.items.map((s) => ({ spec: s, g: newFlags() }))
            model.begin()
            const mapRun = model.mapStart(
              items.map((i) => modelSpec(i.spec)),
              Math.min(c.take, items.length),
              c.buffersize
            )
            model.end()
            // the map's items: what their bodies did (its futures are internal)
            const itemFlags = Effect.sync(() => {
              const wrong = items.flatMap((item, k) => {
                const e = mapRun.submitted[k]
                const expected = e === undefined ? "false/false/false" : expectedFlags(e)
                return showFlags(bodyFlags(item.g)) === expected
                  ? []
                  : [`map item ${k} (${item.spec.kind}) ${showFlags(bodyFlags(item.g))}, model ${expected}`]
              })
              return wrong.length === 0 ? undefined : wrong.join("\n")
            })
            const fiber = yield* Effect.forkChild(
              ex
                .map(
                  M.Step,
                  items.map((i) => payload(i.spec, i.g)),
                  c.buffersize === undefined ? undefined : { buffersize: c.buffersize }
                )
                .pipe(Stream.take(c.take), Stream.runCollect, Effect.exit),
              { startImmediately: true }
            )
            let result: Outcome
            if (mapRun.result === undefined) {
              // stuck: the stream waits for a task that never ends. Once the executor is
              // exactly where the model says, interrupt it: its unfinished tasks are cancelled
              yield* until(
                Effect.map(Effect.all([diff, itemFlags]), (ps) => ps.find((p) => p !== undefined)),
                "the map did not get where the model says it is stuck"
              )
              yield* Fiber.interrupt(fiber)
              result = "interrupted"
              model.begin()
              model.mapEnd(mapRun, result, items.length)
              model.end()
            } else {
              const exit = yield* Fiber.await(fiber).pipe(
                Effect.timeoutOrElse({
                  duration: SETTLE_MS,
                  orElse: () => Effect.die(new Error(`after ${step}: map did not end`))
                })
              )
              assert.isTrue(Exit.isSuccess(exit), `after ${step}: the map's fiber failed`)
              result = describeExit(
                Exit.map((exit as Exit.Success<Exit.Exit<ReadonlyArray<number>, unknown>>).value, (v) => Array.from(v))
              )
              for (const [k, e] of mapRun.submitted.entries()) {
                const started = flag(items[k].g, M.STARTED)
                if (e.mayBeUnstarted) cov.add(`map item raced the end → ${started ? "started" : "never started"}`)
                model.resolve(e, started)
              }
            }
            assert.strictEqual(result, mapRun.result, `after ${step}: map result`)
            cov.add(`map → ${kindOf(mapRun.result)}`)
            yield* until(itemFlags, "map items")
            return
          }
          case "pause": {
            yield* until(
              Effect.sync(() => {
                const starting = Array.from(workers.values()).filter((t) => !t.booted && !t.exited).length
                return starting === 0 ? undefined : `${starting} workers still starting`
              }),
              "workers starting"
            )
            cov.add("pause")
            return
          }
          case "shutdown": {
            cov.add(
              `shutdown wait=${c.wait} cancelFutures=${c.cancelFutures}${model.queue.length > 0 ? " with a queue" : ""}`
            )
            const effect = ex.shutdown({ wait: c.wait, cancelFutures: c.cancelFutures })
            if (c.wait) shutdowns.push(yield* Effect.forkChild(effect, { startImmediately: true }))
            else yield* effect
            model.begin()
            model.shutdown(c.cancelFutures)
            model.end()
            return
          }
        }
      })

    for (const [k, c] of input.commands.entries()) {
      step = `command ${k} ${JSON.stringify(c)}`
      yield* run(c)
      yield* converge
    }

    // wind down: release every gate, cancel what is still open
    step = "wind-down"
    for (const h of handles) yield* release(h)
    yield* converge
    for (const h of handles) {
      if (isSettled(h.model)) continue
      yield* cancel(h)
      yield* converge
    }
    for (const h of handles) {
      assert.strictEqual(h.callbacks, 1, `#${h.model.id} settles exactly once`)
      const awaited = yield* Effect.exit(Future.await(h.future))
      assert.strictEqual(describeExit(awaited), h.model.outcome, `#${h.model.id} Future.await`)
    }
    for (const e of model.entries)
      cov.add(`final ${e.group === undefined ? "future" : "map item"} ${e.spec.kind} → ${kindOf(e.outcome)}`)
    if (model.crashes > 0) cov.add(model.broken ? "crashes broke the executor" : "crashes")

    // no slot leaked: maxWorkers gated tasks run at once
    step = "leak check"
    if (!model.isShutdown && !model.broken) {
      const gates: Array<Handle> = []
      for (let k = 0; k < maxWorkers; k++) gates.push((yield* submit({ kind: "gate", n: k, timeout: undefined }))!)
      yield* converge
      assert.strictEqual((yield* ex.stats).running, maxWorkers, "the pool runs maxWorkers tasks at once")
      for (const g of gates) yield* release(g)
      yield* converge
    } else {
      const rejected = yield* submit({ kind: "value", n: 0, timeout: undefined })
      assert.isUndefined(rejected, "submit is rejected")
    }
    if (!model.isShutdown && !model.broken) {
      // the warm pool stays warm (crashed and recycled workers are replaced), and only live workers count
      yield* until(
        Effect.map(ex.stats, (s) =>
          s.workers === minWorkers && s.threads === minWorkers
            ? undefined
            : `workers ${s.workers}, threads ${s.threads}`
        ),
        `minWorkers (${minWorkers}) workers and threads`
      )
    }
    const escaped = errors.take()
    assert.deepStrictEqual(escaped, [], "no unhandled rejection or uncaught exception")
  })

const check = (input: Input) =>
  Effect.runPromise(
    Effect.gen(function* () {
      if (input.fresh === undefined) {
        const executor = yield* sharedExecutor
        // a failure leaves the shared executor in an unknown state: discard it
        yield* Effect.onError(Effect.scoped(runSequence(executor, input)), () => closeShared)
        return
      }
      const f = input.fresh
      yield* Effect.scoped(
        Effect.gen(function* () {
          const options = { ...f, minWorkers: f.maxWorkers }
          const executor = yield* make(options, "model-fresh")
          yield* runSequence(executor, input)
          return executor
        })
      ).pipe(
        Effect.tap((executor) =>
          Effect.map(executor.ex.stats, (s) => {
            // released: no thread outlives the scope
            assert.strictEqual(s.threads, 0, "threads after release")
            assert.strictEqual(s.workers, 0, "workers after release")
          })
        )
      )
    })
  )

describe("CpuExecutor model", () => {
  errors.install()
  installWorkerTracking()
  afterAll(async () => {
    await Effect.runPromise(closeShared)
    uninstallWorkerTracking()
    errors.uninstall()
    cov.print("CpuExecutor model coverage")
  })
  const params = parameters(60, 60_000)

  prop.prop([input], params)(
    "model - random command sequences match the reference model",
    (sequence) => check(sequence),
    Math.max(120_000, params.numRuns * 2_000)
  )

  // Shrunk failures found by this test, kept as regression cases.

  it(
    "regression - a recycled worker is replaced to keep minWorkers warm",
    () =>
      check({
        fresh: { maxWorkers: 1, maxCrashes: 0, maxTasksPerWorker: 1 },
        commands: [{ op: "submit", task: { kind: "value", n: 0, timeout: undefined } }]
      }),
    60_000
  )

  it(
    "regression - a recycled worker's replacement takes no task while the last one runs (never more than maxWorkers)",
    () =>
      check({
        fresh: { maxWorkers: 1, maxCrashes: 0, maxTasksPerWorker: 2 },
        commands: [
          { op: "submit", task: { kind: "gate", n: 0, timeout: undefined } },
          { op: "submit", task: { kind: "gate", n: 1, timeout: undefined } },
          { op: "submit", task: { kind: "gate", n: 2, timeout: undefined } },
          { op: "release", i: 0 },
          { op: "pause" }
        ]
      }),
    60_000
  )

  it(
    "regression - shutting down while a crashed worker's replacement starts does not break the executor",
    () =>
      check({
        fresh: { maxWorkers: 2, maxCrashes: 3, maxTasksPerWorker: undefined },
        commands: [
          { op: "submit", task: { kind: "exit", n: 0, timeout: undefined } },
          { op: "submit", task: { kind: "gate", n: 0, timeout: undefined } },
          { op: "release", i: 11 },
          { op: "submit", task: { kind: "value", n: 0, timeout: undefined } },
          { op: "await", i: 15 },
          { op: "shutdown", wait: true, cancelFutures: true },
          { op: "release", i: 3 }
        ]
      }),
    60_000
  )

  it(
    "regression - releasing the executor while a crashed worker's replacement starts leaves it shut down, not broken",
    () =>
      Effect.runPromise(
        Effect.gen(function* () {
          const scope = yield* Scope.make()
          const ex = yield* CpuExecutor.make({ worker: workerUrl, maxWorkers: 1, minWorkers: 1 }).pipe(
            Scope.provide(scope)
          )
          const g = M.newFlags()
          assert.strictEqual(
            describeExit(
              yield* Future.exit(yield* ex.submit(M.Step, payload({ kind: "exit", n: 0, timeout: undefined }, g)))
            ),
            "crashed"
          )
          // the replacement starts after the restart backoff: wait until its thread exists, not yet started
          while ((yield* ex.stats).threads === 0) yield* Effect.sleep(1)
          assert.strictEqual((yield* ex.stats).workers, 0, "the replacement is still starting")
          yield* Scope.close(scope, Exit.void)
          // the thread's exit is handled right after the release returns
          yield* Effect.sleep(20)
          const rejected = yield* Effect.flip(
            ex.submit(M.Step, payload({ kind: "value", n: 0, timeout: undefined }, M.newFlags()))
          )
          assert.strictEqual(rejected._tag, "ExecutorShutdownError")
          assert.strictEqual((yield* ex.stats).threads, 0)
        })
      ),
    60_000
  )
})
