// The soak run: many tasks through each executor, with every outcome (succeed,
// fail with a typed error, die, interrupt themselves, time out, cancelled by
// the submitter while queued or while running; on the CPU executor also
// synchronous loops stopped by terminating their worker, and workers that
// crash), consumed in every way the library offers, under backpressure. Then
// it checks that every future settled exactly once, that the executor's
// counters add up, and it measures the heap after a forced GC at the start,
// the middle and the end.
//
//   producer ──submit (suspends while the executor's queue is full)──▶ executor
//     │  every future: addDoneCallback (counts settlements, exactly once)
//     │  cancelQueued: Future.cancel at once; cancelRunning, spin: a canceller fiber
//     │                cancels it once it has started
//     ├─▶ bounded queue ─▶ 16 fibers: Future.await
//     ├─▶ bounded queue ─▶ 16 fibers: Future.exit
//     ├─▶ batches of 32 ─▶ Future.wait (returnWhen rotating, every other round with a timeout)
//     ├─▶ batches of 32 ─▶ Future.asCompleted
//     ├── the done-callback alone
//     └─▶ blocks of 256 items ─▶ executor.map (CPU: chunksize 64)
//
// Every stage is bounded (the executor's maxQueue, the queues between stages,
// the batch sizes), so the memory in flight does not grow with the task count.
//
// Used by scripts/soak.ts (the full run, `npm run soak`) and by
// test/soak.smoke.test.ts (a few thousand tasks, so this file cannot rot).
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberSet from "effect/FiberSet"
import * as Queue from "effect/Queue"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { Stats } from "../../src/Executor.ts"
import { CancelledError, WorkerCrashedError } from "../../src/ExecutorError.ts"
import * as Future from "../../src/Future.ts"
import { SoakFailure } from "./tasks.ts"
import { cpuTarget, ioTarget, type MapBlock, Scenario, type Target } from "./targets.ts"

// ---------------------------------------------------------------------------
// scenarios (targets.ts) and outcomes
// ---------------------------------------------------------------------------

const scenarioNames = [
  "ok",
  "okAsync",
  "okSleep",
  "fail",
  "die",
  "interrupt",
  "timeout",
  "cancelQueued",
  "cancelRunning",
  "spin",
  "crash"
] as const

/** How a future ended, as its consumer saw it. 0: not seen. */
const Outcome = { none: 0, succeeded: 1, typed: 2, defect: 3, timeout: 4, cancelled: 5, crashed: 6, wrong: 7 } as const
const outcomeNames = ["none", "succeeded", "typed", "defect", "timeout", "cancelled", "crashed", "wrong"] as const

const expected: ReadonlyArray<number> = [
  Outcome.succeeded, // ok
  Outcome.succeeded, // okAsync
  Outcome.succeeded, // okSleep
  Outcome.typed, // fail
  Outcome.defect, // die
  Outcome.cancelled, // interrupt
  Outcome.timeout, // timeout
  Outcome.cancelled, // cancelQueued
  Outcome.cancelled, // cancelRunning
  Outcome.cancelled, // spin (its worker is terminated)
  Outcome.crashed // crash
]

const isCancelScenario = (s: number) =>
  s === Scenario.cancelQueued || s === Scenario.cancelRunning || s === Scenario.spin

/** Consumption methods of submitted futures. */
const Method = { await: 0, exit: 1, wait: 2, asCompleted: 3, callback: 4 } as const
const methodNames = ["await", "exit", "wait", "asCompleted", "callback"] as const

/** A well-mixed 32-bit hash: deterministic pseudo-random choices per sequence number. */
const mix = (x: number): number => {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d)
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b)
  return (x ^ (x >>> 16)) >>> 0
}

const mapBlockSize = 256
const batchSize = 32

// ---------------------------------------------------------------------------
// one phase: n tasks through one executor
// ---------------------------------------------------------------------------

/** A check and whether it held. */
export interface Check {
  readonly name: string
  readonly ok: boolean
  readonly detail: string
}

