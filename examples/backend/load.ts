// Load test of the backend with autocannon (npm run example:backend:load).
//
// For each route (the CPU route, and the I/O route with its fan-out):
//   1. capacity: closed-loop load with as many connections as the pool holds
//      (slots + queue), so it is always busy and sheds nothing; capacity =
//      answered (200) requests per second
//   2. open-loop load at 50%, 100% and 300% of that capacity: throughput, p50/p99
//      of the accepted (200) requests, the share of 503s, the memory after each
//      level; every answer other than a 503 must be a correct 200
//   3. checks: at 300% the p99 stays within 2× of its value at 100% (load is shed,
//      not queued), memory stays flat, nothing is left in flight afterwards
// Then SIGTERM under load: no accepted request may fail, and the process exits 0.
//
// Arrivals: autocannon's rate limit lets each connection send its quota at the
// start of every second, so one instance with many connections sends bursts.
// To spread arrivals over the second, each level runs many single-connection
// autocannon instances, each with its share of the rate, started at evenly
// spaced offsets within the first second.
//
// Options: --duration <s> per level (default 6), --json <file> to save the results.
import autocannon, { type Instance, type Request } from "autocannon"
import * as fs from "node:fs"
import { type Backend, metricValue, scrape, startBackend, until } from "./harness.ts"
import { expectedDigest } from "./tasks.ts"
import { itemFor } from "./upstream.ts"

const args = process.argv.slice(2)
const flag = (name: string) => {
  const i = args.indexOf(name)
  return i === -1 ? undefined : args[i + 1]
}
const duration = Number(flag("--duration") ?? 6)
const jsonOut = flag("--json")

// the pools are sized so the executors, not the event loop, are the bottleneck on 2 shared cores
const backendEnv = {
  BACKEND_CPU_WORKERS: "1",
  BACKEND_CPU_QUEUE: "2",
  BACKEND_IO_WORKERS: "8",
  BACKEND_IO_QUEUE: "8",
  BACKEND_REQUEST_TIMEOUT_MS: "5000"
}

interface Scenario {
  readonly name: string
  readonly request: Request
  /** The body a correct answer has. */
  readonly expected: string
  /** Connections that keep the pool busy without overflowing its queue (slots + queue, in requests). */
  readonly saturating: number
}

const text = Array.from({ length: 64 }, (_, i) => `line ${i}: the quick brown fox ✓`).join("\n")
const rounds = 1500
const ids = [7, 42]
const delay = 40

const scenarios: ReadonlyArray<Scenario> = [
  {
    name: `POST /cpu/digest (${Buffer.byteLength(text)} B × ${rounds} rounds)`,
    request: { method: "POST", path: `/cpu/digest?rounds=${rounds}`, body: text },
    expected: JSON.stringify(expectedDigest(text, rounds)),
    saturating: 3
  },
  {
    name: `GET /io/items (${ids.length} upstream calls of ${delay} ms)`,
    request: { method: "GET", path: `/io/items?ids=${ids.join(",")}&delay=${delay}` },
    expected: JSON.stringify({ items: ids.map(itemFor), total: ids.map(itemFor).reduce((s, i) => s + i.price, 0) }),
    saturating: 8
  }
]

interface Tally {
  readonly latencies: Array<number>
  statuses: Record<string, number>
  wrong: Array<string>
  errors: Record<string, number>
  timeouts: number
}

const newTally = (): Tally => ({ latencies: [], statuses: {}, wrong: [], errors: {}, timeouts: 0 })

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]

/** Runs autocannon instances (one connection each) with a tally shared by all. */
const run = (
  backend: Backend,
  scenario: Scenario,
  options: { readonly instances: number; readonly rate?: number; readonly seconds: number },
  tally: Tally
) => {
  const started: Array<Instance> = []
  const all: Array<Promise<unknown>> = []
  for (let i = 0; i < options.instances; i++) {
    const share =
      options.rate === undefined
        ? undefined
        : Math.floor(options.rate / options.instances) + (i < options.rate % options.instances ? 1 : 0)
    if (share === 0) continue
    all.push(
      new Promise((resolve) =>
        setTimeout(
          () => {
            const instance = autocannon({
              url: backend.url,
              connections: 1,
              duration: options.seconds,
              timeout: 10,
              ...(share === undefined ? {} : { overallRate: share, ignoreCoordinatedOmission: true }),
              requests: [
                {
                  ...scenario.request,
                  onResponse: (status, body) => {
                    if (status !== 503 && (status !== 200 || body !== scenario.expected)) {
                      tally.wrong.push(`${status} ${body.slice(0, 200)}`)
                    }
                  }
                }
              ]
            })
            instance.on("response", (_client, status, _bytes, ms) => {
              tally.statuses[status] = (tally.statuses[status] ?? 0) + 1
              if (status === 200) tally.latencies.push(ms)
            })
            instance.on("reqError", (error) => {
              if (error.message === "request timed out") tally.timeouts++
              const code = error.code ?? error.message
              tally.errors[code] = (tally.errors[code] ?? 0) + 1
            })
            started.push(instance)
            resolve(instance)
          },
          // spread the instances' starts over the first second
          options.rate === undefined ? 0 : (1000 * i) / options.instances
        )
      ).then((instance) => instance as Instance)
    )
  }
  return {
    done: Promise.all(all).then((instances) => Promise.all(instances)),
    stop: () => started.forEach((instance) => instance.stop())
  }
}

