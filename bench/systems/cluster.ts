// The cluster workloads (C1 throughput and round trip, C2 failover) for
// effect-futures' ClusterExecutor (embedded; over PostgreSQL with 2 runner
// processes, volatile and persisted), graphile-worker and pg-boss on the same
// PostgreSQL server, and the local CpuExecutor as the ceiling.
//
// Every system runs the same tiny task (n → n*n, or the fixture's `Where`,
// n → { pid, n }) on 2 worker processes (the embedded and CPU rows: 2 worker
// threads in this process), 64 jobs in flight (the executor's maxWorkers; 2
// processes × 16 concurrent jobs for the peers), all submitted then all
// awaited. A peer's completion is what its client can observe without polling:
// a trigger on its job table NOTIFYs on commit (pg-boss: state → completed,
// with the job's output; graphile-worker: the row deleted, as it does on
// completion; it keeps no result) and the client LISTENs.
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import { makeWorkerUtils } from "graphile-worker"
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"
import { Pool } from "pg"
import { PgBoss } from "pg-boss"
import * as ClusterExecutor from "../../src/ClusterExecutor.ts"
import * as ClusterNode from "../../src/ClusterNode.ts"
import * as CpuExecutor from "../../src/CpuExecutor.ts"
import * as Future from "../../src/Future.ts"
import * as protocol from "../../src/internal/protocol.ts"
import * as T from "../../test/fixtures/cluster/tasks.ts"
import { freePort } from "../../test/utils/cluster.ts"
import * as persisted from "../cluster/persisted.ts"
import * as pg from "../cluster/postgres.ts"
import { killAll, start, type WorkerProcess } from "../cluster/processes.ts"
import type { Failover, InProcessSystem, Params, RunResult } from "../types.ts"
import { latencyOf } from "./poolRunners.ts"

const fixtureWorker = new URL("../../test/fixtures/cluster/worker.ts", import.meta.url)
const entry = (name: string) => fileURLToPath(new URL(`../cluster/${name}`, import.meta.url))
const SOURCE = ["--conditions=effect-futures-source"]

/** Jobs in flight from the client, and concurrent jobs per worker process of the peers. */
const IN_FLIGHT = 64
const PER_WORKER = 16
/** Connections of a peer client's pool (its 64 adds in flight share them). */
const CLIENT_POOL = 16
/** Untimed jobs before the timed section (the cluster: until both runners have answered). */
const WARMUP = 200
const READY_MS = 60_000

// ---------------------------------------------------------------------------
// C1: throughput, then sequential round trips
// ---------------------------------------------------------------------------

/** What C1 needs of a system: run jobs `ids` concurrently (resolving with how many were right), or one. */
interface Client {
  readonly many: (ids: ReadonlyArray<number>) => Promise<number>
  readonly one: (id: number) => Promise<boolean>
}

export const ids = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i)

const measureC1 = async (params: Params, client: Client): Promise<RunResult> => {
  const warm = await client.many(ids(1_000_000, WARMUP))
  if (warm !== WARMUP) throw new Error(`warm-up: ${warm} of ${WARMUP} jobs right`)
  const start = performance.now()
  const completed = await client.many(ids(0, params.tasks))
  const elapsedMs = performance.now() - start
  const trips = params.roundTrips ?? 100
  for (let i = 0; i < 10; i++) await client.one(2_000_000 + i)
  const samples = new Float64Array(trips)
  for (let i = 0; i < trips; i++) {
    const t = performance.now()
    if (!(await client.one(3_000_000 + i))) throw new Error(`round trip ${i}: wrong result`)
    samples[i] = (performance.now() - t) * 1000
  }
  return { completed, elapsedMs, latencyUs: latencyOf(samples) }
}

