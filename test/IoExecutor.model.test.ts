// Model-based test of the I/O executor (and so of the dispatcher both executors
// share): random command sequences run against a fresh executor and against the
// reference model in test/model/pool.ts, on the TestClock, so every outcome is
// exact.
//
// Commands: submit tasks of every kind (succeed, fail, die, interrupt
// themselves, wait on a gate, block until cancelled, sleep), with or without a
// timeout; release a gate; cancel; let time pass; await a future with a
// deadline; Future.wait and Future.asCompleted with a deadline; map consumed
// partially (take), with buffersize, taskTimeout and a deadline; shutdown with
// each combination of wait × cancelFutures. Executors are configured with
// maxWorkers 1–3, maxQueue 0–3 or unbounded, and whenFull "fail" (submit gets
// QueueFullError) or "suspend" (the submitter waits for room, FIFO; a command
// interrupts a waiting submitter).
//
// After every command the executor must reach exactly the model's state: every
// future's state and outcome, whether its body started, completed or was
// interrupted, its done-callback count (0, then exactly 1), every counter of
// `stats` (which add up), and what every observer returned. `cancel` returning
// true means the body never completed. At the end everything is wound down:
// every future settled exactly once, `shutdown({ wait: true })` has returned,
// and (unless shut down) the pool still runs maxWorkers tasks at once, proven
// with gates. No unhandled rejection or uncaught exception may occur.
//
// Timed events never tie with an observer's deadline: each observer's deadline
// has its own binary fraction of a millisecond (j/64), task times are whole
// milliseconds plus such fractions. Task events at the same instant run in the
// order their sleeps were registered, as TestClock does.
//
// Runs: MODEL_RUNS sequences (default 500; `npm run fuzz` runs 10,000). A
// failure prints fast-check's `{ seed, path }` and the shrunk command list;
// replay it with
//   MODEL_SEED=<seed> MODEL_PATH=<path> npx vitest run test/IoExecutor.model.test.ts
// and add the shrunk list as a regression case below.
import { afterAll, assert, describe, it } from "@effect/vitest"
import { fc, it as prop } from "@fast-check/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { TestClock } from "effect/testing"
import * as Future from "../src/Future.ts"
import * as IoExecutor from "../src/IoExecutor.ts"
import {
  compareFutures,
  coverage,
  describeExit,
  expectedFlags,
  parameters,
  recorders,
  showFlags
} from "./model/harness.ts"
import {
  type Entry,
  isSettled,
  isWaiter,
  type Outcome,
  Pool,
  type ReturnWhen,
  type TaskSpec,
  unique,
  type Waiter,
  waitSatisfied
} from "./model/pool.ts"

// ---------------------------------------------------------------------------
// commands
// ---------------------------------------------------------------------------

type IoKind = "value" | "fail" | "die" | "interrupt" | "gate" | "block" | "sleep"

interface Spec extends TaskSpec {
  readonly kind: IoKind
}

type Command =
  | { readonly op: "submit"; readonly task: Spec }
  | { readonly op: "release"; readonly i: number }
  | { readonly op: "cancel"; readonly i: number }
  | { readonly op: "tick"; readonly ms: number }
  | { readonly op: "await"; readonly i: number; readonly t: number }
  | { readonly op: "wait"; readonly is: ReadonlyArray<number>; readonly returnWhen: ReturnWhen; readonly t: number }
  | { readonly op: "asCompleted"; readonly is: ReadonlyArray<number>; readonly t: number }
  | {
      readonly op: "map"
      readonly items: ReadonlyArray<Spec>
      readonly take: number
      readonly t: number
      readonly buffersize: number | undefined
      readonly taskTimeout: number | undefined
    }
  | { readonly op: "shutdown"; readonly wait: boolean; readonly cancelFutures: boolean }
  | { readonly op: "interruptSubmit"; readonly i: number }

interface Input {
  readonly maxWorkers: number
  /** undefined: unbounded */
  readonly maxQueue: number | undefined
  readonly whenFull: "fail" | "suspend"
  readonly commands: ReadonlyArray<Command>
}