/** What one phase did. */
export interface PhaseReport {
  readonly tasks: number
  readonly futures: number
  readonly wallMs: number
  readonly tasksPerSecond: number
  readonly scenarios: Record<string, number>
  readonly methods: Record<string, number>
  readonly outcomes: Record<string, number>
  readonly cancelled: { readonly whileQueued: number; readonly whileRunning: number; readonly refused: number }
  readonly map: {
    readonly blocks: number
    readonly items: number
    readonly futures: number
    readonly failingBlocks: number
    readonly blocksHitByCrash: number
  }
  readonly collateral: number
  readonly lostWorkers: number
  /** The executor's counters over this phase (differences). */
  readonly stats: Stats
  readonly extra: Record<string, number>
  readonly checks: ReadonlyArray<Check>
}

interface Env {
  progress: number
  readonly log: (line: string) => void
}

const statsDiff = (after: Stats, before: Stats): Stats => ({
  maxWorkers: after.maxWorkers,
  workers: after.workers,
  running: after.running,
  prefetched: after.prefetched,
  queued: after.queued,
  submitted: after.submitted - before.submitted,
  succeeded: after.succeeded - before.succeeded,
  failed: after.failed - before.failed,
  cancelled: after.cancelled - before.cancelled
})

const addsUp = (s: Stats) => s.submitted === s.succeeded + s.failed + s.cancelled + s.running + s.prefetched + s.queued

