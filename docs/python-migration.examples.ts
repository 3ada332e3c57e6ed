// The TypeScript snippets of docs/python-migration.md, type-checked by
// `npx tsc --noEmit -p docs` (docs/tsconfig.json maps "effect-futures" to src/).
// Each `#region` is copied verbatim into the guide; test/docs/api-docs.test.ts
// fails when a snippet of the guide is not found here, so the two cannot drift.
// Type annotations on the results are part of the check: they state what the
// guide claims each expression's type is.

// #region setup
import { Cause, Context, Deferred, Effect, Exit, Layer, Schema, Stream } from "effect"
import { CpuExecutor, CpuWorker, ExecutorError, Future, IoExecutor, Task } from "effect-futures"

class NotFound extends Schema.TaggedError<NotFound>()("NotFound", { id: Schema.Number }) {}
interface User {
  readonly id: number
  readonly name: string
}
// an I/O call that may fail with NotFound (Python: `def fetch_user(id): ...`)
declare const fetchUser: (id: number) => Effect.Effect<User, NotFound>
// futures obtained from `submit`
declare const future: Future.Future<User, NotFound>
declare const futures: ReadonlyArray<Future.Future<User, NotFound>>
// #endregion

// #region with-block
const program = Effect.gen(function* () {
  const executor = yield* IoExecutor.IoExecutor
  const future = yield* executor.submit(fetchUser(1))
  return yield* Future.await(future)
})
// the layer's release is `shutdown({ wait: true })`, as `__exit__` is
const main = program.pipe(Effect.provide(IoExecutor.layer({ maxWorkers: 8, name: "users" })))

// or an executor that lives as long as one scope, like a `with` block inside a function
const block = Effect.scoped(
  Effect.gen(function* () {
    const executor = yield* IoExecutor.make({ maxWorkers: 8, name: "users" })
    return yield* Future.await(yield* executor.submit(fetchUser(1)))
  })
)
// #endregion

// #region submit
const submitted = Effect.gen(function* () {
  const executor = yield* IoExecutor.IoExecutor
  const future: Future.Future<User, NotFound | ExecutorError.BrokenExecutorError> = yield* executor.submit(fetchUser(1))
  // a running-time limit (from when the task starts) that Python has no equivalent for
  const bounded: Future.Future<User, NotFound | ExecutorError.BrokenExecutorError | Cause.TimeoutError> =
    yield* executor.submit(fetchUser(2), { timeout: "5 seconds" })
  return [future, bounded] as const
})
// #endregion

// #region result
const user: Effect.Effect<User | undefined> = Future.await(future).pipe(
  Effect.timeout("5 seconds"), // stops the wait, never the task
  Effect.catchTags({
    TimeoutError: () => Effect.succeed(undefined),
    CancelledError: () => Effect.succeed(undefined),
    NotFound: () => Effect.succeed(undefined)
  })
)
// #endregion

// #region exception
const outcome: Effect.Effect<
  Exit.Exit<User, NotFound | ExecutorError.CancelledError>,
  Cause.TimeoutError
> = Future.exit(future).pipe(Effect.timeout("5 seconds"))
// Python's `exception()`: the error (or defect), or undefined on success
const exception: Effect.Effect<unknown, Cause.TimeoutError> = Effect.map(outcome, (exit) =>
  Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
)
// #endregion

// #region cancel
const cancelled: Effect.Effect<boolean> = Future.cancel(future) // also stops a running task
// #endregion

// #region state
const flags: Effect.Effect<[boolean, boolean, boolean]> = Effect.all([
  Future.isCancelled(future),
  Future.isRunning(future),
  Future.isDone(future)
])
const state: Future.State = Future.stateUnsafe(future) // "pending" | "running" | "succeeded" | "failed" | "cancelled"
// #endregion

// #region callback
const registered: Effect.Effect<void> = Future.addDoneCallback(future, (f) =>
  Effect.flatMap(Future.exit(f), (exit) => Effect.log(`future ${f.id} done`, exit))
)
// #endregion

// #region map
declare const ids: Iterable<number>
const printed = Effect.gen(function* () {
  const executor = yield* IoExecutor.IoExecutor
  yield* executor
    .map(ids, fetchUser, { timeout: "30 seconds", buffersize: 100 })
    .pipe(Stream.runForEach((user) => Effect.log(user.name)))
})

// several iterables: zip them first (Python's zip stops at the shortest)
declare const bases: ReadonlyArray<number>
declare const exponents: ReadonlyArray<number>
const powers = Effect.gen(function* () {
  const executor = yield* IoExecutor.IoExecutor
  const pairs = Array.from({ length: Math.min(bases.length, exponents.length) }, (_, i) => [bases[i], exponents[i]])
  return yield* executor.map(pairs, ([b, e]) => Effect.succeed(b ** e)).pipe(Stream.runCollect)
})
// #endregion

