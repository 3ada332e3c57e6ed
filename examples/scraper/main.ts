// Worked example: a web scraper on the I/O executor.
//
//   npm run example:scraper             (8 concurrent requests)
//   npm run example:scraper -- 16       (16 concurrent requests)
//
// Starts a local HTTP server (./server.ts: pages with delays, a flaky endpoint,
// an endpoint that is always down, a 404 and one that never answers in time),
// scrapes 36 URLs from it with effect's HTTP client, first one at a time and
// then concurrently on an `IoExecutor`, and prints what happened to every URL
// and the speed-up. Then it shows a deadline: `Future.wait` with a timeout,
// and `Future.cancel` of the requests still running (the server sees them
// aborted). The server, client and executor are closed before the process
// exits. The logic lives in ./scraper.ts (`runScraper`), which the smoke test
// (test/examples/scraper.test.ts) also runs.
import * as Effect from "effect/Effect"
import { defaults, type Row, runScraper, type Run } from "./scraper.ts"

const maxWorkers = Number(process.argv[2] ?? defaults.maxWorkers)

const label = (row: Row): string => {
  switch (row.outcome) {
    case "ok":
      return `ok ${row.status}`
    case "client-error":
      return `${row.status} (not retried)`
    case "server-error":
      return `${row.status} after retries`
    case "timeout":
      return "timeout"
    case "transport-error":
      return "transport error"
    case "other":
      return "other error"
  }
}

const table = (sequential: Run, concurrent: Run): string => {
  const header = ["url", "result", "attempts", "bytes", "links", "title / reason", "seq ms", "conc ms"]
  const lines = concurrent.rows.map((row, i) => [
    row.url,
    label(row),
    String(row.attempts),
    String(row.bytes),
    String(row.links),
    row.detail,
    String(sequential.rows[i]!.ms),
    String(row.ms)
  ])
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c]!.length)))
  const numeric = new Set([2, 3, 4, 6, 7])
  const format = (cells: ReadonlyArray<string>) =>
    cells.map((cell, c) => (numeric.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join("  ")
  return [format(header), format(widths.map((w) => "-".repeat(w))), ...lines.map(format)].join("\n")
}

/** Whether the server received exactly `attempts` requests for every URL. */
const hitsMatch = (run: Run) => run.rows.every((row) => run.hits[row.url.split("?")[0]!] === row.attempts)

const program = Effect.gen(function* () {
  const summary = yield* runScraper({ maxWorkers })
  const { concurrent, counts, deadline, sequential } = summary
  const out: Array<string> = []
  const backoff = Array.from({ length: defaults.maxRetries }, (_, i) => `${defaults.retryBaseMs * 2 ** i} ms`)
  const line = (name: string, value: string) => `${name.padEnd(42)}${value.padStart(8)}`
  out.push(
    `Scraped ${concurrent.rows.length} URLs from ${summary.baseUrl}: ${summary.timeoutMs} ms allowed per URL, ` +
      `5xx answers retried after ${backoff.join(", ")}, 4xx never retried.`,
    "",
    table(sequential, concurrent),
    "",
    `outcomes: ${counts.ok} ok, ${counts["client-error"]} client error (4xx), ` +
      `${counts["server-error"]} server error after retries, ${counts.timeout} timeout` +
      (counts["transport-error"] + counts.other > 0 ? `, ${counts["transport-error"] + counts.other} other` : ""),
    line("sequential (one at a time):", `${sequential.ms} ms`),
    line(`concurrent (IoExecutor, maxWorkers ${summary.maxWorkers}):`, `${concurrent.ms} ms`),
    line("speed-up:", `${summary.speedup.toFixed(1)}x`),
    `same results in both passes: ${summary.sameResults ? "yes" : "NO"}; ` +
      `server hits = attempts for every URL: ${hitsMatch(sequential) && hitsMatch(concurrent) ? "yes" : "NO"}`
  )
  if (deadline !== undefined) {
    out.push(
      `deadline: ${deadline.submitted} requests submitted, ${deadline.done} done within ${deadline.deadlineMs} ms, ` +
        `${deadline.cancelled} cancelled; the server saw them aborted: ${deadline.abortSeenByServer ? "yes" : "NO"}`
    )
  }
  console.log(out.join("\n"))
  if (!summary.sameResults) process.exitCode = 1
})

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