const runPhase = (
  t: Target,
  n: number,
  specials: boolean,
  env: Env,
  onHalf: (() => void) | undefined
): Effect.Effect<PhaseReport> =>
  Effect.scoped(
    Effect.gen(function* () {
      yield* t.beginPhase
      const statsBefore = yield* t.stats
      const lostBefore = yield* t.lostWorkers
      const extraBefore = yield* t.extra

      // per sequence number: what it is, how often it settled, how it was seen
      const scenarioOf = new Uint8Array(n).fill(255) // 255: an item of a map block
      const settled = new Uint8Array(n)
      const observed = new Uint8Array(n)
      const cancelResult = new Uint8Array(n) // 1 cancel returned true, 2 false
      let futures = 0
      let settledCount = 0
      let observedCount = 0
      let duplicateObservations = 0
      let notDoneInCallback = 0
      let waitViolations = 0
      let asCompletedViolations = 0
      let whileQueued = 0
      let whileRunning = 0
      // cancelRunning and spin tasks that were not running when their canceller acted (the check expects none)
      let notRunningAtCancel = 0
      const methods = [0, 0, 0, 0, 0]
      const map = { blocks: 0, items: 0, futures: 0, succeeded: 0, failed: 0, failingBlocks: 0, hit: 0, hitFutures: 0 }
      const mapErrors: Array<string> = []
      const wrong: Array<string> = []
      const statsSnapshots: Array<string> = []

      const record = (seq: number, exit: Exit.Exit<number, unknown>) => {
        env.progress++
        if (observed[seq] !== Outcome.none) {
          duplicateObservations++
          return
        }
        const outcome = classify(seq, exit)
        observed[seq] = outcome
        observedCount++
        if (outcome === Outcome.wrong && wrong.length < 10) wrong.push(`${seq}: ${exitString(exit)}`)
      }

      const onDone =
        (seq: number, consume: boolean) =>
        (future: Future.Future<number, unknown>): Effect.Effect<void> =>
          Effect.map(Future.exit(future), (exit) => {
            env.progress++
            const state = Future.stateUnsafe(future)
            if (state === "pending" || state === "running") notDoneInCallback++
            if (settled[seq] < 255) settled[seq]++
            settledCount++
            if (consume) record(seq, exit)
          })

      // -- consumers ----------------------------------------------------------
      const fibers = yield* FiberSet.make<unknown, never>()
      const cancellers = yield* FiberSet.make<unknown, never>()

      interface Item {
        readonly future: Future.Future<number, unknown>
        readonly seq: number
      }
      interface Batch {
        readonly futures: Array<Future.Future<number, unknown>>
        readonly seqs: Array<number>
        readonly n: number
      }

      const consumeAll = <A>(queue: Queue.Queue<A, Cause.Done>, f: (a: A) => Effect.Effect<void>) =>
        Effect.whileLoop({
          while: () => true,
          body: () => Effect.flatMap(Queue.take(queue), f),
          step: () => {}
        }).pipe(Effect.catchIf(Cause.isDone, () => Effect.void))

      const awaitQueue = yield* Queue.bounded<Item, Cause.Done>(256)
      const exitQueue = yield* Queue.bounded<Item, Cause.Done>(256)
      const waitQueue = yield* Queue.bounded<Batch, Cause.Done>(8)
      const asCompletedQueue = yield* Queue.bounded<Batch, Cause.Done>(8)
      const mapQueue = yield* Queue.bounded<MapBlock, Cause.Done>(2)

      for (let i = 0; i < 16; i++) {
        yield* FiberSet.run(
          fibers,
          consumeAll(awaitQueue, ({ future, seq }) =>
            Effect.map(Effect.exit(Future.await(future)), (exit) => record(seq, exit))
          )
        )
        yield* FiberSet.run(
          fibers,
          consumeAll(exitQueue, ({ future, seq }) => Effect.map(Future.exit(future), (exit) => record(seq, exit)))
        )
      }

      const returnWhens = ["FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED"] as const
      const consumeWait = (batch: Batch) =>
        Effect.gen(function* () {
          const seqOf = new Map(batch.futures.map((f, i) => [f, batch.seqs[i]] as const))
          let remaining = batch.futures
          for (let round = 0; remaining.length > 0; round++) {
            const returnWhen = returnWhens[(batch.n + round) % 3]
            const timed = round % 2 === 1
            const { done, notDone } = yield* Future.wait(remaining, timed ? { returnWhen, timeout: 5 } : { returnWhen })
            if (done.size + notDone.size !== remaining.length) waitViolations++
            if (!timed) {
              const failed = Array.from(done).some((f) => Future.stateUnsafe(f) === "failed")
              if (returnWhen === "ALL_COMPLETED" && notDone.size > 0) waitViolations++
              if (returnWhen === "FIRST_COMPLETED" && done.size === 0) waitViolations++
              if (returnWhen === "FIRST_EXCEPTION" && notDone.size > 0 && !failed) waitViolations++
            }
            for (const f of done) {
              if (!isDone(f)) waitViolations++
              record(seqOf.get(f)!, yield* Future.exit(f))
            }
            remaining = Array.from(notDone)
          }
        })
      const consumeAsCompleted = (batch: Batch) =>
        Effect.suspend(() => {
          const seqOf = new Map(batch.futures.map((f, i) => [f, batch.seqs[i]] as const))
          let emitted = 0
          return Future.asCompleted(batch.futures).pipe(
            Stream.runForEach((f) =>
              Effect.map(Future.exit(f), (exit) => {
                emitted++
                record(seqOf.get(f)!, exit)
              })
            ),
            Effect.catchCause((cause) => Effect.sync(() => void wrong.push(`asCompleted: ${Cause.pretty(cause)}`))),
            Effect.andThen(
              Effect.sync(() => {
                if (emitted !== batch.futures.length) asCompletedViolations++
              })
            )
          )
        })
      for (let i = 0; i < 4; i++) {
        yield* FiberSet.run(fibers, consumeAll(waitQueue, consumeWait))
        yield* FiberSet.run(fibers, consumeAll(asCompletedQueue, consumeAsCompleted))
      }

      const consumeMap = (block: MapBlock) =>
        Effect.gen(function* () {
          const shape = t.mapShape(block)
          const values: Array<number> = []
          const exit = yield* t.map(block).pipe(
            Stream.runForEach((v) =>
              Effect.sync(() => {
                values.push(v)
                env.progress++
              })
            ),
            Effect.exit
          )
          map.futures += shape.futures
          const crashed =
            Exit.isFailure(exit) &&
            Cause.findError(exit.cause)._tag === "Success" &&
            (Cause.findError(exit.cause) as any).success instanceof WorkerCrashedError
          if (crashed) {
            // a worker died under one of its chunks: the stream failed, the rest was cancelled
            map.hit++
            map.hitFutures += shape.futures
            return
          }
          let problem: string | undefined
          if (values.length !== shape.emitted) problem = `emitted ${values.length} of ${shape.emitted}`
          else if (values.some((v, i) => v !== block.start + i)) problem = "values out of order or wrong"
          else if (block.failLast) {
            const error = Exit.isFailure(exit) ? Cause.findError(exit.cause) : undefined
            const last = block.start + block.size - 1
            if (!(error?._tag === "Success" && error.success instanceof SoakFailure && error.success.seq === last))
              problem = `expected SoakFailure(${last}), got ${exitString(exit)}`
          } else if (Exit.isFailure(exit)) problem = `failed: ${exitString(exit)}`
          if (problem !== undefined) {
            if (mapErrors.length < 10) mapErrors.push(`block at ${block.start}: ${problem}`)
            return
          }
          map.succeeded += block.failLast ? shape.futures - 1 : shape.futures
          map.failed += block.failLast ? 1 : 0
        })
      for (let i = 0; i < 2; i++) yield* FiberSet.run(fibers, consumeAll(mapQueue, consumeMap))

      // -- the producer -------------------------------------------------------
      const cumulative = t.weights.reduce<Array<readonly [Scenario, number]>>((acc, [s, w]) => {
        acc.push([s, (acc.length === 0 ? 0 : acc[acc.length - 1][1]) + w])
        return acc
      }, [])
      const total = cumulative[cumulative.length - 1][1]
      const killEvery = Math.min(20_000, n)
      const crashEvery = Math.min(100_000, n)
      const scenarioAt = (seq: number): Scenario => {
        if (specials && t.specials) {
          if (seq % killEvery === killEvery >> 1) return Scenario.spin
          if (seq % crashEvery === Math.floor(crashEvery / 3)) return Scenario.crash
        }
        const r = mix(seq * 4 + 1) % total
        for (const [s, upTo] of cumulative) if (r < upTo) return s
        return Scenario.ok
      }
      const isMapBlock = (start: number): boolean => {
        if (start + mapBlockSize > n || (start / mapBlockSize) % t.mapEvery !== 1) return false
        if (specials && t.specials) {
          // keep spin and crash tasks out of map blocks
          for (let seq = start; seq < start + mapBlockSize; seq++) {
            if (seq % killEvery === killEvery >> 1 || seq % crashEvery === Math.floor(crashEvery / 3)) return false
          }
        }
        return true
      }

      const startedAt = performance.now()
      const half = n >> 1
      let halfDone = onHalf === undefined
      let nextSnapshot = 0
      let waitBatch: Batch = { futures: [], seqs: [], n: 0 }
      let asCompletedBatch: Batch = { futures: [], seqs: [], n: 0 }
      let batches = 0
      const snapshot = (label: string) =>
        Effect.map(t.stats, (s) => {
          if (!addsUp(s)) statsSnapshots.push(`${label}: ${JSON.stringify(s)}`)
        })

      let seq = 0
      while (seq < n) {
        if (!halfDone && seq >= half) {
          halfDone = true
          onHalf!()
        }
        if (seq >= nextSnapshot) {
          nextSnapshot += Math.max(1, Math.floor(n / 10))
          yield* snapshot(`at ${seq}`)
        }
        if (seq % mapBlockSize === 0 && isMapBlock(seq)) {
          // the q-th map block: every other one ends with a failing item, two in three use buffersize
          const q = Math.floor(seq / mapBlockSize / t.mapEvery)
          const failLast = q % 2 === 0
          yield* Queue.offer(mapQueue, { start: seq, size: mapBlockSize, failLast, buffered: q % 3 !== 1 })
          map.blocks++
          map.items += mapBlockSize
          if (failLast) map.failingBlocks++
          seq += mapBlockSize
          continue
        }
        const scenario = scenarioAt(seq)
        scenarioOf[seq] = scenario
        const { future, started } = yield* Effect.orDie(t.submit(scenario, seq))
        futures++
        const method = mix(seq * 4 + 3) % 5
        methods[method]++
        yield* Future.addDoneCallback(future, onDone(seq, method === Method.callback))
        if (scenario === Scenario.cancelQueued) {
          // the submitter cancels at once: usually still queued (the pool is saturated)
          if (Future.stateUnsafe(future) === "pending") whileQueued++
          else whileRunning++
          cancelResult[seq] = (yield* Future.cancel(future)) ? 1 : 2
        } else if (started !== undefined) {
          const at = seq
          yield* FiberSet.run(
            cancellers,
            Effect.andThen(
              started,
              Effect.suspend(() => {
                const state = Future.stateUnsafe(future)
                if (state === "running") whileRunning++
                else if (state === "pending") notRunningAtCancel++
                return Effect.map(Future.cancel(future), (ok) => {
                  cancelResult[at] = ok ? 1 : 2
                })
              })
            )
          )
        }
        switch (method) {
          case Method.await:
            yield* Queue.offer(awaitQueue, { future, seq })
            break
          case Method.exit:
            yield* Queue.offer(exitQueue, { future, seq })
            break
          case Method.wait:
            waitBatch.futures.push(future)
            waitBatch.seqs.push(seq)
            if (waitBatch.futures.length === batchSize) {
              yield* Queue.offer(waitQueue, waitBatch)
              waitBatch = { futures: [], seqs: [], n: ++batches }
            }
            break
          case Method.asCompleted:
            asCompletedBatch.futures.push(future)
            asCompletedBatch.seqs.push(seq)
            if (asCompletedBatch.futures.length === batchSize) {
              yield* Queue.offer(asCompletedQueue, asCompletedBatch)
              asCompletedBatch = { futures: [], seqs: [], n: ++batches }
            }
            break
        }
        seq++
      }
      if (waitBatch.futures.length > 0) yield* Queue.offer(waitQueue, waitBatch)
      if (asCompletedBatch.futures.length > 0) yield* Queue.offer(asCompletedQueue, asCompletedBatch)
      for (const q of [awaitQueue, exitQueue, waitQueue, asCompletedQueue, mapQueue] as const) {
        yield* Queue.end(q as Queue.Queue<unknown, Cause.Done>)
      }
      yield* FiberSet.awaitEmpty(fibers)
      yield* FiberSet.awaitEmpty(cancellers)
      // done-callbacks run in fibers of their own: give the last ones a moment
      for (let i = 0; i < 1000 && settledCount < futures; i++) yield* Effect.sleep(5)
      const wallMs = performance.now() - startedAt

      // -- checks -------------------------------------------------------------
      const stats = statsDiff(yield* t.stats, statsBefore)
      const lostWorkers = (yield* t.lostWorkers) - lostBefore
      const extraAfter = yield* t.extra
      const extra: Record<string, number> = {}
      for (const key of Object.keys(extraAfter)) extra[key] = extraAfter[key] - (extraBefore[key] ?? 0)

      const outcomes: Record<string, number> = {}
      for (const name of outcomeNames.slice(1)) outcomes[name] = 0
      const scenarios: Record<string, number> = {}
      const mismatches: Array<string> = []
      let collateral = 0
      let settledTwice = 0
      let neverSettled = 0
      let unobserved = 0
      let refused = 0
      let ours = { succeeded: 0, failed: 0, cancelled: 0 }
      for (let i = 0; i < n; i++) {
        const s = scenarioOf[i]
        if (s === 255) continue
        scenarios[scenarioNames[s]] = (scenarios[scenarioNames[s]] ?? 0) + 1
        if (settled[i] === 0) neverSettled++
        else if (settled[i] > 1) settledTwice++
        const o = observed[i]
        if (o === Outcome.none) {
          unobserved++
          continue
        }
        outcomes[outcomeNames[o]]++
        if (o === Outcome.succeeded) ours.succeeded++
        else if (o === Outcome.cancelled) ours.cancelled++
        else ours.failed++
        if (cancelResult[i] === 2) refused++
        let fine = o === expected[s]
        if (fine && isCancelScenario(s) && cancelResult[i] !== 1) fine = false // cancelled, but cancel said false
        if (!fine && o === Outcome.crashed && t.collateralPerLostWorker > 0 && cancelResult[i] !== 1) {
          // its worker died for another task (a crash, or terminated to stop a task sent ahead of it)
          collateral++
          fine = true
        }
        if (!fine && mismatches.length < 10) {
          mismatches.push(
            `${i} (${scenarioNames[s]}): ${outcomeNames[o]}, cancel ${["-", "true", "false"][cancelResult[i]]}`
          )
        }
      }
      // map futures whose outcome is not known (a crash failed their stream): each counts once in the total
      ours = {
        succeeded: ours.succeeded + map.succeeded,
        failed: ours.failed + map.failed,
        cancelled: ours.cancelled
      }
      const slack = map.hitFutures
      const within = (actual: number, known: number) => actual >= known && actual <= known + slack
      // a worker holds at most 1 + prefetch tasks: when it dies, at most prefetch of them die for another's sake
      const collateralBound = t.collateralPerLostWorker * lostWorkers

      const checks: Array<Check> = [
        check(
          "every future settled exactly once (done-callbacks)",
          settledCount === futures && neverSettled === 0 && settledTwice === 0 && notDoneInCallback === 0,
          `${settledCount} settlements for ${futures} futures; never settled ${neverSettled}, more than once ${settledTwice}, callback before done ${notDoneInCallback}`
        ),
        check(
          "every future observed exactly once by its consumer",
          observedCount === futures && unobserved === 0 && duplicateObservations === 0,
          `${observedCount} observed of ${futures}; unobserved ${unobserved}, twice ${duplicateObservations}`
        ),
        check(
          "every outcome is the one its scenario asks for",
          mismatches.length === 0 && wrong.length === 0,
          [...mismatches, ...wrong].join("; ") || "all as expected"
        ),
        check(
          "collateral crash failures bounded by prefetch × lost workers",
          collateral + map.hit <= collateralBound,
          `${collateral} futures + ${map.hit} map chunks for ${lostWorkers} lost workers (bound ${collateralBound})`
        ),
        check(
          "cancelRunning and spin tasks were running when cancelled",
          notRunningAtCancel === 0,
          `${notRunningAtCancel} were still pending`
        ),
        check("Future.wait contract", waitViolations === 0, `${waitViolations} violations`),
        check(
          "Future.asCompleted emits each future once",
          asCompletedViolations === 0,
          `${asCompletedViolations} violations`
        ),
        check(
          "executor.map blocks",
          mapErrors.length === 0,
          mapErrors.join("; ") || `${map.blocks} blocks as expected`
        ),
        check(
          "stats add up at every snapshot",
          statsSnapshots.length === 0 && addsUp(stats),
          statsSnapshots.join("; ") || "submitted = succeeded + failed + cancelled + running + prefetched + queued"
        ),
        check(
          "nothing running or queued at the end",
          stats.running === 0 && stats.queued === 0,
          `running ${stats.running}, queued ${stats.queued}`
        ),
        check(
          "stats match the futures",
          stats.submitted === futures + map.futures &&
            within(stats.succeeded, ours.succeeded) &&
            within(stats.failed, ours.failed) &&
            within(stats.cancelled, ours.cancelled) &&
            stats.succeeded + stats.failed + stats.cancelled === futures + map.futures,
          `stats ${JSON.stringify({ submitted: stats.submitted, succeeded: stats.succeeded, failed: stats.failed, cancelled: stats.cancelled })}; ` +
            `ours ${JSON.stringify({ submitted: futures + map.futures, ...ours })}${slack > 0 ? `, ${slack} map futures of unknown outcome` : ""}`
        )
      ]

      return {
        tasks: n,
        futures,
        wallMs,
        tasksPerSecond: n / (wallMs / 1000),
        scenarios,
        methods: Object.fromEntries(methodNames.map((name, i) => [name, methods[i]])),
        outcomes,
        cancelled: { whileQueued, whileRunning, refused },
        map: {
          blocks: map.blocks,
          items: map.items,
          futures: map.futures,
          failingBlocks: map.failingBlocks,
          blocksHitByCrash: map.hit
        },
        collateral,
        lostWorkers,
        stats,
        extra,
        checks
      } satisfies PhaseReport
    })
  )

