// The scraper: fetches a list of URLs from the local test server (./server.ts)
// with effect's HTTP client, once one at a time and once on an IoExecutor,
// and returns what happened to every URL.
//
// Per URL: one GET, a typed `HttpStatusError` for 4xx/5xx answers, retries of
// 5xx answers only (exponential backoff, a bounded number of retries), and a
// timeout over the whole (request + retries). The timeout is `Effect.timeout`
// in the sequential run and `executor.submit(task, { timeout })` in the
// concurrent one; both fail with `Cause.TimeoutError`, which interrupts the
// task and so aborts its HTTP request.
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientError from "effect/http/HttpClientError"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Future from "effect-futures/Future"
import * as IoExecutor from "effect-futures/IoExecutor"
import * as Server from "./server.ts"

/** A 4xx or 5xx answer: the scraper's own typed error. Only `status >= 500` is retried. */
export class HttpStatusError extends Schema.TaggedError<HttpStatusError>()("HttpStatusError", {
  url: Schema.String,
  status: Schema.Number
}) {}

/** The defaults of {@link Options}, used by `npm run example:scraper`. */
export const defaults = {
  pages: 32,
  pageDelayMs: (n: number): number => 40 + ((n * 37) % 100),
  maxWorkers: 8,
  timeoutMs: 500,
  slowDelayMs: 10_000,
  flakyFailures: 2,
  retryBaseMs: 40,
  maxRetries: 3,
  deadlineMs: 300
} as const

/** What happened to one URL. */
export type Outcome = "ok" | "client-error" | "server-error" | "timeout" | "transport-error" | "other"

/** One line of the results table. */
export interface Row {
  /** Path and query, relative to the server. */
  readonly url: string
  readonly outcome: Outcome
  /** Status of the last answer received (undefined if none arrived). */
  readonly status: number | undefined
  /** Requests sent for this URL (1 + retries). */
  readonly attempts: number
  /** Size of the page's body (0 unless ok). */
  readonly bytes: number
  /** `<a href>` links on the page (0 unless ok). */
  readonly links: number
  /** The page's `<title>` when ok; otherwise why it failed. */
  readonly detail: string
  /** Time from the task's start to its end (timeouts included). */
  readonly ms: number
}

/** One pass over the URL list. */
export interface Run {
  /** Wall time of the whole pass. */
  readonly ms: number
  /** One row per URL, in input order. */
  readonly rows: ReadonlyArray<Row>
  /** Requests the server received per path during this pass: the ground truth for `attempts`. */
  readonly hits: Readonly<Record<string, number>>
}

/** Options of {@link runScraper}; every field has a default for `npm run example:scraper`. */
export interface Options {
  /** How many `/page/:n` URLs to scrape (besides the 4 special ones). Default 32. */
  readonly pages?: number | undefined
  /** The server's delay for page `n`. Default `40 + (n * 37) % 100` ms (40–139 ms). */
  readonly pageDelayMs?: ((n: number) => number) | undefined
  /** Concurrent requests in the concurrent pass (`IoExecutor` `maxWorkers`). Default 8. */
  readonly maxWorkers?: number | undefined
  /** Time allowed per URL, retries included. Default 500 ms. */
  readonly timeoutMs?: number | undefined
  /** The `/slow` endpoint's delay; keep it far above `timeoutMs`. Default 10 s. */
  readonly slowDelayMs?: number | undefined
  /** How many 500s `/flaky/recovers` answers before a 200. Default 2. */
  readonly flakyFailures?: number | undefined
  /** First backoff delay; doubled on every retry. Default 40 ms. */
  readonly retryBaseMs?: number | undefined
  /** Retries after the first attempt (so at most `1 + maxRetries` requests per URL). Default 3. */
  readonly maxRetries?: number | undefined
  /**
   * The cancellation demo's deadline: submit a few fast and a few hung
   * requests, `Future.wait` until the deadline, then cancel what is not done.
   * `false` skips it. Default 300 ms.
   */
  readonly deadlineMs?: number | false | undefined
}

/** The cancellation demo's result. */
export interface DeadlineDemo {
  readonly deadlineMs: number
  readonly submitted: number
  /** Futures done at the deadline (all of them the fast requests). */
  readonly done: number
  /** Futures for which `Future.cancel` returned true. */
  readonly cancelled: number
  /** Whether the server saw every cancelled request aborted by the client (waited for at most 2 s). */
  readonly abortSeenByServer: boolean
}

/** What {@link runScraper} returns. */
export interface Summary {
  readonly baseUrl: string
  readonly maxWorkers: number
  readonly timeoutMs: number
  readonly sequential: Run
  readonly concurrent: Run
  /** Rows per outcome, in the concurrent pass. */
  readonly counts: Readonly<Record<Outcome, number>>
  /** `sequential.ms / concurrent.ms` */
  readonly speedup: number
  /** Whether both passes produced the same rows (ignoring `ms`). */
  readonly sameResults: boolean
  readonly deadline: DeadlineDemo | undefined
}