const maybe = <A>(arb: fc.Arbitrary<A>, weight: number): fc.Arbitrary<A | undefined> =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight }, { arbitrary: arb, weight: 1 })

const spec = (kinds: ReadonlyArray<IoKind>, timeouts: boolean): fc.Arbitrary<Spec> =>
  fc.record({
    kind: fc.constantFrom(...kinds),
    n: fc.integer({ min: 0, max: 9 }),
    d: fc.constantFrom(10, 20, 30, 50),
    timeout: timeouts ? maybe(fc.constantFrom(5, 15, 25, 45), 3) : fc.constant(undefined)
  })

const index = fc.nat({ max: 15 })
const deadline = fc.constantFrom(0, 5, 20, 50, 100)

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 24,
    arbitrary: fc.record({
      op: fc.constant("submit" as const),
      // weighted towards tasks that hold their slot, so queues form
      task: spec(
        [
          "value",
          "value",
          "fail",
          "die",
          "interrupt",
          "gate",
          "gate",
          "gate",
          "block",
          "block",
          "sleep",
          "sleep",
          "sleep"
        ],
        true
      )
    })
  },
  { weight: 12, arbitrary: fc.record({ op: fc.constant("release" as const), i: index }) },
  { weight: 8, arbitrary: fc.record({ op: fc.constant("cancel" as const), i: index }) },
  { weight: 8, arbitrary: fc.record({ op: fc.constant("tick" as const), ms: fc.constantFrom(5, 10, 20, 35, 60) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("await" as const), i: index, t: deadline }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant("wait" as const),
      is: fc.array(index, { maxLength: 4 }),
      returnWhen: fc.constantFrom<ReturnWhen>("FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED"),
      t: deadline
    })
  },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant("asCompleted" as const),
      is: fc.array(index, { maxLength: 4 }),
      t: deadline
    })
  },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant("map" as const),
      items: fc.array(spec(["value", "value", "value", "sleep", "sleep", "fail", "die", "interrupt", "block"], false), {
        minLength: 1,
        maxLength: 5
      }),
      take: fc.integer({ min: 1, max: 5 }),
      t: deadline,
      buffersize: maybe(fc.integer({ min: 1, max: 3 }), 1),
      taskTimeout: maybe(fc.constantFrom(15, 35), 3)
    })
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant("shutdown" as const), wait: fc.boolean(), cancelFutures: fc.boolean() })
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("interruptSubmit" as const), i: index }) }
)

const input: fc.Arbitrary<Input> = fc.record({
  maxWorkers: fc.constantFrom(1, 1, 2, 2, 3),
  maxQueue: maybe(fc.integer({ min: 0, max: 3 }), 1),
  whenFull: fc.constantFrom("fail", "suspend"),
  commands: fc.array(command, { minLength: 1, maxLength: 30 })
})

// ---------------------------------------------------------------------------
// the harness
// ---------------------------------------------------------------------------

interface Flags {
  started: boolean
  completed: boolean
  interrupted: boolean
}

interface Handle {
  readonly model: Entry
  readonly future: Future.Future<number, number>
  readonly gate: Deferred.Deferred<void>
  readonly flags: Flags
  callbacks: number
  cancelledTrue: boolean
}

const newFlags = (): Flags => ({ started: false, completed: false, interrupted: false })

/** The task body of a spec; it records what it did in `flags`. */
const body = (s: TaskSpec, flags: Flags, gate: Deferred.Deferred<void>): Effect.Effect<number, number> => {
  const begin = Effect.sync(() => {
    flags.started = true
  })
  const done = Effect.sync(() => {
    flags.completed = true
    return s.n
  })
  const interruptible = (effect: Effect.Effect<number, number>) =>
    Effect.onInterrupt(effect, () =>
      Effect.sync(() => {
        flags.interrupted = true
      })
    )
  switch (s.kind) {
    case "value":
      return Effect.andThen(begin, done)
    case "fail":
      return Effect.andThen(begin, Effect.fail(s.n))
    case "die":
      return Effect.andThen(begin, Effect.die(new Error(String(s.n))))
    case "interrupt":
      return Effect.andThen(begin, Effect.interrupt)
    case "gate":
      return Effect.andThen(begin, interruptible(Effect.andThen(Deferred.await(gate), done)))
    case "block":
      return Effect.andThen(begin, interruptible(Effect.never))
    default:
      return Effect.andThen(begin, interruptible(Effect.andThen(Effect.sleep(s.d!), done)))
  }
}