const isDone = (f: Future.Future<unknown, unknown>) => {
  const state = Future.stateUnsafe(f)
  return state !== "pending" && state !== "running"
}

const check = (name: string, ok: boolean, detail: string): Check => ({ name, ok, detail })

const classify = (seq: number, exit: Exit.Exit<number, unknown>): number => {
  if (Exit.isSuccess(exit)) return exit.value === seq ? Outcome.succeeded : Outcome.wrong
  const error = Cause.findError(exit.cause)
  if (error._tag === "Success") {
    const e = error.success
    if (e instanceof CancelledError) return Outcome.cancelled
    if (e instanceof SoakFailure) return e.seq === seq ? Outcome.typed : Outcome.wrong
    if (Cause.isTimeoutError(e)) return Outcome.timeout
    if (e instanceof WorkerCrashedError) return Outcome.crashed
    return Outcome.wrong
  }
  const defect = Cause.findDefect(exit.cause)
  if (defect._tag === "Success" && defect.success instanceof Error && defect.success.message === `die ${seq}`) {
    return Outcome.defect
  }
  return Outcome.wrong
}

const exitString = (exit: Exit.Exit<unknown, unknown>) =>
  Exit.isSuccess(exit) ? `success ${String(exit.value)}` : Cause.pretty(exit.cause).split("\n")[0]

