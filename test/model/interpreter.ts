// The one model-based interpreter of the executors: random command sequences
// run against a real executor and against the reference model (pool.ts); after
// every command the executor must reach exactly the model's state. What differs
// between executors (how a step's task is submitted, gated and released, how
// time passes, what else it reports) is its adapter's:
// IoExecutor.model.test.ts and CpuExecutor.model.test.ts.
//
// Commands: submit tasks of every kind the adapter offers (succeed, fail, die,
// interrupt themselves, wait on a gate, block until cancelled, sleep, block
// their thread, kill their worker), with or without a timeout; release a gate;
// cancel; let time pass; await a future with a deadline; Future.wait and
// Future.asCompleted with a deadline; map consumed partially (take), with
// buffersize (and taskTimeout and a deadline where time is exact); shutdown
// with each combination of wait × cancelFutures; interrupt a submitter that
// waits for room; and the adapter's own (kill a worker, pause).
//
// Checked after every command: every future's state and outcome, whether its
// body started, completed or was interrupted (read from its gate), its
// done-callback count (0, then exactly 1), every counter of `stats` (which add
// up) and the adapter's own (crashes, slots, recycling), what every observer
// returned, submitters waiting for room, `shutdown({ wait: true })` returning
// exactly once the executor is idle, and that `cancel` returning true means the
// task has stopped (settled, its finalizer run) and its body never completed,
// then or later. At the end everything is wound down: every future settled
// exactly once, and (unless shut down or broken) the pool still runs all its
// slots' tasks at once, proven with gates. No unhandled rejection or uncaught
// exception may occur.
//
// Time: with `timed` adapters (the I/O executor on the TestClock) every
// outcome is exact; see pool.ts for epochs and the latitude observers get.
// Untimed adapters (the CPU executor in real time) are checked against the
// state the executor settles into, waited for (bounded).
//
// Runs: MODEL_RUNS sequences per executor (spread over its
// configurations), or MODEL_RUNS_PER_CONFIGURATION of each; MODEL_SEED and MODEL_PATH replay a failure (fast-check
// prints both: `{ seed: …, path: "…" }`), MODEL_STATS=1 prints what was
// exercised. Debugging: MODEL_NO_SHRINK=1 reports the first failure as it is;
// MODEL_CASE=<file> replays one counterexample as printed (`[{ config,
// commands }]`); MODEL_TRACE=1 prints each step; MODEL_RUN_TIMEOUT_MS and
// MODEL_TEST_TIMEOUT_MS bound one sequence and the whole property.
import { afterAll, assert, describe, it } from "@effect/vitest"
import { fc, it as prop } from "@fast-check/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { Stats } from "../../src/Executor.ts"
import { readFileSync } from "node:fs"
import {
  BrokenExecutorError,
  CancelledError,
  ExecutorShutdownError,
  QueueFullError,
  WorkerCrashedError
} from "../../src/ExecutorError.ts"
import * as Future from "../../src/Future.ts"
import type { FutureImpl } from "../../src/internal/future.ts"
import * as Gate from "../fixtures/gate.ts"
import {
  type Config as ModelConfig,
  type Entry,
  isSettled,
  isWaiter,
  type Kind,
  type Outcome,
  Pool,
  type ReturnWhen,
  type TaskSpec,
  unique,
  type Waiter,
  waitSatisfied
} from "./pool.ts"

// ---------------------------------------------------------------------------
// commands
// ---------------------------------------------------------------------------

export type Command =
  | { readonly op: "submit"; readonly task: TaskSpec }
  | { readonly op: "release"; readonly i: number }
  | { readonly op: "cancel"; readonly i: number }
  | { readonly op: "tick"; readonly ms: number }
  | { readonly op: "await"; readonly i: number; readonly t: number }
  | { readonly op: "wait"; readonly is: ReadonlyArray<number>; readonly returnWhen: ReturnWhen; readonly t: number }
  | { readonly op: "asCompleted"; readonly is: ReadonlyArray<number>; readonly t: number }
  | {
      readonly op: "map"
      readonly items: ReadonlyArray<TaskSpec>
      readonly take: number
      readonly t: number
      readonly buffersize: number | undefined
      readonly taskTimeout: number | undefined
    }
  | { readonly op: "shutdown"; readonly wait: boolean; readonly cancelFutures: boolean }
  | { readonly op: "interruptSubmit"; readonly i: number }
  /** CPU: kill the worker running a task (or an idle one) from outside. */
  | { readonly op: "kill"; readonly i: number; readonly idle: boolean }
  /** CPU: let every starting worker finish starting (nothing may change). */
  | { readonly op: "pause" }