/** The URL list: the pages, with the four special endpoints spread through it (`/slow` first, so it overlaps the rest). */
export const targets = (options: Options = {}): ReadonlyArray<string> => {
  const pages = options.pages ?? defaults.pages
  const delay = options.pageDelayMs ?? defaults.pageDelayMs
  const urls = Array.from({ length: pages }, (_, i) => `/page/${i + 1}?delay=${delay(i + 1)}`)
  const at = (fraction: number) => Math.round(pages * fraction)
  // insert from the back so the earlier positions stay valid
  urls.splice(at(0.75), 0, `/flaky/down?failures=1000&delay=${delay(0)}`)
  urls.splice(
    at(0.5),
    0,
    `/flaky/recovers?failures=${options.flakyFailures ?? defaults.flakyFailures}&delay=${delay(0)}`
  )
  urls.splice(at(0.25), 0, `/missing`)
  urls.unshift(`/slow?delay=${options.slowDelayMs ?? defaults.slowDelayMs}`)
  return urls
}

/** What a task writes as it runs, read once its future has settled (a timed-out task's value is lost, these are not). */
interface Probe {
  attempts: number
  status: number | undefined
  start: number
  end: number
}

interface Page {
  readonly bytes: number
  readonly links: number
  readonly title: string
}

const parsePage = (html: string): Page => ({
  bytes: Buffer.byteLength(html),
  links: html.match(/<a\s[^>]*href=/g)?.length ?? 0,
  title: /<title>(.*?)<\/title>/.exec(html)?.[1] ?? ""
})

/**
 * Scrapes one URL: GET, typed error for 4xx/5xx, 5xx retried with exponential
 * backoff. Never times itself out: the caller bounds it.
 */
const scrape = (client: HttpClient.HttpClient, url: string, probe: Probe, options: Options) => {
  const attempt = Effect.gen(function* () {
    probe.attempts++
    const response = yield* client.get(url)
    const body = yield* response.text
    probe.status = response.status
    if (response.status >= 400) return yield* new HttpStatusError({ url, status: response.status })
    return parsePage(body)
  })
  const retries = Schedule.exponential(options.retryBaseMs ?? defaults.retryBaseMs).pipe(
    Schedule.upTo({ times: options.maxRetries ?? defaults.maxRetries })
  )
  return attempt.pipe(
    Effect.retry({
      schedule: retries,
      while: (error) => error._tag === "HttpStatusError" && error.status >= 500
    })
  )
}

/** Records the task's start and end on its probe; the end is written even when the task is interrupted. */
const timed = <A, E, R>(probe: Probe, task: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Clock.currentTimeMillis, (start) => {
    probe.start = start
    return task
  }).pipe(Effect.ensuring(Effect.map(Clock.currentTimeMillis, (end) => void (probe.end = end))))

const toRow = (url: string, exit: Exit.Exit<Page, unknown>, probe: Probe, timeoutMs: number): Row => {
  const base = { url, status: probe.status, attempts: probe.attempts, ms: probe.end - probe.start }
  if (Exit.isSuccess(exit)) {
    const { bytes, links, title } = exit.value
    return { ...base, outcome: "ok", bytes, links, detail: title }
  }
  const failed = (outcome: Outcome, detail: string): Row => ({ ...base, outcome, bytes: 0, links: 0, detail })
  const error = Cause.squash(exit.cause)
  if (Cause.isTimeoutError(error)) return failed("timeout", `no answer within ${timeoutMs} ms`)
  if (error instanceof HttpStatusError) {
    return error.status >= 500
      ? failed("server-error", `${error.status} after ${probe.attempts} attempts`)
      : failed("client-error", `${error.status}, not retried`)
  }
  if (HttpClientError.isHttpClientError(error)) return failed("transport-error", error.message)
  return failed("other", String(error))
}

const newProbe = (): Probe => ({ attempts: 0, status: undefined, start: 0, end: 0 })

const elapsed = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const start = yield* Clock.currentTimeMillis
    const a = yield* self
    return [a, (yield* Clock.currentTimeMillis) - start] as const
  })

/** One URL at a time, each bounded by `Effect.timeout`. */
const runSequential = (client: HttpClient.HttpClient, urls: ReadonlyArray<string>, options: Options) => {
  const timeoutMs = options.timeoutMs ?? defaults.timeoutMs
  return Effect.forEach(urls, (url) => {
    const probe = newProbe()
    return timed(probe, scrape(client, url, probe, options)).pipe(
      Effect.timeout(timeoutMs),
      Effect.exit,
      Effect.map((exit) => toRow(url, exit, probe, timeoutMs))
    )
  })
}