/** The Exit of a forked `Effect.exit(submit)`: undefined while it waits. */
const submitExit = (
  fiber: Fiber.Fiber<Exit.Exit<Future.Future<unknown, unknown>, unknown>>
): Exit.Exit<Future.Future<unknown, unknown>, unknown> | undefined => {
  const outer = fiber.pollUnsafe()
  if (outer === undefined) return undefined
  // interrupted while it waited
  return Exit.isFailure(outer) ? Exit.failCause(outer.cause) : outer.value
}

/** Runs one command sequence; fails (throws) at the first divergence from the model. */
const runSequence = ({ maxWorkers, maxQueue, whenFull, commands }: Input) =>
  Effect.gen(function* () {
    const ex = yield* IoExecutor.make({ maxWorkers, maxQueue, whenFull, name: "model" })
    const model = new Pool({
      maxWorkers,
      maxQueue: maxQueue ?? Infinity,
      maxCrashes: Infinity,
      timed: true,
      suspend: whenFull === "suspend"
    })
    const handles: Array<Handle> = []
    const shutdowns: Array<Fiber.Fiber<void>> = []
    /** Submitters waiting for room (whenFull "suspend"). */
    const waiting: Array<{
      readonly waiter: Waiter
      readonly fiber: Fiber.Fiber<Exit.Exit<Future.Future<unknown, unknown>, unknown>>
      readonly flags: Flags
      readonly gate: Deferred.Deferred<void>
    }> = []
    let observers = 0
    let step = "start"

    const pick = (i: number): Handle | undefined => (handles.length === 0 ? undefined : handles[i % handles.length])

    /** Where the executor differs from the model, or undefined. */
    const diff = Effect.gen(function* () {
      const s = yield* ex.stats
      const problems: Array<string> = []
      const expected = {
        maxWorkers,
        workers: model.slots,
        running: model.running.size,
        queued: model.queue.length,
        submitted: model.submitted,
        succeeded: model.succeeded,
        failed: model.failed,
        cancelled: model.cancelled
      }
      const actual = Object.fromEntries(Object.keys(expected).map((k) => [k, s[k as keyof typeof s]]))
      if (JSON.stringify(actual) !== JSON.stringify(expected)) {
        problems.push(`stats ${JSON.stringify(actual)}, model ${JSON.stringify(expected)}`)
      }
      if (s.submitted !== s.succeeded + s.failed + s.cancelled + s.running + s.queued) problems.push("stats add up")
      compareFutures(handles.entries(), (h) => h.flags, problems)
      for (const w of waiting) {
        if (w.waiter.entry !== undefined || w.waiter.rejected !== undefined) {
          problems.push(
            `a waiting submit (${w.waiter.spec.kind}) still waits, the model has ${w.waiter.rejected ?? "admitted it"}`
          )
        }
      }
      for (const [k, fiber] of shutdowns.entries()) {
        const done = fiber.pollUnsafe() !== undefined
        if (done !== model.drained) problems.push(`shutdown({ wait: true }) #${k} ${done ? "returned" : "waits"}`)
      }
      return problems.length === 0 ? undefined : problems.join("\n")
    })

    /** Lets the executor's fibers run until it matches the model (bounded). */
    const converge = Effect.gen(function* () {
      let problems: string | undefined
      for (let i = 0; i < 50; i++) {
        yield* collect
        problems = yield* diff
        if (problems === undefined) return
        yield* Effect.yieldNow
      }
      assert.fail(`after ${step}:\n${problems}`)
    })

    /** Runs an observer until `deadline` (passing that much time), then returns its result. */
    const observe = <A>(effect: Effect.Effect<A>, deadline: number) =>
      Effect.gen(function* () {
        const fiber = yield* Effect.forkChild(effect, { startImmediately: true })
        yield* TestClock.adjust(deadline)
        model.advance(deadline)
        model.expire()
        for (let i = 0; i < 50 && fiber.pollUnsafe() === undefined; i++) yield* Effect.yieldNow
        const exit = fiber.pollUnsafe()
        assert.isDefined(exit, `after ${step}: the observer has not returned by its deadline`)
        assert.isTrue(Exit.isSuccess(exit!), `after ${step}: the observer failed: ${String(exit)}`)
        return (exit as Exit.Success<A>).value
      })

    /** A handle for an admitted future: its done-callback counts settlements. */
    const adopt = (entry: Entry, future: Future.Future<number, number>, flags: Flags, gate: Deferred.Deferred<void>) =>
      Effect.gen(function* () {
        const handle: Handle = { model: entry, future, gate, flags, callbacks: 0, cancelledTrue: false }
        handles.push(handle)
        yield* Future.addDoneCallback(handle.future, () =>
          Effect.sync(() => {
            handle.callbacks++
          })
        )
        return handle
      })

    const submit = (s: Spec) =>
      Effect.gen(function* () {
        const gate = yield* Deferred.make<void>()
        const flags = newFlags()
        const task = body(s, flags, gate)
        const fiber = yield* Effect.forkChild(
          Effect.exit(s.timeout === undefined ? ex.submit(task) : ex.submit(task, { timeout: s.timeout })),
          { startImmediately: true }
        )
        model.begin()
        const entry = model.submit(s)
        model.end()
        if (isWaiter(entry)) {
          // whenFull "suspend" and no room: the submitter waits
          cov.add("submit waits for room")
          assert.isUndefined(fiber.pollUnsafe(), `after ${step}: submit returned, the model says it waits for room`)
          waiting.push({ waiter: entry, fiber, flags, gate })
          return undefined
        }
        const submitted = submitExit(fiber)
        assert.isDefined(submitted, `after ${step}: submit waits for room, the model says it does not`)
        const expected = typeof entry === "string" ? entry : "accepted"
        assert.strictEqual(
          Exit.isFailure(submitted!) ? describeExit(submitted!) : "accepted",
          expected,
          `after ${step}: submit`
        )
        cov.add(`submit ${expected}`)
        if (Exit.isFailure(submitted!)) return undefined
        const future = (submitted as Exit.Success<Future.Future<unknown, unknown>>).value
        return yield* adopt(entry as Entry, future as Future.Future<number, number>, flags, gate)
      })

    /** Submitters that waited for room and have returned: adopt their futures (admitted) or check their rejection. */
    const collect = Effect.gen(function* () {
      for (const w of waiting.slice()) {
        const exit = submitExit(w.fiber)
        if (exit === undefined) continue
        waiting.splice(waiting.indexOf(w), 1)
        const expected = w.waiter.entry !== undefined ? "accepted" : (w.waiter.rejected ?? "still waiting")
        assert.strictEqual(
          Exit.isFailure(exit) ? describeExit(exit) : "accepted",
          expected,
          `after ${step}: a waiting submit`
        )
        cov.add(`waiting submit → ${expected}`)
        if (Exit.isSuccess(exit))
          yield* adopt(w.waiter.entry!, exit.value as Future.Future<number, number>, w.flags, w.gate)
      }
    })

    const release = (h: Handle) =>
      Effect.gen(function* () {
        yield* Deferred.succeed(h.gate, undefined)
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
          assert.isFalse(h.flags.completed, `after ${step}: cancel returned true but the body completed`)
          assert.strictEqual(Future.stateUnsafe(h.future), "cancelled", `after ${step}: cancel returned true`)
          assert.strictEqual(
            h.flags.interrupted,
            h.model.interrupted,
            `after ${step}: finalizer ran before cancel returned`
          )
        }
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
          case "tick":
            yield* TestClock.adjust(c.ms)
            model.advance(c.ms)
            return
          case "await": {
            const h = pick(c.i)
            if (h === undefined) return
            const t = c.t + ++observers / 64
            let expected: Outcome = "none"
            model.begin()
            model.observer = {
              onEpoch: () => isSettled(h.model) && ((expected = h.model.outcome!), true),
              onDeadline: () => {}
            }
            model.end()
            const result = yield* observe(Future.await(h.future).pipe(Effect.exit, Effect.timeoutOption(t)), t)
            const actual = Option.isNone(result) ? "none" : describeExit(result.value)
            assert.strictEqual(actual, expected, `after ${step}: await`)
            cov.add(`await → ${kindOf(actual)}`)
            return
          }
          case "wait": {
            if (handles.length === 0) return
            const hs = c.is.map((i) => pick(i)!)
            const set = unique(hs)
            const t = c.t + ++observers / 64
            // Observers resume synchronously as the future that satisfies them
            // settles, possibly in the middle of an epoch: the partition lies
            // between what was settled before that epoch and what is settled
            // after it (exactly the latter at the deadline).
            let lower: Array<number> = []
            let upper: Array<number> = []
            let satisfied = false
            const settled = () => set.filter((h) => isSettled(h.model))
            model.begin()
            model.observer = {
              onEpoch: () => {
                if (
                  !waitSatisfied(
                    set.map((h) => h.model),
                    c.returnWhen
                  )
                )
                  return false
                satisfied = true
                upper = settled().map((h) => h.model.id)
                lower = settled()
                  .filter((h) => h.model.epoch < model.epoch)
                  .map((h) => h.model.id)
                return true
              },
              onDeadline: () => {
                upper = lower = settled().map((h) => h.model.id)
              }
            }
            model.end()
            const result = yield* observe(
              Future.wait(
                hs.map((h) => h.future),
                { returnWhen: c.returnWhen, timeout: t }
              ),
              t
            )
            const byFuture = new Map(set.map((h) => [h.future, h]))
            const done = Array.from(result.done, (f) => byFuture.get(f)!)
            const ids = done.map((h) => h.model.id)
            assert.strictEqual(
              done.length + result.notDone.size,
              set.length,
              `after ${step}: wait partitions its input`
            )
            for (const id of lower) assert.include(ids, id, `after ${step}: wait: #${id} was done before`)
            for (const id of ids) assert.include(upper, id, `after ${step}: wait: #${id} is not done`)
            cov.add(
              `wait ${c.returnWhen} → ${satisfied ? (lower.length < upper.length ? "returned mid-epoch" : "returned") : "deadline"}`
            )
            if (satisfied) {
              const ok =
                done.length === set.length ||
                (c.returnWhen === "FIRST_COMPLETED" && done.length > 0) ||
                (c.returnWhen === "FIRST_EXCEPTION" && done.some((h) => h.model.state === "failed"))
              assert.isTrue(ok, `after ${step}: wait returned before ${c.returnWhen}: ${ids}`)
            }
            return
          }
          case "asCompleted": {
            if (handles.length === 0) return
            const hs = c.is.map((i) => pick(i)!)
            const set = unique(hs)
            const t = c.t + ++observers / 64
            let before: Array<Handle> = []
            const emitted = new Set<Handle>()
            let ending: Outcome = "done"
            let first = true
            const take = () => {
              for (const h of set) if (!emitted.has(h) && isSettled(h.model)) emitted.add(h)
              return emitted.size === set.length
            }
            model.begin()
            model.observer = {
              onEpoch: () => {
                if (first) {
                  first = false
                  before = set.filter((h) => isSettled(h.model))
                }
                return take()
              },
              onDeadline: () => {
                take()
                ending = "timeout"
              }
            }
            model.end()
            const seen: Array<Handle> = []
            const byFuture = new Map(set.map((h) => [h.future as Future.Future<unknown, unknown>, h]))
            const result = yield* observe(
              Future.asCompleted(
                hs.map((h) => h.future),
                { timeout: t }
              ).pipe(
                Stream.runForEach((f) =>
                  Effect.sync(() => {
                    seen.push(byFuture.get(f)!)
                  })
                ),
                Effect.exit
              ),
              t
            )
            const label = (xs: Iterable<Handle>) => Array.from(xs, (h) => h.model.id)
            cov.add(
              `asCompleted → ${ending}, ${seen.length - before.length > 0 ? "some" : "none"} settled while streaming`
            )
            assert.strictEqual(
              Exit.isSuccess(result) ? "done" : describeExit(result),
              ending,
              `after ${step}: asCompleted end`
            )
            assert.deepStrictEqual(
              label(seen).sort(),
              label(emitted).sort(),
              `after ${step}: asCompleted emits each settled future once`
            )
            assert.deepStrictEqual(
              label(seen.slice(0, before.length)),
              label(before),
              `after ${step}: settled ones first, in input order`
            )
            for (let k = before.length + 1; k < seen.length; k++) {
              assert.isAtLeast(
                seen[k].model.epoch,
                seen[k - 1].model.epoch,
                `after ${step}: asCompleted in completion order`
              )
            }
            return
          }
          case "map": {
            // map's own submissions waiting for room are not modelled
            if (whenFull === "suspend") return
            const t = c.t + ++observers / 64
            const specs = c.items.map((s) => ({ ...s, timeout: c.taskTimeout }))
            const items = specs.map((s) => ({ spec: s, flags: newFlags() }))
            const gate = yield* Deferred.make<void>()
            model.begin()
            const mapRun = model.mapStart(specs, Math.min(c.take, specs.length), c.buffersize)
            if (mapRun.result === undefined) {
              model.observer = {
                onEpoch: () => (model.mapStep(mapRun), mapRun.result !== undefined),
                onDeadline: () => model.mapEnd(mapRun, "timeout", -1)
              }
            }
            model.end()
            const result = yield* observe(
              ex
                .map(items, (item) => body(item.spec, item.flags, gate), {
                  timeout: t,
                  ...(c.buffersize === undefined ? {} : { buffersize: c.buffersize }),
                  ...(c.taskTimeout === undefined ? {} : { taskTimeout: c.taskTimeout })
                })
                .pipe(Stream.take(c.take), Stream.runCollect, Effect.exit),
              t
            )
            assert.strictEqual(
              describeExit(Exit.map(result, (values) => Array.from(values))),
              mapRun.result,
              `after ${step}: map result`
            )
            cov.add(`map → ${kindOf(mapRun.result)}${c.buffersize === undefined ? "" : " (buffersize)"}`)
            for (const [k, e] of mapRun.submitted.entries()) {
              if (e.mayBeUnstarted)
                cov.add(`map item raced the end → ${items[k].flags.started ? "started" : "never started"}`)
              model.resolve(e, items[k].flags.started)
            }
            for (const [k, item] of items.entries()) {
              const e = mapRun.submitted[k]
              const expected = e === undefined ? "false/false/false" : expectedFlags(e)
              assert.strictEqual(showFlags(item.flags), expected, `after ${step}: map item ${k} (${item.spec.kind})`)
            }
            return
          }
          case "interruptSubmit": {
            if (waiting.length === 0) return
            const w = waiting[c.i % waiting.length]
            waiting.splice(waiting.indexOf(w), 1)
            yield* Fiber.interrupt(w.fiber)
            model.begin()
            model.interruptWaiter(w.waiter)
            model.end()
            assert.isFalse(w.flags.started, `after ${step}: an interrupted submitter's task never runs`)
            cov.add("interrupt a waiting submitter")
            return
          }
          case "shutdown": {
            const effect = ex.shutdown({ wait: c.wait, cancelFutures: c.cancelFutures })
            if (c.wait) shutdowns.push(yield* Effect.forkChild(effect, { startImmediately: true }))
            else yield* effect
            cov.add(
              `shutdown wait=${c.wait} cancelFutures=${c.cancelFutures}${model.isShutdown ? " (again)" : ""}${model.queue.length > 0 ? " with a queue" : ""}`
            )
            model.begin()
            model.shutdown(c.cancelFutures)
            model.end()
            return
          }
        }
      })

    // on a failure, stop everything so that releasing the executor (which
    // waits for its tasks) returns and the failure is reported at once
    yield* Effect.addFinalizer((exit) =>
      Exit.isSuccess(exit) ? Effect.void : Effect.forEach(handles, (h) => Future.cancel(h.future), { discard: true })
    )

    for (const [k, c] of commands.entries()) {
      step = `command ${k} ${JSON.stringify(c)}`
      yield* run(c)
      yield* converge
    }

    // wind down: interrupt waiting submitters, release every gate, cancel what is still open
    step = "wind-down"
    for (const w of waiting.splice(0)) {
      yield* Fiber.interrupt(w.fiber)
      model.interruptWaiter(w.waiter)
    }
    for (const h of handles) yield* release(h)
    yield* converge
    for (const h of handles) {
      if (isSettled(h.model)) continue
      yield* cancel(h)
      yield* converge
    }
    for (const h of handles) {
      assert.strictEqual(h.callbacks, 1, `#${h.model.id} settles exactly once`)
      const exit = yield* Future.exit(h.future)
      assert.strictEqual(describeExit(exit), h.model.outcome, `#${h.model.id} Future.exit`)
      const awaited = yield* Effect.exit(Future.await(h.future))
      assert.strictEqual(describeExit(awaited), h.model.outcome, `#${h.model.id} Future.await`)
    }
    assert.isTrue(model.idle)
    for (const e of model.entries)
      cov.add(`final ${e.group === undefined ? "future" : "map item"} ${e.spec.kind} → ${kindOf(e.outcome)}`)
    if (shutdowns.length > 0) cov.add("shutdown({ wait: true }) returned during the sequence")

    // no slot leaked: maxWorkers gated tasks run at once, then the pool drains
    step = "leak check"
    if (!model.isShutdown) {
      const gates: Array<Handle> = []
      for (let k = 0; k < maxWorkers; k++) gates.push((yield* submit({ kind: "gate", n: k }))!)
      yield* converge
      assert.strictEqual((yield* ex.stats).running, maxWorkers, "the pool runs maxWorkers tasks at once")
      for (const g of gates) assert.isTrue(g.flags.started, "every gated task started")
      for (const g of gates) yield* release(g)
      yield* converge
    } else {
      assert.isUndefined(yield* submit({ kind: "value", n: 0 }), "submit after shutdown is rejected")
    }
    yield* ex.shutdown({ wait: true })
    assert.strictEqual((yield* ex.stats).workers, 0, "no slot outlives shutdown")
  })