export type Op = Command["op"]

export type Weighted<A> = ReadonlyArray<readonly [A, number]>

const weighted = <A>(entries: Weighted<A>): fc.Arbitrary<A> =>
  fc.oneof(...entries.filter(([, w]) => w > 0).map(([value, weight]) => ({ arbitrary: fc.constant(value), weight })))

/** What a configuration generates. */
export interface Generation {
  /** How often each command appears (0 or absent: never). */
  readonly ops: Partial<Record<Op, number>>
  /** Kinds of submitted tasks, and of map items. */
  readonly kinds: Weighted<Kind>
  readonly itemKinds: Weighted<Kind>
  /** A submitted task's timeout (undefined: none); given the kind, as some only suit some kinds. */
  readonly timeout: (kind: Kind) => fc.Arbitrary<number | undefined>
  /** map's taskTimeout (timed adapters). */
  readonly taskTimeout?: fc.Arbitrary<number | undefined>
  readonly maxCommands: number
  readonly maxMapItems: number
}

const index = fc.nat({ max: 15 })
const deadline = fc.constantFrom(0, 5, 20, 50, 100)

const specOf = (kinds: Weighted<Kind>, timeout: (kind: Kind) => fc.Arbitrary<number | undefined>) =>
  weighted(kinds).chain((kind) =>
    fc.record({
      kind: fc.constant(kind),
      n: fc.integer({ min: 0, max: 9 }),
      d: fc.constantFrom(10, 20, 30, 50),
      timeout: timeout(kind)
    })
  )

export const commandsOf = (g: Generation): fc.Arbitrary<ReadonlyArray<Command>> => {
  const w = (op: Op) => g.ops[op] ?? 0
  const arbitraries: Record<Op, fc.Arbitrary<Command>> = {
    submit: fc.record({ op: fc.constant("submit" as const), task: specOf(g.kinds, g.timeout) }),
    release: fc.record({ op: fc.constant("release" as const), i: index }),
    cancel: fc.record({ op: fc.constant("cancel" as const), i: index }),
    tick: fc.record({ op: fc.constant("tick" as const), ms: fc.constantFrom(5, 10, 20, 35, 60) }),
    await: fc.record({ op: fc.constant("await" as const), i: index, t: deadline }),
    wait: fc.record({
      op: fc.constant("wait" as const),
      is: fc.array(index, { maxLength: 4 }),
      returnWhen: fc.constantFrom<ReturnWhen>("FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED"),
      t: deadline
    }),
    asCompleted: fc.record({
      op: fc.constant("asCompleted" as const),
      is: fc.array(index, { maxLength: 4 }),
      t: deadline
    }),
    map: fc.record({
      op: fc.constant("map" as const),
      items: fc.array(
        specOf(g.itemKinds, () => fc.constant(undefined)),
        { minLength: 1, maxLength: g.maxMapItems }
      ),
      take: fc.integer({ min: 1, max: g.maxMapItems }),
      t: deadline,
      buffersize: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
      taskTimeout: g.taskTimeout ?? fc.constant(undefined)
    }),
    shutdown: fc.record({ op: fc.constant("shutdown" as const), wait: fc.boolean(), cancelFutures: fc.boolean() }),
    interruptSubmit: fc.record({ op: fc.constant("interruptSubmit" as const), i: index }),
    kill: fc.record({ op: fc.constant("kill" as const), i: index, idle: fc.boolean() }),
    pause: fc.constant({ op: "pause" as const })
  }
  const ops = (Object.keys(arbitraries) as Array<Op>).filter((op) => w(op) > 0)
  return fc.array(fc.oneof(...ops.map((op) => ({ weight: w(op), arbitrary: arbitraries[op] }))), {
    minLength: 1,
    maxLength: g.maxCommands
  })
}

// ---------------------------------------------------------------------------
// adapters
// ---------------------------------------------------------------------------

/** An executor's `stats`, with its crashes (0 where workers cannot crash). */
export type Counters = Stats & { readonly crashes: number }

/** What the interpreter hands an adapter's executor-specific commands and checks. */
export interface Context {
  readonly model: Pool
  readonly handles: ReadonlyArray<Handle>
  /** Every gate handed to a task (map items too). */
  readonly gates: ReadonlyArray<Gate.Gate>
  /** Waits (bounded) until `check` returns no problem; fails naming `what`. */
  readonly until: (check: Effect.Effect<string | undefined>, what: string) => Effect.Effect<void>
  readonly cov: Coverage
  readonly step: () => string
}