// #region as-completed
const each: Effect.Effect<void, NotFound | ExecutorError.CancelledError | Cause.TimeoutError> = Future.asCompleted(
  futures,
  { timeout: "10 seconds" }
).pipe(
  Stream.mapEffect(Future.await),
  Stream.runForEach((user) => Effect.log(user.name))
)
// #endregion

// #region wait
const waited = Effect.gen(function* () {
  const { done, notDone } = yield* Future.wait(futures, { timeout: "5 seconds", returnWhen: "FIRST_EXCEPTION" })
  yield* Future.cancelAll(notDone) // queued ones first, so none starts in a freed slot
  return done.size
})
// #endregion

// #region shutdown
const stopped = Effect.gen(function* () {
  const executor = yield* IoExecutor.IoExecutor
  yield* executor.shutdown({ wait: false, cancelFutures: true })
  const refused: ExecutorError.SubmitError = yield* Effect.flip(executor.submit(Effect.void))
  return refused._tag // "ExecutorShutdownError"
})
// #endregion

// #region process-tasks
// tasks.ts: imported by the parent and by the worker entry
class RangeTooLarge extends Schema.TaggedError<RangeTooLarge>()("RangeTooLarge", { size: Schema.Number }) {}
const CountPrimes = Task.make("CountPrimes", {
  payload: Schema.Struct({ from: Schema.Number, to: Schema.Number }),
  success: Schema.Number,
  error: RangeTooLarge
})
declare const countPrimes: (from: number, to: number) => number
// #endregion

// #region process-worker
// worker.ts: the worker entry. Import modules directly ("effect/Effect",
// "effect-futures/CpuWorker"), not the barrels: every worker loads its imports.
CpuWorker.serve([
  CpuWorker.handler(CountPrimes, ({ from, to }) =>
    to - from > 10_000_000
      ? Effect.fail(new RangeTooLarge({ size: to - from }))
      : Effect.sync(() => countPrimes(from, to))
  )
])
// #endregion

// #region process-main
// main.ts
declare const ranges: ReadonlyArray<{ readonly from: number; readonly to: number }>
const total = Effect.gen(function* () {
  const cpu = yield* CpuExecutor.CpuExecutor
  const one: Future.Future<number, RangeTooLarge | CpuExecutor.TaskError> = yield* cpu.submit(CountPrimes, {
    from: 0,
    to: 1000
  })
  yield* Future.await(one)
  return yield* cpu.map(CountPrimes, ranges, { chunksize: 8 }).pipe(
    Stream.runFold(
      () => 0,
      (sum, n) => sum + n
    )
  )
}).pipe(Effect.provide(CpuExecutor.layer({ worker: new URL("./worker.ts", import.meta.url), maxWorkers: 4 })))
// #endregion

// #region initializer
// worker.ts: `initialize` runs once per worker, before its first task, with `workerData`
const Lookup = Task.make("Lookup", { payload: Schema.String, success: Schema.Boolean })
let dictionary: ReadonlySet<string> = new Set()
CpuWorker.serve([CpuWorker.handler(Lookup, (word) => Effect.succeed(dictionary.has(word)))], {
  initialize: (workerData) =>
    Effect.sync(() => {
      dictionary = new Set(workerData as ReadonlyArray<string>)
    })
})

// main.ts: `workerData` is Python's `initargs` (one structured-cloneable value)
const cpuLayer = CpuExecutor.layer({
  worker: new URL("./worker.ts", import.meta.url),
  workerData: ["apple", "pear"]
})

// the I/O executor's initializer: an Effect run once per slot before its first task
declare const openConnection: Effect.Effect<void>
const ioLayer = IoExecutor.layer({ maxWorkers: 8, initializer: openConnection })
// #endregion

// #region max-tasks
const recycling = CpuExecutor.layer({ worker: new URL("./worker.ts", import.meta.url), maxTasksPerWorker: 100 })
// #endregion

// #region mp-context
// no start methods: every worker is a fresh thread that imports the entry module
const tuned = CpuExecutor.layer({
  worker: new URL("./worker.ts", import.meta.url),
  execArgv: ["--enable-source-maps"],
  env: { LOG_LEVEL: "debug" },
  resourceLimits: { maxOldGenerationSizeMb: 256 }
})
// #endregion

// #region broken
const guarded = Effect.gen(function* () {
  const cpu = yield* CpuExecutor.CpuExecutor
  return yield* Future.await(yield* cpu.submit(CountPrimes, { from: 0, to: 100 }))
}).pipe(
  Effect.catchTag("BrokenExecutorError", (error) => Effect.as(Effect.logError(error.reason, error.cause), -1)),
  Effect.catchTag("WorkerCrashedError", (error) => Effect.as(Effect.logError(error.reason, error.exitCode), -1))
)
// #endregion

// #region cancelled-error
const orMinusOne: Effect.Effect<number | User, NotFound> = Future.await(future).pipe(
  Effect.catchTag("CancelledError", () => Effect.succeed(-1))
)
// #endregion

