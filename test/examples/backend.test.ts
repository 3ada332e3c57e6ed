// Smoke test of examples/backend: runs the backend as a child process (as
// `npm run example:backend` does) with small pools, and checks over real HTTP:
// correct answers, typed errors as 4xx with a body, a defect as a bare 500,
// load shedding (503 + Retry-After) when a bounded queue is full, cancellation
// when the client goes away (the task ends cancelled, its upstream request is
// aborted), the per-request deadline (504), /metrics, /health on a broken
// executor, a short burst of load with autocannon, and a graceful SIGTERM with
// a request in flight (it is answered; exit 0). Every wait is bounded; no
// assertion is on speed.
import { assert, describe, it } from "@effect/vitest"
import autocannon from "autocannon"
import * as net from "node:net"
import { type Backend, metricValue, scrape, startBackend, until } from "../../examples/backend/harness.ts"
import { expectedDigest } from "../../examples/backend/tasks.ts"
import { itemFor } from "../../examples/backend/upstream.ts"

const upstreamStats = async (b: Backend) =>
  (await (await fetch(`${b.upstream}/stats`)).json()) as { requests: number; aborted: number; inFlight: number }

const ioStats = async (b: Backend) => {
  const health = (await (await fetch(`${b.url}/health`)).json()) as {
    executors: { io: { state: string; stats: { running: number; queued: number } } }
  }
  return health.executors.io
}

const ioSettled = async (b: Backend, outcome: string) =>
  metricValue(await scrape(b.url), "effect_futures_tasks_settled", { executor: "io", outcome }) ?? 0

/** Refused once the listener is closed (a connection the server never accepts). */
const connectRefused = (url: string) =>
  new Promise<boolean>((resolve) => {
    const { port } = new URL(url)
    const socket = net.connect(Number(port), "127.0.0.1")
    socket.once("connect", () => {
      socket.destroy()
      resolve(false)
    })
    socket.once("error", (e: NodeJS.ErrnoException) => resolve(e.code === "ECONNREFUSED"))
  })

const withBackend = async (env: Record<string, string>, body: (b: Backend) => Promise<void>) => {
  const backend = await startBackend(env)
  try {
    await body(backend)
  } finally {
    backend.kill()
  }
}

// small pools so that a few requests fill them: 2 upstream requests at once, 2 waiting
const env = {
  BACKEND_IO_WORKERS: "2",
  BACKEND_IO_QUEUE: "2",
  BACKEND_CPU_WORKERS: "1",
  BACKEND_CPU_QUEUE: "2",
  BACKEND_REQUEST_TIMEOUT_MS: "3000"
}