/** One executor under test, for one sequence. */
export interface Instance {
  /** The model of this executor. */
  readonly model: ModelConfig
  /** Submits a step's task; its body reports through `gate`. */
  readonly submit: (spec: TaskSpec, gate: Gate.Gate) => Effect.Effect<Future.Future<number, unknown>, unknown>
  /** `map` over steps (deadline and taskTimeout only where the adapter is timed). */
  readonly map: (
    items: ReadonlyArray<{ readonly spec: TaskSpec; readonly gate: Gate.Gate }>,
    options: { readonly buffersize?: number; readonly taskTimeout?: number; readonly timeout?: number }
  ) => Stream.Stream<number, unknown>
  readonly stats: Effect.Effect<Counters>
  readonly shutdown: (options: { readonly wait: boolean; readonly cancelFutures: boolean }) => Effect.Effect<void>
  /** Lets a gated body finish. */
  readonly release: (gate: Gate.Gate) => Effect.Effect<void>
  /** Passes `ms` of the executor's clock (timed adapters). */
  readonly advanceClock: (ms: number) => Effect.Effect<void>
  /** Counters from which this sequence counts (an executor shared by sequences has run others). */
  readonly base: Counters
  /** Executor-specific differences from the model (after every command). */
  readonly problems: (s: Counters, ctx: Context) => ReadonlyArray<string>
  /** Once the executor has reached the model's state after a command: settles what the model left open (optional). */
  readonly settled?: ((ctx: Context) => void) | undefined
  /** Runs an executor-specific command (kill, pause). */
  readonly command: (c: Command, ctx: Context) => Effect.Effect<void>
  /** Executor-specific checks once everything is wound down. */
  readonly final: (ctx: Context) => Effect.Effect<void>
}

export interface Adapter<C> {
  readonly name: string
  /** The executor's clock is the TestClock: sleeps, timeouts and deadlines are exact. */
  readonly timed: boolean
  readonly generation: (config: C) => Generation
  /** What the model knows of a spec (e.g. a timeout that never fires is none). */
  readonly modelSpec: (spec: TaskSpec) => TaskSpec
  /** The executor for one sequence (fresh, or shared by sequences that do not shut it down). */
  readonly acquire: (config: C, commands: ReadonlyArray<Command>) => Effect.Effect<Instance, never, Scope.Scope>
  /** Provides what the sequences need (the TestClock, …). */
  readonly provide: <A, E>(effect: Effect.Effect<A, E>) => Effect.Effect<A, E>
  /** Discards a shared executor a failing sequence left in an unknown state. */
  readonly discard: Effect.Effect<void>
  /** Releases what the adapter holds, after the suite. */
  readonly close: Effect.Effect<void>
}

/** A named configuration of an executor (what varies within it is drawn per sequence). */
export interface Configuration<C> {
  readonly name: string
  readonly config: fc.Arbitrary<C>
}

// ---------------------------------------------------------------------------
// describing what happened
// ---------------------------------------------------------------------------

/** Describes an error as the model does. */
export const describeError = (error: unknown): Outcome => {
  if (error instanceof CancelledError) return "cancelled"
  if (Cause.isTimeoutError(error)) return "timeout"
  if (error instanceof WorkerCrashedError) return "crashed"
  if (error instanceof BrokenExecutorError) return "broken"
  if (error instanceof QueueFullError || error instanceof ExecutorShutdownError) return error._tag
  return `fail:${JSON.stringify(error)}`
}

/** Describes an Exit as the model describes outcomes (`ok:…`, `fail:…`, `die:…`, `cancelled`, …). */
export const describeExit = (exit: Exit.Exit<unknown, unknown>): Outcome => {
  if (Exit.isSuccess(exit)) return `ok:${JSON.stringify(exit.value)}`
  const error = Cause.findError(exit.cause)
  if (error._tag === "Success") return describeError(error.success)
  if (Cause.hasDies(exit.cause)) {
    const defect = Cause.squash(exit.cause)
    return `die:${defect instanceof Error ? defect.message : String(defect)}`
  }
  return Cause.hasInterrupts(exit.cause) ? "interrupted" : `cause:${String(exit.cause)}`
}

const kindOf = (outcome: Outcome | undefined) => (outcome ?? "none").replace(/:.*/, "")

/** A future's Exit once it has settled (read without waiting). */
const exitOf = (future: Future.Future<unknown, unknown>) =>
  (future as unknown as FutureImpl<unknown, unknown>).exit as Exit.Exit<unknown, unknown> | undefined