/** Runs `f` with an Effect scope of its own (layers built in it are released afterwards). */
export const withScope = async <A>(f: (scope: Scope.Closeable) => Promise<A>): Promise<A> => {
  const scope = Effect.runSync(Scope.make())
  try {
    return await f(scope)
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

const build = <I, E>(scope: Scope.Closeable, layer: Layer.Layer<I, E>) =>
  Effect.runPromise(Layer.buildWithScope(layer, scope))

/** A `Where`-task client on an executor (CpuExecutor or ClusterExecutor): submit all, then await all. */
const executorClient = (
  submit: (n: number) => Effect.Effect<Future.Future<{ pid: number; n: number }, unknown>, unknown>,
  pids?: Set<number>
): Client => ({
  many: (list) =>
    Effect.runPromise(
      Effect.gen(function* () {
        const futures = new Array<Future.Future<{ pid: number; n: number }, unknown>>(list.length)
        for (let i = 0; i < list.length; i++) futures[i] = yield* submit(list[i]!)
        let right = 0
        for (let i = 0; i < list.length; i++) {
          const result = yield* Future.await(futures[i]!)
          if (result.n === list[i]) right++
          pids?.add(result.pid)
        }
        return right
      })
    ),
  one: (n) => Effect.runPromise(Effect.map(Effect.flatMap(submit(n), Future.await), (result) => result.n === n))
})

/** Until results came from 2 different processes (both runners hold shards), bounded. */
export const untilBothServe = async (client: Client, pids: Set<number>) => {
  const deadline = performance.now() + READY_MS
  while (pids.size < 2) {
    if (performance.now() > deadline) throw new Error(`only ${pids.size} runner(s) answered within ${READY_MS} ms`)
    await client.many(ids(4_000_000, 32))
  }
}

export type Mode = "volatile" | "persisted"

/** 2 runner processes on `url`, each on a free port, ready (`retention`: see bench/cluster/persisted.ts). */
export const startRunners = async (url: string, preset: ClusterNode.Preset, mode: Mode, retention?: string) => {
  const runners: Array<WorkerProcess> = []
  for (let i = 0; i < 2; i++) {
    const args = [url, String(await freePort()), preset, mode, ...(retention === undefined ? [] : [retention])]
    runners.push(start(entry("clusterRunner.ts"), args, SOURCE))
  }
  try {
    await Promise.all(runners.map((r) => r.waitFor(/^ready/, READY_MS)))
  } catch (error) {
    await killAll(runners)
    throw error
  }
  return runners
}

/** A client of the cluster on `url`: the ClusterExecutor (volatile), or the persisted entity called directly. */
export const clusterClient = async (
  scope: Scope.Closeable,
  url: string,
  preset: ClusterNode.Preset,
  mode: Mode
): Promise<{ client: Client; pids: Set<number>; hold: (i: number, ms: number) => Promise<unknown> }> => {
  const pids = new Set<number>()
  if (mode === "volatile") {
    const context = await build(
      scope,
      ClusterNode.layerClient({ database: url, preset, shardsPerGroup: persisted.SHARDS, maxWorkers: IN_FLIGHT })
    )
    const ex = Context.get(context, ClusterExecutor.ClusterExecutor)
    return {
      client: executorClient((n) => ex.submit(T.Where, n), pids),
      pids,
      hold: (i, ms) => Effect.runPromise(Effect.flatMap(ex.submit(T.Hold, { id: i, ms }), Future.await))
    }
  }
  const context = await build(scope, persisted.clientLayer(url, preset))
  const makeClient = await Effect.runPromise(persisted.PersistedTaskEntity.client.pipe(Effect.provideContext(context)))
  const call = (task: string, i: number, payload: unknown) =>
    Effect.runPromise(makeClient(String(i % 256)).run({ id: `${i}`, task, payload, chunk: false, timeout: -1 }))
  const where = async (n: number) => {
    const [kind, value] = await call("Where", n, n)
    if (kind !== protocol.SUCCESS) return false
    const result = value as { pid: number; n: number }
    pids.add(result.pid)
    return result.n === n
  }
  const client: Client = {
    // 64 calls in flight, as the executor's maxWorkers
    many: async (list) => {
      let next = 0
      let right = 0
      const lane = async () => {
        while (next < list.length) if (await where(list[next++]!)) right++
      }
      await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, list.length) }, lane))
      return right
    },
    one: where
  }
  return { client, pids, hold: (i, ms) => call("Hold", i, { id: i, ms }) }
}

const clusterC1 =
  (mode: Mode) =>
  (params: Params): Promise<RunResult> =>
    pg.withFreshDatabase(`cluster_${mode}`, async (url) => {
      const runners = await startRunners(url, "default", mode)
      try {
        return await withScope(async (scope) => {
          const { client, pids } = await clusterClient(scope, url, "default", mode)
          await untilBothServe(client, pids)
          return measureC1(params, client)
        })
      } finally {
        await killAll(runners)
      }
    })