describe("examples/backend", { timeout: 30_000 }, () => {
  it("answers, maps errors, sheds load, cancels on disconnect and on the deadline, drains on SIGTERM", async () => {
    await withBackend(env, async (b) => {
      // the CPU route: the digest of the body, computed on a worker
      const text = "effect-futures ✓ ".repeat(40)
      const digest = await fetch(`${b.url}/cpu/digest?rounds=300`, { method: "POST", body: text })
      assert.strictEqual(digest.status, 200)
      assert.deepStrictEqual(await digest.json(), expectedDigest(text, 300))

      // a typed task error crosses the worker boundary and becomes a 422 with a body
      const invalid = await fetch(`${b.url}/cpu/digest?rounds=0`, { method: "POST", body: "x" })
      assert.strictEqual(invalid.status, 422)
      assert.deepInclude(await invalid.json(), { error: "InvalidRounds", rounds: 0, max: 20_000 })
      const tooLarge = await fetch(`${b.url}/cpu/digest`, { method: "POST", body: "x".repeat(70_000) })
      assert.strictEqual(tooLarge.status, 413)

      // the I/O route: a fan-out to the upstream
      const items = await fetch(`${b.url}/io/items?ids=1,2,3&delay=5`)
      assert.strictEqual(items.status, 200)
      const expected = [1, 2, 3].map(itemFor)
      assert.deepStrictEqual(await items.json(), { items: expected, total: expected.reduce((s, i) => s + i.price, 0) })
      const missing = await fetch(`${b.url}/io/items?ids=1,950`)
      assert.strictEqual(missing.status, 404)
      assert.deepStrictEqual(await missing.json(), { error: "ItemNotFound", id: 950 })
      const bad = await fetch(`${b.url}/io/items?ids=abc`)
      assert.strictEqual(bad.status, 400)

      // a defect (the upstream broke its contract) is a 500 that says nothing more
      const defect = await fetch(`${b.url}/io/items?ids=999`)
      assert.strictEqual(defect.status, 500)
      assert.strictEqual(await defect.text(), JSON.stringify({ error: "Internal" }))
      assert.match(b.output(), /io_items: defect HttpClientError: Decode error/)

      // fill the I/O pool: 2 upstream requests running, 2 waiting (the queue holds 2)
      const cancelledBefore = await ioSettled(b, "cancelled")
      const abortedBefore = (await upstreamStats(b)).aborted
      const holder = new AbortController()
      const held = fetch(`${b.url}/io/items?ids=10,11,12,13&delay=20000`, { signal: holder.signal }).catch(
        (e: Error) => e
      )
      await until("the I/O pool to be full", async () => {
        const io = await ioStats(b)
        return io.stats.running === 2 && io.stats.queued === 2 && io.state === "saturated"
      })
      // the queue is full: shed at once, with Retry-After
      const shed = await fetch(`${b.url}/io/items?ids=20`)
      assert.strictEqual(shed.status, 503)
      assert.strictEqual(shed.headers.get("retry-after"), "1")
      assert.deepStrictEqual(await shed.json(), { error: "Overloaded", executor: "io" })

      // the client goes away: its 4 tasks end cancelled, the 2 running upstream requests are aborted
      holder.abort()
      assert.instanceOf(await held, Error)
      await until("4 I/O tasks cancelled", async () => (await ioSettled(b, "cancelled")) === cancelledBefore + 4)
      await until("2 upstream requests aborted", async () => (await upstreamStats(b)).aborted === abortedBefore + 2)
      assert.deepInclude((await ioStats(b)).stats, { running: 0, queued: 0 })

      // the per-request deadline (3 s here): 504, and the task is cancelled
      const slow = await fetch(`${b.url}/io/items?ids=30&delay=20000`)
      assert.strictEqual(slow.status, 504)
      assert.deepStrictEqual(await slow.json(), { error: "Timeout", timeoutMs: 3000 })
      await until("the timed-out task cancelled", async () => (await ioSettled(b, "cancelled")) === cancelledBefore + 5)

      // /metrics: Prometheus text with the executors' metrics and the HTTP ones
      const metrics = await scrape(b.url)
      assert.match(metrics, /^# TYPE effect_futures_queue_wait_ms histogram$/m)
      assert.match(metrics, /^effect_futures_task_run_ms_bucket\{executor="cpu",le="\+Inf"\} \d+$/m)
      assert.strictEqual(metricValue(metrics, "effect_futures_queue_depth", { executor: "io" }), 0)
      assert.strictEqual(metricValue(metrics, "effect_futures_running", { executor: "io" }), 0)
      assert.strictEqual(metricValue(metrics, "http_requests_total", { route: "io_items", status: "503" }), 1)
      assert.strictEqual(metricValue(metrics, "http_requests_total", { route: "io_items", status: "499" }), 1)
      assert.strictEqual(metricValue(metrics, "http_requests_total", { route: "cpu_digest", status: "422" }), 1)
      assert.isAbove(metricValue(metrics, "process_resident_memory_bytes")!, 0)

      // a short burst of load: every answer is a correct 200 or a 503, nothing errors or hangs
      const body = "load ".repeat(50)
      const wanted = JSON.stringify(expectedDigest(body, 200))
      const wrong: Array<string> = []
      const result = await autocannon({
        url: b.url,
        connections: 6,
        duration: 1,
        timeout: 5,
        requests: [
          {
            method: "POST",
            path: "/cpu/digest?rounds=200",
            body,
            onResponse: (status: number, got: string) => {
              if (status !== 503 && (status !== 200 || got !== wanted)) wrong.push(`${status} ${got}`)
            }
          }
        ]
      })
      assert.deepStrictEqual(wrong, [])
      assert.strictEqual(result.errors, 0)
      assert.strictEqual(result.timeouts, 0)
      assert.isAbove(result["2xx"], 0)

      // SIGTERM with a request in flight: the listener closes, the request is answered, exit 0
      const inFlight = fetch(`${b.url}/io/items?ids=40&delay=600`)
      await until("the upstream request in flight", async () => (await upstreamStats(b)).inFlight === 1)
      b.child.kill("SIGTERM")
      await until("new connections refused", () => connectRefused(b.url))
      const answered = await inFlight
      assert.strictEqual(answered.status, 200)
      assert.strictEqual(answered.headers.get("connection"), "close")
      assert.deepStrictEqual(await answered.json(), { items: [itemFor(40)], total: itemFor(40).price })
      assert.deepStrictEqual(await b.exited, { code: 0, signal: null })
      // the server's counts when the drain began and when it ended: the request in flight was answered, none interrupted
      const atSignal = /draining in-flight requests \((\d+) answered, (\d+) interrupted so far\)/.exec(b.output())
      const atStop = /stopped: (\d+) requests answered, (\d+) interrupted/.exec(b.output())
      assert.isNotNull(atSignal, b.output())
      assert.isNotNull(atStop, b.output())
      assert.strictEqual(Number(atStop![1]), Number(atSignal![1]) + 1)
      assert.strictEqual(atStop![2], atSignal![2])
    })
  })

  it("/health reports a broken executor (its workers fail to initialize); its route answers 503", async () => {
    await withBackend({ BACKEND_CPU_INIT: "fail", BACKEND_CPU_WORKERS: "1" }, async (b) => {
      const health = await fetch(`${b.url}/health`)
      assert.strictEqual(health.status, 503)
      const report = (await health.json()) as {
        status: string
        executors: { io: { state: string }; cpu: { state: string; reason: string } }
      }
      assert.strictEqual(report.status, "unhealthy")
      assert.strictEqual(report.executors.io.state, "ok")
      assert.strictEqual(report.executors.cpu.state, "broken")
      assert.match(report.executors.cpu.reason, /executor "cpu" is broken/)
      const digest = await fetch(`${b.url}/cpu/digest`, { method: "POST", body: "x" })
      assert.strictEqual(digest.status, 503)
      assert.deepStrictEqual(await digest.json(), { error: "Unavailable", executor: "cpu" })
      b.child.kill("SIGTERM")
      assert.deepStrictEqual(await b.exited, { code: 0, signal: null })
    })
  })
})