type BodyFlags = ReturnType<typeof Gate.flags>

const showFlags = (f: BodyFlags) => `${f.started}/${f.completed}/${f.interrupted}`

/** The flags the model expects of an entry's body, shown as `showFlags` does. */
const expectedFlags = (e: Entry | undefined) =>
  e === undefined
    ? "false/false/false"
    : showFlags({ started: e.started, completed: e.state === "succeeded", interrupted: e.interrupted })

/** Counts what the sequences exercised; with `MODEL_STATS=1` the suite prints the table. */
export type Coverage = ReturnType<typeof coverage>

const coverage = () => {
  const counts = new Map<string, number>()
  return {
    add: (label: string) => {
      counts.set(label, (counts.get(label) ?? 0) + 1)
    },
    print: (title: string) => {
      if (process.env.MODEL_STATS === undefined) return
      const rows = Array.from(counts).sort(([a], [b]) => a.localeCompare(b))
      console.log(`${title}\n${rows.map(([k, v]) => `  ${k}: ${v}`).join("\n")}`)
    }
  }
}

/** Unhandled rejections and uncaught exceptions in this process while installed. */
const recorders = () => {
  const seen: Array<string> = []
  const onRejection = (reason: unknown) => seen.push(`unhandledRejection: ${String(reason)}`)
  const onException = (error: unknown) => seen.push(`uncaughtException: ${String(error)}`)
  return {
    install: () => {
      process.on("unhandledRejection", onRejection)
      process.on("uncaughtException", onException)
    },
    uninstall: () => {
      process.off("unhandledRejection", onRejection)
      process.off("uncaughtException", onException)
    },
    take: () => seen.splice(0)
  }
}

// ---------------------------------------------------------------------------
// the interpreter
// ---------------------------------------------------------------------------

/** One future under test. */
export interface Handle {
  readonly model: Entry
  readonly future: Future.Future<number, unknown>
  readonly gate: Gate.Gate
  callbacks: number
  cancelledTrue: boolean
}

/** MODEL_TRACE=1 prints each step (and what a long wait still waits for) to stderr. */
const trace: (line: string) => void =
  process.env.MODEL_TRACE === "1" ? (line) => console.error(`[model] ${line}`) : () => {}

/** How long (real time) an untimed executor may take to reach the model's state. */
const SETTLE_MS = 10_000
/** An untimed observer's deadline (real ms): the executor is quiescent while it looks. */
const UNTIMED_DEADLINE = 5

/** The Exit of a forked `Effect.exit(submit)`: undefined while it waits. */
const submitExit = (
  fiber: Fiber.Fiber<Exit.Exit<Future.Future<number, unknown>, unknown>>
): Exit.Exit<Future.Future<number, unknown>, unknown> | undefined => {
  const outer = fiber.pollUnsafe()
  if (outer === undefined) return undefined
  // interrupted while it waited
  return Exit.isFailure(outer) ? Exit.failCause(outer.cause) : outer.value
}