/**
 * Waits until the backend has nothing in flight (no request, no running or
 * queued task) and both executors answer a probe: a CPU task interrupted when
 * a run ends (autocannon closes its connections) had its worker terminated,
 * and the next level must not start while its replacement boots.
 */
const settled = async (backend: Backend) => {
  await until(
    "nothing in flight",
    async () => {
      const m = await scrape(backend.url)
      // the scrape itself is the one request in flight
      return (
        metricValue(m, "http_requests_in_flight") === 1 &&
        // a CPU task interrupted when a run ends (its client went away) had its worker replaced: wait for it
        metricValue(m, "effect_futures_workers", { executor: "cpu" }) ===
          metricValue(m, "effect_futures_max_workers", { executor: "cpu" }) &&
        ["io", "cpu"].every(
          (executor) =>
            metricValue(m, "effect_futures_running", { executor }) === 0 &&
            metricValue(m, "effect_futures_queued", { executor }) === 0
        )
      )
    },
    10_000
  )
  await until(
    "both executors ready",
    async () => {
      const health = await fetch(`${backend.url}/health`)
      return health.status === 200 && ((await health.json()) as { status: string }).status === "ok"
    },
    10_000
  )
}

const memory = async (backend: Backend) => {
  const m = await scrape(backend.url)
  return {
    rssMb: metricValue(m, "process_resident_memory_bytes")! / 2 ** 20,
    heapMb: metricValue(m, "nodejs_heap_used_bytes")! / 2 ** 20
  }
}

interface Row {
  readonly scenario: string
  readonly level: string
  readonly offered: number
  readonly throughput: number
  readonly p50: number
  readonly p99: number
  readonly shed: number
  readonly wrong: number
  readonly errors: number
  readonly rssMb: number
  readonly heapMb: number
}

const fmt = (n: number, digits = 1) => n.toFixed(digits)