const embeddedC1 = (params: Params): Promise<RunResult> =>
  withScope(async (scope) => {
    const context = await build(
      scope,
      ClusterExecutor.layerEmbedded({
        maxWorkers: IN_FLIGHT,
        runner: { worker: fixtureWorker, maxWorkers: 2, minWorkers: 2, concurrentTasksPerWorker: PER_WORKER }
      })
    )
    const ex = Context.get(context, ClusterExecutor.ClusterExecutor)
    return measureC1(
      params,
      executorClient((n) => ex.submit(T.Where, n))
    )
  })

const cpuC1 = (params: Params): Promise<RunResult> =>
  withScope(async (scope) => {
    const context = await build(scope, CpuExecutor.layer({ worker: fixtureWorker, maxWorkers: 2, minWorkers: 2 }))
    const cpu = Context.get(context, CpuExecutor.CpuExecutor)
    return measureC1(
      params,
      executorClient((n) => cpu.submit(T.Where, n))
    )
  })

// ---------------------------------------------------------------------------
// the peers: setup on a fresh database, their worker processes, a LISTENing client
// ---------------------------------------------------------------------------

interface Peer {
  readonly workers: ReadonlyArray<WorkerProcess>
  /** Adds a job; resolves once it is added. */
  readonly add: (queue: "tiny" | "hold", data: Record<string, number>) => Promise<unknown>
  readonly completions: pg.Completions
  readonly url: string
  readonly close: () => Promise<void>
}

const peerClient = (peer: Peer): Client => {
  const run = async (i: number) => {
    const done = peer.completions.wait(i)
    await peer.add("tiny", { i, n: i })
    return done
  }
  return {
    many: async (list) => {
      const done = list.map((i) => peer.completions.wait(i))
      // every job added (64 adds in flight at most, as the cluster's calls), then every completion awaited
      let next = 0
      const lane = async () => {
        while (next < list.length) {
          const i = list[next++]!
          await peer.add("tiny", { i, n: i })
        }
      }
      await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, list.length) }, lane))
      await Promise.all(done)
      return list.length
    },
    one: async (i) => (await run(i)).payload.startsWith(`${i}`)
  }
}

/** graphile-worker: utils (migrations, addJob), the completion trigger, 2 worker processes. */
const graphile = async (url: string, pollInterval: number): Promise<Peer> => {
  // a pool of our own, ended before the database is dropped (the utils' own pool can still hold a
  // connection then, whose termination it reports as an unhandled 'error')
  const pool = new Pool({ connectionString: url, max: CLIENT_POOL })
  pool.on("error", () => {})
  const utils = await makeWorkerUtils({ pgPool: pool })
  await utils.migrate()
  await pg.query(
    url,
    `create function bench_done() returns trigger language plpgsql as $$
     begin perform pg_notify('${pg.DONE_CHANNEL}', OLD.payload->>'i'); return null; end $$;
     create trigger bench_done after delete on graphile_worker._private_jobs
     for each row execute function bench_done();`
  )
  const completions = await pg.listen(url)
  const workers = [0, 1].map(() => start(entry("graphileWorker.ts"), [url, String(PER_WORKER), String(pollInterval)]))
  await Promise.all(workers.map((w) => w.waitFor(/^ready/, READY_MS)))
  return {
    workers,
    add: (queue, data) => utils.addJob(queue, data),
    completions,
    url,
    close: async () => {
      await killAll(workers)
      await completions.close()
      await utils.release()
      await pool.end()
    }
  }
}

interface BossSettings {
  /** Constructor options of every instance (client and workers). */
  readonly instance: Record<string, unknown>
  /** Queue options of `tiny` and `hold`. */
  readonly queue: Record<string, unknown>
  /** `work()` options of the workers. */
  readonly work: Record<string, unknown>
}