/** Runs one command sequence; fails (throws) at the first divergence from the model. */
const runSequence = (
  adapter: Adapter<any>,
  ex: Instance,
  commands: ReadonlyArray<Command>,
  cov: Coverage,
  escaped: () => Array<string>
) =>
  Effect.gen(function* () {
    const timed = adapter.timed
    const base = ex.base
    assert.strictEqual(base.running + base.prefetched + base.queued, 0, "the executor starts the sequence idle")
    const model = new Pool(ex.model)
    const handles: Array<Handle> = []
    const gates: Array<Gate.Gate> = []
    /** Maps in progress: a failing sequence interrupts them first (their end cancels their items). */
    const maps = new Set<Fiber.Fiber<unknown, unknown>>()
    const shutdowns: Array<Fiber.Fiber<void>> = []
    /** Submitters waiting for room (whenFull "suspend"). */
    const waiting: Array<{
      readonly waiter: Waiter
      readonly fiber: Fiber.Fiber<Exit.Exit<Future.Future<number, unknown>, unknown>>
      readonly gate: Gate.Gate
    }> = []
    let observers = 0
    let step = "start"

    const newGate = () => {
      const g = Gate.make()
      gates.push(g)
      return g
    }
    const pick = (i: number): Handle | undefined => (handles.length === 0 ? undefined : handles[i % handles.length])

    /** Waits until `check` passes: a few scheduler turns (timed), or up to SETTLE_MS (untimed). */
    const until = (check: Effect.Effect<string | undefined>, what: string) =>
      Effect.gen(function* () {
        const start = Date.now()
        let problems: string | undefined
        for (let i = 0; ; i++) {
          problems = yield* check
          if (problems === undefined) return
          if (timed ? i >= 50 : Date.now() - start > SETTLE_MS) break
          if (i % 2000 === 100) trace(`still waiting: ${what}: ${problems}`)
          if (timed || i < 20) yield* Effect.yieldNow
          else yield* Effect.sleep(1)
        }
        assert.fail(`after ${step}: ${what}:\n${problems}`)
      })

    const ctx: Context = { model, handles, gates, until, cov, step: () => step }

    /** Where the executor differs from the model, or undefined. */
    const diff = Effect.gen(function* () {
      const s = yield* ex.stats
      const problems: Array<string> = []
      const actual = {
        running: s.running,
        prefetched: s.prefetched,
        queued: s.queued,
        submitted: s.submitted - base.submitted,
        succeeded: s.succeeded - base.succeeded,
        failed: s.failed - base.failed,
        cancelled: s.cancelled - base.cancelled,
        crashes: s.crashes - base.crashes
      }
      const expected = {
        running: model.running,
        prefetched: model.prefetched,
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
      if (s.submitted !== s.succeeded + s.failed + s.cancelled + s.running + s.prefetched + s.queued) {
        problems.push("stats add up")
      }
      problems.push(...ex.problems(s, ctx))
      for (const [k, h] of handles.entries()) {
        const e = h.model
        const state = Future.stateUnsafe(h.future)
        const exit = exitOf(h.future)
        const outcome = exit === undefined ? undefined : describeExit(exit)
        if (state !== e.state || outcome !== e.outcome) {
          problems.push(`#${k} (${e.spec.kind}) is ${state} ${outcome ?? ""}, model ${e.state} ${e.outcome ?? ""}`)
        }
        const body = Gate.flags(h.gate)
        if (showFlags(body) !== expectedFlags(e)) {
          problems.push(
            `#${k} (${e.spec.kind}) body started/completed/interrupted ${showFlags(body)}, model ${expectedFlags(e)}`
          )
        }
        if (h.callbacks !== (isSettled(e) ? 1 : 0)) problems.push(`#${k} done-callbacks ran ${h.callbacks} times`)
        if (h.cancelledTrue && body.completed) problems.push(`#${k}: cancel returned true but its body completed`)
      }
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
        if (Exit.isSuccess(exit)) yield* adopt(w.waiter.entry!, exit.value, w.gate)
      }
    })

    /** Lets the executor run until it matches the model (bounded). */
    const converge = until(
      Effect.andThen(collect, diff),
      timed ? "the executor differs from the model" : "the executor did not reach the model's state"
    )

    /** Runs an observer until `deadline` (passing that much time), then returns its result. */
    const observe = <A>(effect: Effect.Effect<A>, deadline: number) =>
      Effect.gen(function* () {
        const fiber = yield* Effect.forkChild(effect, { startImmediately: true })
        if (timed) yield* ex.advanceClock(deadline)
        model.advance(deadline)
        model.expire()
        yield* until(
          Effect.sync(() => (fiber.pollUnsafe() === undefined ? "it has not returned" : undefined)),
          "the observer's deadline passed"
        )
        const exit = fiber.pollUnsafe()!
        assert.isTrue(Exit.isSuccess(exit), `after ${step}: the observer failed: ${String(exit)}`)
        return (exit as Exit.Success<A>).value
      })

    /** A handle for an admitted future: its done-callback counts settlements. */
    const adopt = (entry: Entry, future: Future.Future<number, unknown>, gate: Gate.Gate) =>
      Effect.gen(function* () {
        const handle: Handle = { model: entry, future, gate, callbacks: 0, cancelledTrue: false }
        handles.push(handle)
        yield* Future.addDoneCallback(handle.future, () =>
          Effect.sync(() => {
            handle.callbacks++
          })
        )
        return handle
      })

    const submit = (s: TaskSpec) =>
      Effect.gen(function* () {
        const gate = newGate()
        const fiber = yield* Effect.forkChild(Effect.exit(ex.submit(s, gate)), { startImmediately: true })
        model.begin()
        const entry = model.submit(adapter.modelSpec(s))
        model.end()
        if (isWaiter(entry)) {
          // whenFull "suspend" and no room: the submitter waits
          cov.add("submit waits for room")
          assert.isUndefined(fiber.pollUnsafe(), `after ${step}: submit returned, the model says it waits for room`)
          waiting.push({ waiter: entry, fiber, gate })
          return undefined
        }
        let submitted = submitExit(fiber)
        // a CPU submit may suspend briefly (encoding): wait for it, bounded
        if (submitted === undefined && !timed) {
          yield* until(
            Effect.sync(() => (fiber.pollUnsafe() === undefined ? "submit has not returned" : undefined)),
            "submit"
          )
          submitted = submitExit(fiber)
        }
        assert.isDefined(submitted, `after ${step}: submit waits for room, the model says it does not`)
        const expected = typeof entry === "string" ? entry : "accepted"
        assert.strictEqual(
          Exit.isFailure(submitted!) ? describeExit(submitted!) : "accepted",
          expected,
          `after ${step}: submit`
        )
        cov.add(`submit ${expected}`)
        if (Exit.isFailure(submitted!)) return undefined
        return yield* adopt(entry as Entry, submitted!.value, gate)
      })

    const release = (h: Handle) =>
      Effect.gen(function* () {
        yield* ex.release(h.gate)
        model.begin()
        model.release(h.model)
        model.end()
      })

    const cancel = (h: Handle) =>
      Effect.gen(function* () {
        const where = isSettled(h.model)
          ? "settled"
          : h.model.state === "running"
            ? "running"
            : model.held.has(h.model)
              ? "sent ahead"
              : "queued"
        const result = yield* Future.cancel(h.future)
        model.begin()
        const expected = model.cancel(h.model)
        model.end()
        assert.strictEqual(result, expected, `after ${step}: cancel returned ${result}`)
        cov.add(`cancel ${h.model.spec.kind} (${where}) → ${result}`)
        if (result) {
          // cancel returns once the task has stopped: settled, its finalizer run, its body not completed
          h.cancelledTrue = true
          assert.isFalse(
            Gate.isSet(h.gate, Gate.COMPLETED),
            `after ${step}: cancel returned true but the body completed`
          )
          assert.strictEqual(Future.stateUnsafe(h.future), "cancelled", `after ${step}: cancel returned true`)
          assert.strictEqual(
            Gate.isSet(h.gate, Gate.INTERRUPTED),
            h.model.interrupted,
            `after ${step}: finalizer ran before cancel returned`
          )
        }
      })

    /** A new observer's deadline: timed ones each get their own binary fraction of a ms, so none ties with a task event. */
    const deadlineOf = (t: number) => (timed ? t + ++observers / 64 : UNTIMED_DEADLINE)

    /** The futures a wait or asCompleted command looks at (as given, and deduplicated), and its deadline. */
    const observed = (c: { readonly is: ReadonlyArray<number>; readonly t: number }) => {
      const hs = c.is.map((i) => pick(i)!)
      return { hs, set: unique(hs), t: deadlineOf(c.t) }
    }

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
            yield* ex.advanceClock(c.ms)
            model.advance(c.ms)
            return
          case "await": {
            const h = pick(c.i)
            if (h === undefined) return
            const t = deadlineOf(c.t)
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
            const { hs, set, t } = observed(c)
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
            const { hs, set, t } = observed(c)
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
          case "map":
            return yield* runMap(c)
          case "interruptSubmit": {
            if (waiting.length === 0) return
            const w = waiting[c.i % waiting.length]
            waiting.splice(waiting.indexOf(w), 1)
            yield* Fiber.interrupt(w.fiber)
            model.begin()
            model.interruptWaiter(w.waiter)
            model.end()
            assert.isFalse(
              Gate.isSet(w.gate, Gate.STARTED),
              `after ${step}: an interrupted submitter's task never runs`
            )
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
          default:
            return yield* ex.command(c, ctx)
        }
      })

    /**
     * `map(items).pipe(Stream.take(take))`. Timed: with a deadline and
     * taskTimeout, exactly as the model says. Untimed: where the model says the
     * stream is stuck (it waits for a task that never ends), the stream is
     * interrupted once the executor is exactly there.
     */
    const runMap = (c: Extract<Command, { op: "map" }>) =>
      Effect.gen(function* () {
        // map's own submissions waiting for room are not modelled
        if (model.cfg.suspend) return
        const t = deadlineOf(c.t)
        const specs = c.items.map((s) => ({ ...s, timeout: timed ? c.taskTimeout : undefined }))
        const items = specs.map((spec) => ({ spec, gate: newGate() }))
        model.begin()
        const mapRun = model.mapStart(specs.map(adapter.modelSpec), Math.min(c.take, specs.length), c.buffersize)
        if (timed && mapRun.result === undefined) {
          model.observer = {
            onEpoch: () => (model.mapStep(mapRun), mapRun.result !== undefined),
            onDeadline: () => model.mapEnd(mapRun, "timeout", -1)
          }
        }
        model.end()
        // the map's items: what their bodies did (its futures are internal)
        const itemFlags = Effect.sync(() => {
          const wrong = items.flatMap((item, k) => {
            const expected = expectedFlags(mapRun.submitted[k])
            const actual = showFlags(Gate.flags(item.gate))
            return actual === expected ? [] : [`map item ${k} (${item.spec.kind}) ${actual}, model ${expected}`]
          })
          return wrong.length === 0 ? undefined : wrong.join("\n")
        })
        const stream = ex
          .map(items, {
            ...(c.buffersize === undefined ? {} : { buffersize: c.buffersize }),
            ...(timed ? { timeout: t } : {}),
            ...(timed && c.taskTimeout !== undefined ? { taskTimeout: c.taskTimeout } : {})
          })
          .pipe(
            Stream.take(c.take),
            Stream.runCollect,
            Effect.map((values) => Array.from(values)),
            Effect.exit
          )
        let result: Outcome
        if (timed) {
          result = describeExit(yield* observe(stream, t))
        } else {
          const fiber = yield* Effect.forkChild(stream, { startImmediately: true })
          maps.add(fiber)
          fiber.addObserver(() => maps.delete(fiber))
          if (mapRun.result === undefined) {
            // stuck: once the executor is exactly where the model says, interrupt the stream
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
            yield* until(
              Effect.sync(() => (fiber.pollUnsafe() === undefined ? "it has not ended" : undefined)),
              "map"
            )
            const exit = fiber.pollUnsafe()!
            assert.isTrue(Exit.isSuccess(exit), `after ${step}: the map's fiber failed`)
            result = describeExit((exit as Exit.Success<Exit.Exit<Array<number>, unknown>>).value)
          }
        }
        assert.strictEqual(result, mapRun.result, `after ${step}: map result`)
        cov.add(`map → ${kindOf(mapRun.result)}${c.buffersize === undefined ? "" : " (buffersize)"}`)
        for (const [k, e] of mapRun.submitted.entries()) {
          const started = Gate.isSet(items[k].gate, Gate.STARTED)
          if (e.mayBeUnstarted) cov.add(`map item raced the end → ${started ? "started" : "never started"}`)
          model.resolve(e, started)
        }
        yield* until(itemFlags, "map items")
      })

    // on a failure, stop everything so that releasing the executor (which
    // waits for its tasks) returns and the failure is reported at once
    yield* Effect.addFinalizer((exit) =>
      Exit.isSuccess(exit)
        ? Effect.void
        : Effect.suspend(() => {
            for (const g of gates) Gate.set(g, Gate.RELEASE)
            const interruptMaps = Effect.forEach(
              Array.from(maps),
              (fiber) => Effect.ignore(Effect.timeout(Fiber.interrupt(fiber), timed ? 1 : 5_000)),
              { discard: true }
            )
            return Effect.andThen(
              interruptMaps,
              Effect.forEach(
                handles,
                (h) => Effect.ignore(Effect.timeout(Future.cancel(h.future), timed ? 1 : 5_000)),
                { discard: true }
              )
            )
          })
    )

    for (const [k, c] of commands.entries()) {
      step = `command ${k} ${JSON.stringify(c)}`
      trace(step)
      yield* run(c)
      yield* converge
      ex.settled?.(ctx)
    }

    // wind down: interrupt waiting submitters, release every gate, cancel what is still open
    step = "wind-down"
    trace(step)
    for (const w of waiting.splice(0)) {
      yield* Fiber.interrupt(w.fiber)
      model.interruptWaiter(w.waiter)
    }
    // one gate at a time, converging after each: in the model a crash is
    // handled at once, before the next gate opens, so a task still queued when
    // a crash breaks the executor fails; with the next gate opened at the same
    // moment, the real executor could hand that task to the freed worker
    // before the crashed thread's exit arrives
    for (const h of handles) {
      yield* release(h)
      yield* converge
    }
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
      if (h.cancelledTrue) cov.add("cancel returned true; the body never completed")
    }
    assert.isTrue(model.idle)
    for (const e of model.entries)
      cov.add(`final ${e.group === undefined ? "future" : "map item"} ${e.spec.kind} → ${kindOf(e.outcome)}`)
    if (shutdowns.length > 0) cov.add("shutdown({ wait: true }) returned during the sequence")
    if (model.crashes > 0) cov.add(model.broken ? "crashes broke the executor" : "crashes")

    // no slot leaked: as many gated tasks as the slots run at once all start
    step = "leak check"
    trace(step)
    if (!model.isShutdown && !model.broken) {
      const slots = ex.model.maxWorkers * (ex.model.concurrency ?? 1)
      const held: Array<Handle> = []
      for (let k = 0; k < slots; k++) held.push((yield* submit({ kind: "gate", n: k }))!)
      yield* converge
      for (const g of held) assert.isTrue(Gate.isSet(g.gate, Gate.STARTED), "every gated task started")
      for (const g of held) yield* release(g)
      yield* converge
    } else {
      assert.isUndefined(yield* submit({ kind: "value", n: 0 }), "submit is rejected")
    }
    yield* ex.final(ctx)
    assert.deepStrictEqual(escaped(), [], "no unhandled rejection or uncaught exception")
  })

