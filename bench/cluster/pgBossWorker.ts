// A pg-boss process of the cluster workloads:
//   node pgBossWorker.ts <database url> <options json>
// options: { instance: constructor options, work: work() options } (see bench/systems/cluster.ts).
// Queues: `tiny` ({ i, n } → { n: n*n }, stored as the job's output) and `hold`
// ({ i, ms }: prints `started <i> <pid>`, then waits ms). With `perJobResults`
// (a batch per fetch), the batch's jobs run concurrently and each is settled
// with its own output.
// Prints `ready <pid>` once it serves; the bench SIGKILLs it.
import { type Job, PgBoss } from "pg-boss"

const [connectionString, json] = process.argv.slice(2)
const options = JSON.parse(json!) as { instance: Record<string, unknown>; work: Record<string, unknown> }

const boss = new PgBoss({ connectionString: connectionString!, migrate: false, ...options.instance })
boss.on("error", (error) => process.stderr.write(`pg-boss error: ${String(error)}\n`))
await boss.start()

const serve = <D>(queue: string, run: (data: D) => Promise<unknown>) =>
  boss.work<D>(queue, options.work, async (jobs: Array<Job<D>>) =>
    options.work.perJobResults === true
      ? Promise.all(jobs.map(async (job) => ({ id: job.id, status: "completed", output: await run(job.data) })))
      : run(jobs[0]!.data)
  )

await serve<{ i: number; n: number }>("tiny", async ({ n }) => ({ n: n * n }))
await serve<{ i: number; ms: number }>("hold", async ({ i, ms }) => {
  process.stdout.write(`started ${i} ${process.pid}\n`)
  await new Promise((resolve) => setTimeout(resolve, ms))
  return null
})
process.stdout.write(`ready ${process.pid}\n`)