/** pg-boss: the client instance (installs the schema, creates the queues), the trigger, 2 worker processes. */
const pgBoss = async (url: string, settings: BossSettings): Promise<Peer> => {
  const boss = new PgBoss({ connectionString: url, max: CLIENT_POOL, ...settings.instance })
  boss.on("error", (error) => process.stderr.write(`pg-boss error: ${String(error)}\n`))
  await boss.start()
  await boss.createQueue("tiny", settings.queue)
  await boss.createQueue("hold", settings.queue)
  await pg.query(
    url,
    `create function bench_done() returns trigger language plpgsql as $$
     begin perform pg_notify('${pg.DONE_CHANNEL}', (NEW.data->>'i') || ':' || coalesce(NEW.output::text, '')); return null; end $$;
     create trigger bench_done after update of state on pgboss.job
     for each row when (NEW.state = 'completed') execute function bench_done();`
  )
  const completions = await pg.listen(url)
  const options = JSON.stringify({ instance: settings.instance, work: settings.work })
  const workers = [0, 1].map(() => start(entry("pgBossWorker.ts"), [url, options]))
  await Promise.all(workers.map((w) => w.waitFor(/^ready/, READY_MS)))
  return {
    workers,
    add: (queue, data) => boss.send(queue, data),
    completions,
    url,
    close: async () => {
      await killAll(workers)
      await completions.close()
      await boss.stop({ graceful: false })
    }
  }
}

const withPeer = <A>(label: string, make: (url: string) => Promise<Peer>, f: (peer: Peer) => Promise<A>) =>
  pg.withFreshDatabase(label, async (url) => {
    const peer = await make(url)
    try {
      return await f(peer)
    } finally {
      await peer.close()
    }
  })

/**
 * Tuned for throughput and latency as its docs advise, 16 jobs at once per
 * process: 4 workers fetching batches of 4 (fetching again at once while a
 * batch comes back full), settled per job; new jobs wake the workers by
 * NOTIFY; polling at the minimum 0.5 s otherwise. (With batches of 1, each
 * of 16 workers sleeps its polling interval after every job: the queue stalls.)
 */
const bossTuned: BossSettings = {
  instance: { useListenNotify: true },
  queue: { notify: true },
  work: {
    localConcurrency: 4,
    batchSize: 4,
    burstWhenBatchFull: true,
    perJobResults: true,
    pollingIntervalSeconds: 0.5,
    notifyPollingIntervalSeconds: 0.5
  }
}

// ---------------------------------------------------------------------------
// C2: failover
// ---------------------------------------------------------------------------

/**
 * Submits `params.tasks` jobs that each hold a worker `holdMs`; once one has
 * started, SIGKILLs the worker process it started on and times the kill → the
 * last job of the batch completed (by the other worker), bounded by `boundMs`.
 */
const killOne = async (
  params: Params,
  workers: ReadonlyArray<WorkerProcess>,
  submit: (i: number, ms: number) => Promise<unknown>,
  afterKill: (victim: WorkerProcess, startedThere: ReadonlyArray<string>) => Promise<void> = async () => {}
): Promise<{ ms: number | null; killedJobs: number; completed: number }> => {
  const holdMs = params.holdMs ?? 200
  const boundMs = params.boundMs ?? 40_000
  const base = 5_000_000 + Math.floor(Math.random() * 1_000_000) * 16
  const seen = new Map(workers.map((w) => [w, w.lines.length]))
  const finished: Array<number> = []
  const jobs = ids(base, params.tasks).map((i) =>
    submit(i, holdMs).then(
      () => finished.push(performance.now()),
      () => {}
    )
  )
  const started = new RegExp(`^started (${ids(base, params.tasks).join("|")}) `)
  const first = await Promise.race(
    workers.map((w) =>
      w.waitFor(started, READY_MS).then(
        () => w,
        () => new Promise<never>(() => {})
      )
    )
  )
  const killedAt = performance.now()
  first.process.kill("SIGKILL")
  await first.exited
  const startedThere = first.lines.slice(seen.get(first)).filter((l) => started.test(l.line))
  await afterKill(
    first,
    startedThere.map((l) => l.line)
  )
  const all = Promise.all(jobs).then(() => true)
  const bound = new Promise<false>((resolve) => setTimeout(() => resolve(false), boundMs).unref())
  const done = await Promise.race([all, bound])
  return {
    ms: done ? Math.max(...finished) - killedAt : null,
    killedJobs: startedThere.length,
    completed: finished.length
  }
}

