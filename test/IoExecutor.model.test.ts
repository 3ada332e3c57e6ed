// Model-based test of the I/O executor (and so of the dispatcher both executors
// share): the interpreter in test/model/interpreter.ts with the I/O adapter,
// on the TestClock, so every outcome, sleep, timeout and observer deadline is
// exact. Each task's body reports what it did in its gate (test/fixtures/gate.ts)
// and waits for its release on a Deferred.
//
// Configurations: maxWorkers 1–3 with an unbounded queue; a bounded queue
// (maxQueue 0–3) with whenFull "fail" (submit gets QueueFullError); a bounded
// queue with whenFull "suspend" (the submitter waits for room, FIFO; a command
// interrupts a waiting submitter). Tasks of every kind, with and without a
// timeout; map with buffersize, taskTimeout and a deadline.
//
// Timed events never tie with an observer's deadline: each observer's deadline
// has its own binary fraction of a millisecond (j/64), task times are whole
// milliseconds. Task events at the same instant run in the order their sleeps
// were registered, as TestClock does.
//
// Runs: MODEL_RUNS sequences (default 600, spread over the configurations),
// or MODEL_RUNS_PER_CONFIGURATION of each (`npm run fuzz`: 10,000). A failure prints fast-check's `{ seed, path }`
// and the shrunk command list; replay it with
//   MODEL_SEED=<seed> MODEL_PATH=<path> npx vitest run test/IoExecutor.model.test.ts -t '<configuration>'
// and add the shrunk list as a regression case below.
import { it } from "@effect/vitest"
import { fc } from "@fast-check/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import { TestClock } from "effect/testing"
import * as IoExecutor from "../src/IoExecutor.ts"
import * as Gate from "./fixtures/gate.ts"
import { type Adapter, type Configuration, type Instance, modelSuite } from "./model/interpreter.ts"
import type { TaskSpec } from "./model/pool.ts"

interface Config {
  readonly maxWorkers: number
  /** undefined: unbounded */
  readonly maxQueue: number | undefined
  readonly whenFull: "fail" | "suspend"
}

/** Releases of the gates: an in-process body waits on a Deferred, which resumes it synchronously. */
const releases = new WeakMap<Gate.Gate, Deferred.Deferred<void>>()
const releaseOf = (g: Gate.Gate) => {
  let d = releases.get(g)
  if (d === undefined) {
    d = Deferred.makeUnsafe<void>()
    releases.set(g, d)
  }
  return d
}

/** The task body of a spec; it reports what it did in its gate. */
const body = (s: TaskSpec, g: Gate.Gate): Effect.Effect<number, number> => {
  const begin = Effect.sync(() => Gate.begin(g))
  const done = Effect.sync(() => Gate.complete(g, s.n))
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
      return Effect.andThen(begin, Gate.onInterrupt(g, Effect.andThen(Deferred.await(releaseOf(g)), done)))
    case "block":
      return Effect.andThen(begin, Gate.onInterrupt(g, Effect.never))
    case "sleep":
      return Effect.andThen(begin, Gate.onInterrupt(g, Effect.andThen(Effect.sleep(s.d!), done)))
    default:
      throw new Error(`the I/O executor runs no ${s.kind} task`)
  }
}