const main = async () => {
  const rows: Array<Row> = []
  const failures: Array<string> = []
  const backend = await startBackend(backendEnv)
  try {
    console.log(`backend at ${backend.url}; ${duration} s per level`)
    for (const scenario of scenarios) {
      // warm-up (JIT, connections), then capacity: closed loop with as many connections as
      // the pool holds (slots + queue): always busy, nothing shed
      await run(backend, scenario, { instances: scenario.saturating, seconds: 2 }, newTally()).done
      await settled(backend)
      const cap = newTally()
      await run(backend, scenario, { instances: scenario.saturating, seconds: duration }, cap).done
      const capacity = Math.round((cap.statuses[200] ?? 0) / duration)
      console.log(`\n${scenario.name}: capacity ${capacity} answered requests/s (${JSON.stringify(cap.statuses)})`)
      if (cap.wrong.length > 0) failures.push(`${scenario.name}, capacity run: ${cap.wrong.length} wrong answers`)
      await settled(backend)

      const levelRows: Record<string, Row> = {}
      for (const [level, factor] of [
        ["50%", 0.5],
        ["100%", 1],
        ["300%", 3]
      ] as const) {
        const rate = Math.max(1, Math.round(capacity * factor))
        const tally = newTally()
        await run(backend, scenario, { instances: Math.min(rate, 48), rate, seconds: duration }, tally).done
        await settled(backend)
        const sorted = tally.latencies.sort((a, b) => a - b)
        const answered = Object.values(tally.statuses).reduce((a, b) => a + b, 0)
        const errors = Object.values(tally.errors).reduce((a, b) => a + b, 0)
        const row: Row = {
          scenario: scenario.name,
          level,
          offered: rate,
          throughput: (tally.statuses[200] ?? 0) / duration,
          p50: Math.round(10 * percentile(sorted, 50)) / 10,
          p99: Math.round(10 * percentile(sorted, 99)) / 10,
          shed: answered === 0 ? 0 : (tally.statuses[503] ?? 0) / answered,
          wrong: tally.wrong.length,
          errors,
          ...(await memory(backend))
        }
        levelRows[level] = row
        rows.push(row)
        console.log(
          `  ${level.padStart(4)}: offered ${rate}/s, answered ${fmt(row.throughput)}/s, p50 ${row.p50} ms, p99 ${row.p99} ms, ` +
            `503 ${fmt(100 * row.shed)}%, wrong ${row.wrong}, errors ${errors}, RSS ${fmt(row.rssMb)} MB, heap ${fmt(row.heapMb)} MB`
        )
        if (tally.wrong.length > 0) failures.push(`${scenario.name} ${level}: wrong answers, e.g. ${tally.wrong[0]}`)
        if (errors > 0) failures.push(`${scenario.name} ${level}: client errors ${JSON.stringify(tally.errors)}`)
      }
      const at100 = levelRows["100%"]
      const at300 = levelRows["300%"]
      if (!(at300.p99 <= 2 * at100.p99)) {
        failures.push(`${scenario.name}: p99 at 300% (${at300.p99} ms) is more than 2× p99 at 100% (${at100.p99} ms)`)
      }
      if (at300.rssMb > at100.rssMb + 64) {
        failures.push(
          `${scenario.name}: RSS grew from ${fmt(at100.rssMb)} to ${fmt(at300.rssMb)} MB between 100% and 300%`
        )
      }
    }

    // SIGTERM under load: both routes at their 100% rate, SIGTERM after 2 s
    console.log(`\nSIGTERM under load`)
    const tallies = scenarios.map(newTally)
    const capacities = rows.filter((r) => r.level === "100%").map((r) => r.offered)
    const runs = scenarios.map((scenario, i) =>
      run(backend, scenario, { instances: 16, rate: capacities[i], seconds: 10 }, tallies[i])
    )
    await new Promise((r) => setTimeout(r, 2000))
    const signalled = performance.now()
    backend.child.kill("SIGTERM")
    const exit = await Promise.race([backend.exited, new Promise<"hung">((r) => setTimeout(() => r("hung"), 30_000))])
    const exitMs = performance.now() - signalled
    runs.forEach((r) => r.stop())
    await Promise.all(runs.map((r) => r.done))
    const output = backend.output()
    const counts = (re: RegExp) => {
      const m = re.exec(output)
      return m === null ? undefined : { answered: Number(m[1]), interrupted: Number(m[2]) }
    }
    // the server's counts when the drain began and when it stopped: the requests interrupted in
    // between are accepted requests that did not get their answer
    const atSignal = counts(
      /shutdown: listener closing, draining in-flight requests \((\d+) answered, (\d+) interrupted so far\)/
    )
    const atStop = counts(/stopped: (\d+) requests answered, (\d+) interrupted/)
    const drainAnswered = atSignal && atStop ? atStop.answered - atSignal.answered : undefined
    const drainInterrupted = atSignal && atStop ? atStop.interrupted - atSignal.interrupted : undefined
    const sum = (f: (t: Tally) => number) => tallies.reduce((a, t) => a + f(t), 0)
    const ok = sum((t) => t.statuses[200] ?? 0)
    const shed = sum((t) => t.statuses[503] ?? 0)
    const wrong = sum((t) => t.wrong.length)
    const refused = sum((t) => t.errors.ECONNREFUSED ?? 0)
    const otherErrors = tallies.flatMap((t) => Object.entries(t.errors).filter(([code]) => code !== "ECONNREFUSED"))
    const sigterm = {
      exit,
      exitMs: Math.round(exitMs),
      answered200: ok,
      answered503: shed,
      wrongOrFailed: wrong,
      refusedConnections: refused,
      otherClientErrors: Object.fromEntries(otherErrors),
      answeredWhileDraining: drainAnswered,
      interruptedWhileDraining: drainInterrupted
    }
    console.log(`  ${JSON.stringify(sigterm)}`)
    if (exit === "hung" || exit.code !== 0)
      failures.push(`SIGTERM: the backend did not exit 0 (${JSON.stringify(exit)})`)
    if (wrong > 0) failures.push(`SIGTERM: ${wrong} accepted requests failed or were wrong`)
    if (otherErrors.length > 0)
      failures.push(`SIGTERM: client errors other than refused connections: ${JSON.stringify(otherErrors)}`)
    if (drainInterrupted !== 0) failures.push(`SIGTERM: requests interrupted while draining: ${drainInterrupted}`)

    console.log(`\n| route | level | offered req/s | answered req/s | p50 ms | p99 ms | 503s | wrong | RSS MB |`)
    console.log(`|---|---|---|---|---|---|---|---|---|`)
    for (const r of rows) {
      console.log(
        `| ${r.scenario} | ${r.level} | ${r.offered} | ${fmt(r.throughput)} | ${r.p50} | ${r.p99} | ${fmt(100 * r.shed)}% | ${r.wrong} | ${fmt(r.rssMb)} |`
      )
    }
    if (jsonOut !== undefined) fs.writeFileSync(jsonOut, JSON.stringify({ rows, sigterm, failures }, null, 2))
  } finally {
    backend.kill()
  }
  if (failures.length > 0) {
    console.error(`\nFAILED:\n- ${failures.join("\n- ")}`)
    process.exitCode = 1
  } else {
    console.log(`\nall checks passed`)
  }
}

await main()