const clusterFailover =
  (mode: Mode, presetsToMeasure: ReadonlyArray<ClusterNode.Preset>) =>
  async (params: Params): Promise<RunResult> => {
    const times: Partial<Record<ClusterNode.Preset, number | null>> = {}
    let last = { killedJobs: 0, completed: 0 }
    for (const preset of presetsToMeasure) {
      last = await pg.withFreshDatabase(`failover_${mode}_${preset}`, async (url) => {
        const runners = await startRunners(url, preset, mode)
        try {
          return await withScope(async (scope) => {
            const { client, pids, hold } = await clusterClient(scope, url, preset, mode)
            await untilBothServe(client, pids)
            const result = await killOne(params, runners, hold)
            times[preset] = result.ms
            return result
          })
        } finally {
          await killAll(runners)
        }
      })
    }
    return failoverResult(times.default, times.fast, last)
  }

const failoverResult = (
  defaultsMs: number | null | undefined,
  shortestMs: number | null | undefined,
  last: { killedJobs: number; completed: number }
): RunResult => {
  const failover: Failover = { defaultsMs, shortestMs, killedJobs: last.killedJobs }
  return { completed: last.completed, elapsedMs: shortestMs ?? 1, failover }
}

/**
 * graphile-worker: a killed worker's jobs stay locked until its lock is 4 hours
 * old (fixed in its SQL; the scan runs every 8–10 minutes). No setting makes
 * that shorter; what its docs offer is `force_unlock_workers(worker ids)`,
 * called by whoever knows the worker died: the "shortest" figure is a
 * supervisor doing so as soon as it sees the process exit.
 */
const graphileFailover = async (params: Params): Promise<RunResult> => {
  const defaultsMs = await withPeer(
    "failover_graphile_defaults",
    (url) => graphile(url, 2000),
    async (peer) => (await killOne(params, peer.workers, (i, ms) => addAndWait(peer, i, ms))).ms
  )
  const last = await withPeer(
    "failover_graphile_unlock",
    (url) => graphile(url, 2000),
    (peer) =>
      killOne(
        params,
        peer.workers,
        (i, ms) => addAndWait(peer, i, ms),
        async (_victim, startedThere) => {
          const lockedBy = [...new Set(startedThere.map((line) => line.split(" ")[3]!))]
          await pg.query(peer.url, "select graphile_worker.force_unlock_workers($1::text[])", [lockedBy])
        }
      )
  )
  return failoverResult(defaultsMs, last.ms, last)
}

const addAndWait = async (peer: Peer, i: number, ms: number) => {
  const done = peer.completions.wait(i)
  await peer.add("hold", { i, ms })
  return done
}

/**
 * pg-boss: an active job of a dead worker is retried once it expires
 * (`expireInSeconds`, default 900 s), noticed by the supervisor
 * (`superviseIntervalSeconds`, default 60 s) in its per-queue pass, which runs
 * at most every `monitorIntervalSeconds` (default 60 s). Shortest documented
 * settings: expireInSeconds 1 (so every job must finish within a second) and
 * supervision and monitoring every second.
 */
const bossFailover = async (params: Params): Promise<RunResult> => {
  const defaults: BossSettings = { instance: {}, queue: {}, work: { localConcurrency: PER_WORKER } }
  const defaultsMs = await withPeer(
    "failover_pgboss_defaults",
    (url) => pgBoss(url, defaults),
    async (peer) => (await killOne(params, peer.workers, (i, ms) => addAndWait(peer, i, ms))).ms
  )
  const shortest: BossSettings = {
    instance: { ...bossTuned.instance, superviseIntervalSeconds: 1, monitorIntervalSeconds: 1 },
    queue: { ...bossTuned.queue, expireInSeconds: 1 },
    work: bossTuned.work
  }
  const last = await withPeer(
    "failover_pgboss_shortest",
    (url) => pgBoss(url, shortest),
    (peer) => killOne(params, peer.workers, (i, ms) => addAndWait(peer, i, ms))
  )
  return failoverResult(defaultsMs, last.ms, last)
}

// ---------------------------------------------------------------------------
// systems
// ---------------------------------------------------------------------------

const requireFrom = createRequire(import.meta.url)

/** Why a package cannot be loaded here, or undefined. */
const missing = (name: string): string | undefined => {
  try {
    requireFrom.resolve(name)
    return undefined
  } catch {
    return `${name} is not installed (npm install)`
  }
}