// ---------------------------------------------------------------------------
// a whole executor: warm-up, measured phase, heap at start, middle and end
// ---------------------------------------------------------------------------

/** Heap figures, in bytes, each after a forced full GC. */
export interface Heap {
  readonly start: number
  readonly middle: number
  readonly end: number
  /** After the executor's scope closed. */
  readonly afterRelease: number
}

/** What one executor did. */
export interface ExecutorReport {
  readonly executor: "io" | "cpu"
  readonly config: Record<string, unknown>
  readonly warmup: { readonly tasks: number; readonly wallMs: number; readonly checksFailed: number }
  readonly phase: PhaseReport
  /** undefined when no GC could be forced (then no heap check is made). */
  readonly heap: Heap | undefined
  readonly heapBound: number | undefined
  readonly checks: ReadonlyArray<Check>
  readonly ok: boolean
}

/** Options of {@link soak}. */
export interface SoakOptions {
  /** Tasks through each executor. */
  readonly tasks: number
  readonly only?: "io" | "cpu" | undefined
  /** A full GC (node --expose-gc's `gc`); without it no heap figures are measured. */
  readonly gc?: (() => void) | undefined
  readonly log?: ((line: string) => void) | undefined
  /** Called when nothing progressed for `hangAfterMs`; the run cannot end on its own then. Default: print and exit(1). */
  readonly onHang?: ((diagnostics: string) => void) | undefined
  readonly hangAfterMs?: number | undefined
}