/** Every URL submitted at once to the executor, each bounded by `submit`'s `timeout`; rows read back in input order. */
const runConcurrent = (
  executor: IoExecutor.IoExecutorShape,
  client: HttpClient.HttpClient,
  urls: ReadonlyArray<string>,
  options: Options
) => {
  const timeoutMs = options.timeoutMs ?? defaults.timeoutMs
  return Effect.gen(function* () {
    const jobs = yield* Effect.forEach(urls, (url) => {
      const probe = newProbe()
      return Effect.map(
        executor.submit(timed(probe, scrape(client, url, probe, options)), { timeout: timeoutMs }),
        (future) => ({
          url,
          probe,
          future
        })
      )
    })
    return yield* Effect.forEach(jobs, ({ future, probe, url }) =>
      Effect.map(Future.exit(future), (exit) => toRow(url, exit, probe, timeoutMs))
    )
  })
}

/**
 * Submits `fast` quick requests and `hung` ones that would take `slowDelayMs`,
 * waits until the deadline with `Future.wait`, then cancels whatever is not
 * done: cancelling a running future interrupts its fiber, which aborts the
 * HTTP request; the server then sees its handler interrupted.
 */
const runDeadlineDemo = (
  executor: IoExecutor.IoExecutorShape,
  client: HttpClient.HttpClient,
  server: Server.TestServer,
  deadlineMs: number,
  options: Options
) =>
  Effect.gen(function* () {
    const fast = [10, 20, 30, 40].map((delay, i) => `/page/${900 + i}?delay=${delay}`)
    const hung = [0, 1, 2].map((i) => `/page/${950 + i}?delay=${options.slowDelayMs ?? defaults.slowDelayMs}`)
    const paths = [...fast, ...hung]
    const futures = yield* Effect.forEach(paths, (path) =>
      executor.submit(scrape(client, server.baseUrl + path, newProbe(), options))
    )
    const { done, notDone } = yield* Future.wait(futures, { timeout: deadlineMs })
    const cancelled = yield* Future.cancelAll(notDone)
    // the server's handlers for these paths must have been interrupted (their client went away)
    const abortedPaths = [...notDone].map((f) => paths[futures.indexOf(f)]!.split("?")[0]!)
    const abortSeenByServer = yield* server.awaitAborted(abortedPaths).pipe(
      Effect.timeout(2000),
      Effect.as(true),
      Effect.catch(() => Effect.succeed(false))
    )
    return {
      deadlineMs,
      submitted: futures.length,
      done: done.size,
      cancelled: cancelled.filter(Boolean).length,
      abortSeenByServer
    } satisfies DeadlineDemo
  })

const outcomes: ReadonlyArray<Outcome> = ["ok", "client-error", "server-error", "timeout", "transport-error", "other"]

const withoutMs = (rows: ReadonlyArray<Row>) => JSON.stringify(rows.map(({ ms: _, ...rest }) => rest))

/**
 * Starts the local server, scrapes the URL list sequentially and then
 * concurrently on an `IoExecutor` with `maxWorkers` slots, runs the
 * cancellation demo, and closes everything (server, HTTP client, executor)
 * before returning. Never fails: every URL's outcome is a row.
 */
export const runScraper = (options: Options = {}): Effect.Effect<Summary> =>
  Effect.gen(function* () {
    const server = yield* Server.start
    const client = yield* HttpClient.HttpClient
    const urls = targets(options).map((path) => server.baseUrl + path)
    const maxWorkers = options.maxWorkers ?? defaults.maxWorkers
    const timeoutMs = options.timeoutMs ?? defaults.timeoutMs

    // warm-up: one connection opened and the code paths compiled before either pass is timed
    yield* Effect.ignore(client.get(`${server.baseUrl}/page/0`).pipe(Effect.flatMap((r) => r.text)))

    const pass = <E, R>(run: Effect.Effect<ReadonlyArray<Row>, E, R>) =>
      Effect.gen(function* () {
        yield* server.reset
        const [rows, ms] = yield* elapsed(run)
        const relative = rows.map((row) => ({ ...row, url: row.url.slice(server.baseUrl.length) }))
        return { ms, rows: relative, hits: server.hits() } satisfies Run
      })

    const sequential = yield* pass(runSequential(client, urls, options))
    const executor = yield* IoExecutor.make({ maxWorkers, name: "scraper" })
    const concurrent = yield* pass(runConcurrent(executor, client, urls, options))

    const deadlineMs = options.deadlineMs ?? defaults.deadlineMs
    let deadline: DeadlineDemo | undefined
    if (deadlineMs !== false) {
      yield* server.reset
      deadline = yield* runDeadlineDemo(executor, client, server, deadlineMs, options)
    }

    const counts = Object.fromEntries(outcomes.map((o) => [o, 0])) as Record<Outcome, number>
    for (const row of concurrent.rows) counts[row.outcome]++
    return {
      baseUrl: server.baseUrl,
      maxWorkers,
      timeoutMs,
      sequential,
      concurrent,
      counts,
      speedup: sequential.ms / Math.max(1, concurrent.ms),
      sameResults: withoutMs(sequential.rows) === withoutMs(concurrent.rows),
      deadline
    } satisfies Summary
  }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici), Effect.orDie)
