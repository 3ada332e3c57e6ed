// Smoke test of examples/scraper: runs the whole scraper in-process against its
// real local HTTP server, with small delays, and checks what happened to every
// URL in both passes. Never asserts on speed (2 shared cores): only on outcomes,
// attempt counts (client side and server side), bodies, and lower bounds that
// the retry schedule guarantees.
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { type Row, runScraper, type Run } from "../../examples/scraper/scraper.ts"
import { flakyHtml, pageHtml } from "../../examples/scraper/server.ts"

const options = {
  pages: 6,
  pageDelayMs: (n: number) => 5 + n,
  maxWorkers: 4,
  timeoutMs: 500,
  slowDelayMs: 30_000,
  flakyFailures: 2,
  retryBaseMs: 5,
  maxRetries: 3,
  deadlineMs: 500
}

const rowFor = (run: Run, path: string): Row => {
  const row = run.rows.find((r) => r.url.split("?")[0] === path)
  assert.isDefined(row, `no row for ${path}`)
  return row!
}

const checkRun = (run: Run) => {
  assert.strictEqual(run.rows.length, options.pages + 4)

  const missing = rowFor(run, "/missing")
  assert.deepInclude(missing, { outcome: "client-error", status: 404, attempts: 1, bytes: 0 })
  assert.strictEqual(run.hits["/missing"], 1, "a 404 is not retried")

  const recovers = rowFor(run, "/flaky/recovers")
  assert.deepInclude(recovers, {
    outcome: "ok",
    status: 200,
    attempts: options.flakyFailures + 1,
    detail: "Flaky recovers",
    bytes: Buffer.byteLength(flakyHtml("recovers")),
    links: 1
  })
  assert.strictEqual(run.hits["/flaky/recovers"], options.flakyFailures + 1)
  // two backoffs (5 ms, 10 ms) passed between the three attempts
  assert.isAtLeast(recovers.ms, 15)

  const down = rowFor(run, "/flaky/down")
  assert.deepInclude(down, { outcome: "server-error", status: 500, attempts: options.maxRetries + 1, bytes: 0 })
  assert.strictEqual(run.hits["/flaky/down"], options.maxRetries + 1)
  assert.isAtLeast(down.ms, 5 + 10 + 20)

  const slow = rowFor(run, "/slow")
  assert.deepInclude(slow, { outcome: "timeout", status: undefined, attempts: 1, bytes: 0 })

  for (let n = 1; n <= options.pages; n++) {
    const html = pageHtml(n)
    assert.deepInclude(rowFor(run, `/page/${n}`), {
      url: `/page/${n}?delay=${5 + n}`,
      outcome: "ok",
      status: 200,
      attempts: 1,
      bytes: Buffer.byteLength(html),
      links: (n % 5) + 1,
      detail: `Page ${n}`
    })
    assert.strictEqual(run.hits[`/page/${n}`], 1)
  }
}

describe("examples/scraper", () => {
  it.live(
    "runScraper - real outcomes per URL, the same in both passes; cancelled requests reach the server; the server is closed",
    () =>
      Effect.gen(function* () {
        const summary = yield* runScraper(options)
        checkRun(summary.sequential)
        checkRun(summary.concurrent)

        const withoutMs = (run: Run) => run.rows.map(({ ms: _, ...rest }) => rest)
        assert.deepStrictEqual(withoutMs(summary.concurrent), withoutMs(summary.sequential))
        assert.isTrue(summary.sameResults)
        assert.deepStrictEqual(summary.counts, {
          ok: options.pages + 1,
          "client-error": 1,
          "server-error": 1,
          timeout: 1,
          "transport-error": 0,
          other: 0
        })

        assert.deepStrictEqual(summary.deadline, {
          deadlineMs: options.deadlineMs,
          submitted: 7,
          done: 4,
          cancelled: 3,
          abortSeenByServer: true
        })

        // the scope closed the server: nothing listens on its port any more
        const after = yield* Effect.exit(Effect.tryPromise(() => fetch(`${summary.baseUrl}/page/1`)))
        assert.strictEqual(after._tag, "Failure")
      }),
    15_000
  )
})