/**
 * The heap may grow by this much from start to end: 2 MB plus 5% of the
 * starting heap (about 3 MB for this run's ~21 MB).
 *
 * What may legitimately differ between the two measurements does not grow
 * with the task count: code compiled or re-optimised late (V8 keeps
 * bytecode, feedback and optimised code on the heap), effect's lazily filled
 * caches, and the high-water capacity of the arrays behind the bounded
 * queues. Measured with `--no-flush-bytecode` (see scripts/soak.ts), it was
 * 0.2–0.5 MB for 20k to 1M tasks: the bound leaves about 6× that. A leak
 * grows with the task count: one pointer kept per future (a number pushed
 * on an array on every settlement, tried on purpose) grew the heap by 6.8 MB
 * over the 750k futures of a 1M-task run, twice the bound; anything that
 * retains a future, a fiber or an Exit per task is far larger. The 5% leaves
 * room for a bigger program (a larger starting heap has more code to
 * re-optimise).
 */
export const heapBound = (start: number): number => 2 * 1024 * 1024 + 0.05 * start

/** Runs the soak through each executor in turn (in one process). */
export const soak = (options: SoakOptions): Effect.Effect<ReadonlyArray<ExecutorReport>> =>
  Effect.gen(function* () {
    const log = options.log ?? (() => {})
    const env: Env = { progress: 0, log }
    const hangAfterMs = options.hangAfterMs ?? 60_000
    const onHang =
      options.onHang ??
      ((diagnostics: string) => {
        console.error(`soak: no progress for ${hangAfterMs} ms: a hang.\n${diagnostics}`)
        process.exit(1)
      })
    const targets: Array<readonly ["io" | "cpu", Effect.Effect<Target, unknown, Scope.Scope>]> = [
      ["io", ioTarget],
      ["cpu", cpuTarget]
    ]
    const reports: Array<ExecutorReport> = []
    for (const [name, make] of targets) {
      if (options.only !== undefined && options.only !== name) continue
      reports.push(yield* runExecutor(name, make, options, env, hangAfterMs, onHang))
    }
    return reports
  })