export const embedded: InProcessSystem = {
  _tag: "InProcess",
  id: "cluster-embedded",
  label: "ClusterExecutor embedded",
  kind: "ours",
  notes:
    "ClusterExecutor.layerEmbedded: in-memory sharding, its runner in this process on 2 worker threads (16 tasks each), maxWorkers 64; `submit(Where, n)` then `Future.await`",
  runners: { C1: embeddedC1 }
}

export const volatile: InProcessSystem = {
  _tag: "InProcess",
  id: "cluster-pg",
  postgres: true,
  label: "ClusterExecutor PostgreSQL",
  kind: "ours",
  notes:
    "ClusterNode.layerClient (maxWorkers 64, default preset) and 2 runner processes (bench/cluster/clusterRunner.ts: ClusterNode.layerRunner, 2 worker threads × 16 tasks) on a fresh database of the run's PostgreSQL; volatile messages. C2: SIGKILL of a runner, default preset then the `fast` preset",
  runners: { C1: clusterC1("volatile"), C2: clusterFailover("volatile", ["default", "fast"]) }
}

export const persistedSystem: InProcessSystem = {
  _tag: "InProcess",
  id: "cluster-pg-persisted",
  postgres: true,
  label: "ClusterExecutor PostgreSQL persisted",
  kind: "ours",
  notes:
    "the executor's entity annotated `ClusterSchema.Persisted` (every message and reply stored in PostgreSQL before delivery), called directly with 64 calls in flight: ClusterExecutor has no persisted option yet (bench/cluster/persisted.ts); runners as for the volatile row. C2: the `fast` preset only (the default preset's failover is the same shard-lock expiry as the volatile row's)",
  runners: { C1: clusterC1("persisted"), C2: clusterFailover("persisted", ["fast"]) }
}

export const graphileWorker: InProcessSystem = {
  _tag: "InProcess",
  id: "graphile-worker",
  postgres: true,
  label: "graphile-worker",
  kind: "peer",
  notes:
    "graphile-worker 0.18 on the same PostgreSQL server (fresh database): 2 worker processes (bench/cluster/graphileWorker.ts, concurrency 16, pollInterval 2 s; new jobs arrive by LISTEN/NOTIFY); the client `addJob`s (64 in flight) and learns of each completion from a trigger's NOTIFY on the job row's deletion. C2: defaults (a dead worker's job waits for its 4-hour lock), then a supervisor calling `graphile_worker.force_unlock_workers` on the killed worker's ids at once (no setting shortens the lock)",
  runners: {
    C1: (params) =>
      withPeer(
        "graphile",
        (url) => graphile(url, 2000),
        (peer) => measureC1(params, peerClient(peer))
      ),
    C2: graphileFailover
  },
  unavailable: () => missing("graphile-worker")
}

export const pgBossSystem: InProcessSystem = {
  _tag: "InProcess",
  id: "pg-boss",
  postgres: true,
  label: "pg-boss",
  kind: "peer",
  notes:
    "pg-boss 12 on the same PostgreSQL server (fresh database): 2 worker processes (bench/cluster/pgBossWorker.ts, `work` with localConcurrency 4 × batchSize 4, burstWhenBatchFull, perJobResults, polling 0.5 s, queue `notify` + `useListenNotify`), the client `send`s (64 in flight) and learns of each completion, with its output, from a trigger's NOTIFY on state → completed. C2: defaults (expireInSeconds 900, supervise every 60 s), then expireInSeconds 1 with supervision and monitoring every second (the minimum of each)",
  runners: {
    C1: (params) =>
      withPeer(
        "pgboss",
        (url) => pgBoss(url, bossTuned),
        (peer) => measureC1(params, peerClient(peer))
      ),
    C2: bossFailover
  },
  unavailable: () => missing("pg-boss")
}

export const cpuCeiling: InProcessSystem = {
  _tag: "InProcess",
  id: "cpu-ceiling",
  label: "CpuExecutor (local ceiling)",
  kind: "baseline",
  notes:
    "the same `Where` task on a local CpuExecutor (2 worker threads), no cluster: what the cluster rows would reach with free messaging",
  runners: { C1: cpuC1 }
}