/** fast-check parameters: `runs` sequences unless MODEL_RUNS says; MODEL_SEED / MODEL_PATH replay; MODEL_NO_SHRINK stops at the first failure. */
const parameters = (runs: number, runTimeoutMs: number) => {
  const seed = process.env.MODEL_SEED
  const path = process.env.MODEL_PATH
  return {
    numRuns: runs,
    /** a sequence that hangs fails (and shrinks) instead of hanging the file */
    timeout: runTimeoutMs,
    ...(seed === undefined || seed === "" ? {} : { seed: Number(seed) }),
    ...(path === undefined || path === "" ? {} : { path, endOnFailure: true }),
    /** MODEL_NO_SHRINK=1: report the first failing sequence as it is (a hang costs one run timeout, not one per shrink step) */
    ...(process.env.MODEL_NO_SHRINK === "1" ? { endOnFailure: true } : {})
  }
}

/** A suite's checker: runs one sequence of one configuration (for regression cases too). */
export type Check<C> = (config: C, commands: ReadonlyArray<Command>) => Promise<void>

/**
 * The model suite of one executor: one property per configuration,
 * MODEL_RUNS sequences (default `defaultRuns`) spread over them. Returns the
 * checker for regression cases.
 */
export const modelSuite = <C>(
  adapter: Adapter<C>,
  configurations: ReadonlyArray<Configuration<C>>,
  options: { readonly defaultRuns: number; readonly runTimeoutMs: number; readonly msPerRun: number },
  regressions: (check: Check<C>) => void
): void => {
  const errors = recorders()
  const cov = coverage()
  const check: Check<C> = (config, commands) =>
    Effect.runPromise(
      adapter.provide(
        Effect.gen(function* () {
          const ex = yield* adapter.acquire(config, commands)
          yield* runSequence(adapter, ex, commands, cov, errors.take)
        }).pipe(
          Effect.scoped,
          Effect.onError(() => adapter.discard)
        )
      )
    )
  // MODEL_RUNS_PER_CONFIGURATION (`npm run fuzz`: 10,000) wins over MODEL_RUNS, which is spread over the configurations
  const perConfiguration = process.env.MODEL_RUNS_PER_CONFIGURATION
  const total = Number(process.env.MODEL_RUNS ?? options.defaultRuns)
  const runs =
    perConfiguration !== undefined && perConfiguration !== ""
      ? Math.max(1, Number(perConfiguration))
      : Math.max(1, Math.ceil(total / configurations.length))
  const runTimeoutMs = Number(process.env.MODEL_RUN_TIMEOUT_MS ?? options.runTimeoutMs)
  const params = parameters(runs, runTimeoutMs)

  describe(`${adapter.name} model`, () => {
    errors.install()
    afterAll(async () => {
      await Effect.runPromise(adapter.close)
      errors.uninstall()
      cov.print(`${adapter.name} model coverage`)
    })
    for (const c of configurations) {
      const input = c.config.chain((config) =>
        commandsOf(adapter.generation(config)).map((commands) => ({ config, commands }))
      )
      prop.prop([input], params)(
        `model - ${c.name}: random command sequences match the reference model`,
        ({ commands, config }) => check(config, commands),
        Number(process.env.MODEL_TEST_TIMEOUT_MS ?? Math.max(60_000, runs * options.msPerRun))
      )
    }
    regressions(check)
    // MODEL_CASE=<file>: replays one counterexample as fast-check printed it ([{ config, commands }])
    const replay = process.env.MODEL_CASE
    if (replay !== undefined && replay !== "") {
      it(
        `replay ${replay}`,
        async () => {
          const text = readFileSync(replay, "utf8")
          const [{ commands, config }] = new Function(`return ${text}`)() as [{ config: C; commands: Array<Command> }]
          await check(config, commands)
        },
        runTimeoutMs
      )
    }
  })
}