const runExecutor = (
  name: "io" | "cpu",
  make: Effect.Effect<Target, unknown, Scope.Scope>,
  options: SoakOptions,
  env: Env,
  hangAfterMs: number,
  onHang: (diagnostics: string) => void
): Effect.Effect<ExecutorReport> =>
  Effect.gen(function* () {
    const log = env.log
    const measure = (): number => {
      if (options.gc === undefined) return Number.NaN
      options.gc()
      options.gc()
      return process.memoryUsage().heapUsed
    }
    const scope = yield* Scope.make()
    const target = yield* Effect.orDie(Scope.provide(make, scope))

    // watchdog: a hang (an unsettled future, a lost wake-up) stops all progress
    let lastProgress = env.progress
    let lastChange = performance.now()
    let current = "warm-up"
    const watchdog = yield* Effect.forkDetach(
      Effect.forever(
        Effect.andThen(
          Effect.sleep(1_000),
          Effect.flatMap(target.stats, (stats) =>
            Effect.sync(() => {
              if (env.progress !== lastProgress) {
                lastProgress = env.progress
                lastChange = performance.now()
              } else if (performance.now() - lastChange > hangAfterMs) {
                onHang(`${name} ${current}: stats ${JSON.stringify(stats)}`)
                lastChange = performance.now()
              }
            })
          )
        )
      )
    )

    // warm-up: the same code paths on a smaller scale (no worker kills or
    // crashes), so that code compiled and caches filled on first use are in
    // the starting heap, not counted as growth
    const warmTasks = Math.min(20_000, Math.max(1_000, Math.floor(options.tasks / 50)))
    log(`${name}: warm-up, ${warmTasks} tasks`)
    const warm = yield* runPhase(target, warmTasks, false, env, undefined)
    const warmFailed = warm.checks.filter((c) => !c.ok)
    for (const c of warmFailed) log(`${name}: warm-up check failed: ${c.name}: ${c.detail}`)

    current = "measured run"
    const start = measure()
    let middle = Number.NaN
    log(`${name}: ${options.tasks} tasks${options.gc === undefined ? "" : `, heap at start ${mb(start)}`}`)
    const phase = yield* runPhase(target, options.tasks, true, env, () => {
      middle = measure()
      if (options.gc !== undefined) log(`${name}: half way, heap ${mb(middle)}`)
    })
    const end = measure()
    yield* Scope.close(scope, Exit.void)
    const afterRelease = measure()
    watchdog.interruptUnsafe()

    const heap = options.gc === undefined ? undefined : { start, middle, end, afterRelease }
    const bound = heap === undefined ? undefined : heapBound(heap.start)
    const checks: Array<Check> = [
      check(
        "warm-up checks",
        warmFailed.length === 0,
        warmFailed.map((c) => `${c.name}: ${c.detail}`).join("; ") || "all held"
      ),
      ...phase.checks
    ]
    if (heap !== undefined && bound !== undefined) {
      checks.push(
        check(
          "heap at end within start + 2 MB + 5%",
          heap.end - heap.start <= bound,
          `start ${mb(heap.start)}, end ${mb(heap.end)}: ${signedMb(heap.end - heap.start)} (bound ${mb(bound)})`
        )
      )
    }
    return {
      executor: name,
      config: target.config,
      warmup: { tasks: warmTasks, wallMs: warm.wallMs, checksFailed: warmFailed.length },
      phase,
      heap,
      heapBound: bound,
      checks,
      ok: checks.every((c) => c.ok)
    } satisfies ExecutorReport
  })

/** Megabytes with one decimal. */
export const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`
const signedMb = (bytes: number): string => `${bytes >= 0 ? "+" : ""}${mb(bytes)}`
