// A graphile-worker process of the cluster workloads:
//   node graphileWorker.ts <database url> <concurrency> <pollInterval ms>
// Tasks: `tiny` ({ i, n } → n*n, discarded: graphile-worker keeps no results) and
// `hold` ({ i, ms }: prints `started <i> <pid> <locked_by>`, then waits ms).
// Prints `ready <pid>` once it serves; the bench SIGKILLs it.
import { Logger, run } from "graphile-worker"

const [connectionString, concurrency, pollInterval] = process.argv.slice(2)

const runner = await run({
  connectionString: connectionString!,
  concurrency: Number(concurrency),
  maxPoolSize: Number(concurrency) + 2,
  pollInterval: Number(pollInterval),
  noHandleSignals: false,
  // errors and warnings only, on stderr (its info lines would go to stdout, which the bench reads)
  logger: new Logger(() => (level, message) => {
    if (level === "error" || level === "warning") process.stderr.write(`${level}: ${message}\n`)
  }),
  taskList: {
    tiny: async (payload) => {
      const { n } = payload as { n: number }
      return void (n * n)
    },
    hold: async (payload, helpers) => {
      const { i, ms } = payload as { i: number; ms: number }
      process.stdout.write(`started ${i} ${process.pid} ${helpers.job.locked_by}\n`)
      await new Promise((resolve) => setTimeout(resolve, ms))
    }
  }
})
process.stdout.write(`ready ${process.pid}\n`)
await runner.promise