// #region timeout-error
const orNull: Effect.Effect<User | null, NotFound | ExecutorError.CancelledError> = Future.await(future).pipe(
  Effect.timeout("1 second"),
  Effect.catchTag("TimeoutError", () => Effect.succeed(null))
)
// #endregion

// #region invalid-state
const twice = Effect.gen(function* () {
  const deferred = yield* Deferred.make<number>()
  const first = yield* Deferred.succeed(deferred, 1) // true
  const second = yield* Deferred.succeed(deferred, 2) // false: no InvalidStateError
  return [first, second] as const
})
// #endregion

// #region by-hand
const byHand: Effect.Effect<number, NotFound> = Effect.gen(function* () {
  const deferred = yield* Deferred.make<number, NotFound>() // Future()
  // set_result from elsewhere (Deferred.fail is set_exception)
  yield* Effect.forkChild(Effect.delay(Deferred.succeed(deferred, 42), "1 second"))
  return yield* Deferred.await(deferred) // result()
})
// #endregion

// #region typed-errors
const typed: Effect.Effect<
  User,
  ExecutorError.BrokenExecutorError | ExecutorError.CancelledError | ExecutorError.SubmitError,
  IoExecutor.IoExecutor
> = Effect.gen(function* () {
  const executor = yield* IoExecutor.IoExecutor
  const future = yield* executor.submit(fetchUser(1))
  return yield* Future.await(future).pipe(
    Effect.catchTag("NotFound", (error) => Effect.succeed({ id: error.id, name: "unknown" }))
  )
})
// #endregion

// #region own-executor
// Python subclasses Executor; here an executor is a service: make more under tags of your own
class DbPool extends Context.Service<DbPool, IoExecutor.IoExecutorShape>()("app/DbPool") {}
const DbPoolLive = Layer.effect(DbPool, IoExecutor.make({ maxWorkers: 4, name: "db" }))
// #endregion

// #region terminate
// ProcessPoolExecutor.terminate_workers() (3.14): stop taking work, drop the
// queue, and stop what runs (a stuck synchronous task's worker is terminated)
declare const running: ReadonlyArray<Future.Future<number, unknown>>
const terminated = Effect.gen(function* () {
  const cpu = yield* CpuExecutor.CpuExecutor
  yield* cpu.shutdown({ wait: false, cancelFutures: true })
  yield* Effect.forEach(running, Future.cancel, { concurrency: "unbounded" })
})
// #endregion

// #region dask-client
// client = Client("tcp://scheduler:8786"): no scheduler here; clients and
// runners share a PostgreSQL database, and the runners serve the worker entry
// module of the CPU executor (`effect-futures runner --worker dist/worker.js`)
import { ClusterExecutor, TaskExecutor } from "effect-futures"
import * as ClusterNode from "effect-futures/ClusterNode"

const clusterLayer = ClusterNode.layerClient({
  database: "postgres://app:secret@db.internal:5432/cluster",
  preset: "fast", // ~3 s failover when a runner dies (default: ~30 s)
  maxWorkers: 256 // calls in flight
})
// #endregion

// #region dask-submit
const distributed = Effect.gen(function* () {
  const cluster = yield* ClusterExecutor.ClusterExecutor
  // client.submit(count_primes, 0, 1000).result()
  const n: number = yield* Future.await(yield* cluster.submit(CountPrimes, { from: 0, to: 1000 }))
  // client.gather(client.map(count_primes, los, his)), in input order, as a Stream
  const counts = yield* Stream.runCollect(cluster.map(CountPrimes, ranges, { chunksize: 8, buffersize: 64 }))
  // client.submit(charge, order, key="charge-1234"): an explicit key, stored, deduped across clients and restarts
  const once = yield* cluster.submit(CountPrimes, { from: 0, to: 10 }, { idempotencyKey: "primes-0-10" })
  return { n, counts, once: yield* Future.await(once) }
}).pipe(Effect.provide(clusterLayer))
// #endregion

// #region dask-either
// code that depends on TaskExecutor runs on threads or on the cluster, as the Layer decides
const anywhere = TaskExecutor.TaskExecutor.use((tasks) =>
  Effect.flatMap(tasks.submit(CountPrimes, { from: 0, to: 1000 }), Future.await)
)
const onThreads = anywhere.pipe(Effect.provide(CpuExecutor.layer({ worker: "./dist/worker.js" })))
const onCluster = anywhere.pipe(Effect.provide(clusterLayer))
// #endregion

export {
  block,
  byHand,
  cancelled,
  cpuLayer,
  DbPoolLive,
  distributed,
  onCluster,
  onThreads,
  each,
  exception,
  flags,
  guarded,
  ioLayer,
  main,
  orMinusOne,
  orNull,
  powers,
  printed,
  recycling,
  registered,
  state,
  stopped,
  submitted,
  terminated,
  total,
  tuned,
  twice,
  typed,
  user,
  waited
}