const adapter: Adapter<Config> = {
  name: "IoExecutor",
  timed: true,
  modelSpec: (s) => s,
  generation: (c) => ({
    ops: {
      submit: 24,
      release: 12,
      cancel: 8,
      tick: 8,
      await: 4,
      wait: 4,
      asCompleted: 4,
      map: c.whenFull === "suspend" ? 0 : 4,
      shutdown: 1,
      interruptSubmit: c.whenFull === "suspend" ? 3 : 0
    },
    // weighted towards tasks that hold their slot, so queues form
    kinds: [
      ["value", 2],
      ["fail", 1],
      ["die", 1],
      ["interrupt", 1],
      ["gate", 3],
      ["block", 2],
      ["sleep", 3]
    ],
    itemKinds: [
      ["value", 3],
      ["sleep", 2],
      ["fail", 1],
      ["die", 1],
      ["interrupt", 1],
      ["block", 1]
    ],
    timeout: () => fc.option(fc.constantFrom(5, 15, 25, 45), { nil: undefined, freq: 4 }),
    taskTimeout: fc.option(fc.constantFrom(15, 35), { nil: undefined, freq: 4 }),
    maxCommands: 30,
    maxMapItems: 5
  }),
  acquire: (c) =>
    Effect.gen(function* () {
      const ex = yield* Effect.orDie(IoExecutor.make({ ...c, name: "model" }))
      const stats = Effect.map(ex.stats, (s) => ({ ...s, crashes: 0 }))
      return {
        model: {
          maxWorkers: c.maxWorkers,
          maxQueue: c.maxQueue ?? Infinity,
          maxCrashes: Infinity,
          timed: true,
          suspend: c.whenFull === "suspend"
        },
        submit: (s, g) =>
          s.timeout === undefined ? ex.submit(body(s, g)) : ex.submit(body(s, g), { timeout: s.timeout }),
        map: (items, options) => ex.map(items, (item) => body(item.spec, item.gate), options),
        stats,
        shutdown: ex.shutdown,
        release: (g) => Effect.andThen(Gate.release(g), Deferred.succeed(releaseOf(g), undefined)),
        advanceClock: (ms) => TestClock.adjust(ms),
        base: yield* stats,
        // the executor creates a slot per task running at once, up to maxWorkers, and none outlives shutdown
        problems: (s, { model }) =>
          s.maxWorkers === c.maxWorkers && s.workers === model.slots
            ? []
            : [`maxWorkers ${s.maxWorkers}, workers ${s.workers}; model ${c.maxWorkers}, ${model.slots}`],
        command: (command) => Effect.die(new Error(`the I/O adapter runs no ${command.op}`)),
        final: () =>
          Effect.gen(function* () {
            yield* ex.shutdown({ wait: true })
            const s = yield* ex.stats
            if (s.workers !== 0) throw new Error(`${s.workers} slots outlive shutdown`)
          })
      } satisfies Instance
    }),
  provide: (effect) => Effect.provide(effect, TestClock.layer()),
  discard: Effect.void,
  close: Effect.void
}

const maxWorkers = fc.constantFrom(1, 1, 2, 2, 3)

const configurations: ReadonlyArray<Configuration<Config>> = [
  {
    name: "unbounded queue",
    config: fc.record({ maxWorkers, maxQueue: fc.constant(undefined), whenFull: fc.constant("fail" as const) })
  },
  {
    name: "maxQueue, whenFull fail",
    config: fc.record({ maxWorkers, maxQueue: fc.integer({ min: 0, max: 3 }), whenFull: fc.constant("fail" as const) })
  },
  {
    name: "maxQueue, whenFull suspend",
    config: fc.record({
      maxWorkers,
      maxQueue: fc.integer({ min: 0, max: 3 }),
      whenFull: fc.constant("suspend" as const)
    })
  }
]

modelSuite(adapter, configurations, { defaultRuns: 600, runTimeoutMs: 5_000, msPerRun: 100 }, (check) => {
  // Shrunk failures found by this test, kept as regression cases.

  it("regression - maxQueue 0 admits a task while the pool is below maxWorkers", () =>
    check({ maxWorkers: 1, maxQueue: 0, whenFull: "fail" }, [{ op: "submit", task: { kind: "value", n: 0 } }]))

  it("regression - maxQueue 0 with room for more slots: each task starts, then QueueFullError", () =>
    check({ maxWorkers: 2, maxQueue: 0, whenFull: "fail" }, [
      { op: "submit", task: { kind: "gate", n: 1 } },
      { op: "submit", task: { kind: "block", n: 2 } },
      { op: "submit", task: { kind: "value", n: 3 } },
      { op: "release", i: 0 },
      { op: "submit", task: { kind: "value", n: 4 } }
    ]))
})