const errors = recorders()
const cov = coverage()
const kindOf = (outcome: Outcome | undefined) => (outcome ?? "none").replace(/:.*/, "")

const check = (sequence: Input) =>
  Effect.runPromise(runSequence(sequence).pipe(Effect.scoped, Effect.provide(TestClock.layer()))).then(() => {
    const escaped = errors.take()
    if (escaped.length > 0) throw new Error(`escaped errors:\n${escaped.join("\n")}`)
  })

describe("IoExecutor model", () => {
  errors.install()
  afterAll(() => cov.print("IoExecutor model coverage"))
  const params = parameters(500, 5_000)

  prop.prop([input], params)(
    "model - random command sequences match the reference model",
    (sequence) => check(sequence),
    Math.max(60_000, params.numRuns * 100)
  )

  // Shrunk failures found by this test, kept as regression cases.

  it("regression - maxQueue 0 admits a task while the pool is below maxWorkers", () =>
    check({
      maxWorkers: 1,
      maxQueue: 0,
      whenFull: "fail",
      commands: [{ op: "submit", task: { kind: "value", n: 0, d: 10, timeout: undefined } }]
    }))

  it("regression - maxQueue 0 with room for more slots: each task starts, then QueueFullError", () =>
    check({
      maxWorkers: 2,
      maxQueue: 0,
      whenFull: "fail",
      commands: [
        { op: "submit", task: { kind: "gate", n: 1, d: 10, timeout: undefined } },
        { op: "submit", task: { kind: "block", n: 2, d: 10, timeout: undefined } },
        { op: "submit", task: { kind: "value", n: 3, d: 10, timeout: undefined } },
        { op: "release", i: 0 },
        { op: "submit", task: { kind: "value", n: 4, d: 10, timeout: undefined } }
      ]
    }))
})
