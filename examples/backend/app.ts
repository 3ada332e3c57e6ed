// The backend's routes. Handlers reach the executors only through their
// service tags (IoExecutor, CpuExecutor): which executors, how big, with which
// queues, is decided in one place (main.ts), so swapping an executor (another
// size, another implementation of the same tag) is a change to that file only.
//
//   POST /cpu/digest?rounds=N   body: text (≤ maxBodyBytes). A CPU-heavy transform on the CpuExecutor.
//   GET  /io/items?ids=1,2,3&delay=ms
//                               fans out one upstream request per id on the IoExecutor, in parallel;
//                               answers the items and their total price
//   GET  /health                probes both executors: 200 ok, 503 broken / draining
//   GET  /metrics               Prometheus text format (effect's PrometheusMetrics over effect's Metric registry)
//
// Errors: a full queue is 503 with Retry-After; typed task errors are 4xx with
// a JSON body; a request over its deadline is 504 (its tasks are cancelled);
// a defect is 500 with no detail (it is logged here, never sent).
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as Schema from "effect/Schema"
import * as ByteSize from "effect/ByteSize"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as HttpIncomingMessage from "effect/http/HttpIncomingMessage"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as PrometheusMetrics from "effect/observability/PrometheusMetrics"
import { CpuExecutor } from "effect-futures/CpuExecutor"
import type {
  BrokenExecutorError,
  CancelledError,
  ExecutorShutdownError,
  QueueFullError,
  TaskCodecError,
  WorkerCrashedError
} from "effect-futures/ExecutorError"
import * as Future from "effect-futures/Future"
import { IoExecutor } from "effect-futures/IoExecutor"
import { Digest, type InvalidRounds, Ping } from "./tasks.ts"
import { Upstream } from "./upstream.ts"

// ---------------------------------------------------------------------------
// Configuration and the draining signal
// ---------------------------------------------------------------------------

export interface Settings {
  /** Deadline of one request, queue wait included: past it the request is answered 504 and its tasks cancelled. */
  readonly requestTimeoutMs: number
  /** The Retry-After of a 503 (seconds). */
  readonly retryAfterSeconds: number
  readonly maxBodyBytes: number
  /** Most ids one /io/items request may ask for. */
  readonly maxFanout: number
}

export class BackendSettings extends Context.Service<BackendSettings, Settings>()("backend/Settings") {}

/** Tells the handlers that shutdown has begun (the listener is closed): answers then carry `Connection: close`. */
export class Draining extends Context.Service<Draining, { readonly draining: () => boolean }>()("backend/Draining") {}

// ---------------------------------------------------------------------------
// Errors of the handlers (the executors' and the tasks' own come typed)
// ---------------------------------------------------------------------------

export class BadRequest extends Schema.TaggedError<BadRequest>()("BadRequest", { message: Schema.String }) {}

export class BodyTooLarge extends Schema.TaggedError<BodyTooLarge>()("BodyTooLarge", { limit: Schema.Number }) {}

export class ItemNotFound extends Schema.TaggedError<ItemNotFound>()("ItemNotFound", { id: Schema.Number }) {}

export class UpstreamFailed extends Schema.TaggedError<UpstreamFailed>()("UpstreamFailed", {
  status: Schema.optional(Schema.Number)
}) {}

const Item = Schema.Struct({ id: Schema.Number, name: Schema.String, price: Schema.Number })

type Json = Record<string, unknown>

const reply = (status: number, body: Json, headers: Record<string, string> = {}) =>
  HttpServerResponse.jsonUnsafe(body, { status, headers })

/** Every error a route may fail with: the executors' (submission and future), the tasks', the handlers'. */
export type RouteError =
  | QueueFullError
  | ExecutorShutdownError
  | BrokenExecutorError
  | CancelledError
  | Cause.TimeoutError
  | WorkerCrashedError
  | TaskCodecError
  | InvalidRounds
  | ItemNotFound
  | BadRequest
  | BodyTooLarge
  | UpstreamFailed

/**
 * The answer to each typed error. The switch is exhaustive: a route that can
 * fail with an error not listed in `RouteError` does not compile.
 */
const answer = (error: RouteError, settings: Settings): HttpServerResponse.HttpServerResponse => {
  const retry = { "retry-after": String(settings.retryAfterSeconds) }
  switch (error._tag) {
    // load shedding: the executor's bounded queue is full (whenFull: "fail")
    case "QueueFullError":
      return reply(503, { error: "Overloaded", executor: error.executor }, retry)
    case "ExecutorShutdownError":
      return reply(503, { error: "ShuttingDown" }, retry)
    case "BrokenExecutorError":
      return reply(503, { error: "Unavailable", executor: error.executor }, retry)
    case "CancelledError":
      return reply(503, { error: "Cancelled" }, retry)
    case "TimeoutError":
      return reply(504, { error: "Timeout", timeoutMs: settings.requestTimeoutMs })
    // the tasks' and handlers' typed errors: the client's, said with a body
    case "InvalidRounds":
      return reply(422, { error: "InvalidRounds", message: error.message, rounds: error.rounds, max: error.max })
    case "ItemNotFound":
      return reply(404, { error: "ItemNotFound", id: error.id })
    case "BadRequest":
      return reply(400, { error: "BadRequest", message: error.message })
    case "BodyTooLarge":
      return reply(413, { error: "BodyTooLarge", limit: error.limit })
    case "UpstreamFailed":
      return reply(502, { error: "UpstreamFailed" })
    // a worker died under the task, a value that cannot cross threads: ours, not the client's (logged, not sent)
    case "WorkerCrashedError":
    case "TaskCodecError":
      return reply(500, { error: "Internal" })
  }
}

// ---------------------------------------------------------------------------
// HTTP metrics (next to the executors' own, in effect's registry)
// ---------------------------------------------------------------------------

const boundaries = Metric.exponentialBoundaries({ start: 0.25, factor: 2, count: 16 })
const counters = new Map<string, Metric.Counter<number>>()
const durations = new Map<string, Metric.Histogram<number>>()
const requestsTotal = (route: string, status: number) => {
  const key = `${route} ${status}`
  let counter = counters.get(key)
  if (counter === undefined) {
    counter = Metric.counter("http_requests_total", {
      description: "HTTP requests answered, by route and status (499: the client went away first)",
      attributes: { route, status: String(status) },
      incremental: true
    })
    counters.set(key, counter)
  }
  return counter
}
const requestDuration = (route: string) => {
  let histogram = durations.get(route)
  if (histogram === undefined) {
    histogram = Metric.histogram("http_request_duration_ms", {
      description: "Time to answer a request, in milliseconds",
      attributes: { route },
      boundaries
    })
    durations.set(route, histogram)
  }
  return histogram
}
const inFlight = Metric.gauge("http_requests_in_flight", { description: "Requests being handled" })
let inFlightCount = 0
let answered = 0
let interrupted = 0

/** Requests answered, and requests interrupted before an answer (client gone, or the drain deadline), since start. */
export const requestCounts = () => ({ answered, interrupted })

/**
 * Wraps a route: typed errors become their answers, defects a bare 500 (the
 * cause is logged, not sent), every answer is counted and timed, and while
 * draining every answer says `Connection: close`.
 */
const route = <E extends RouteError, R>(
  name: string,
  handler: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
) =>
  Effect.gen(function* () {
    const settings = yield* BackendSettings
    const { draining } = yield* Draining
    const start = performance.now()
    inFlightCount++
    const response = yield* handler.pipe(
      // the request's deadline, queue wait included: on expiry its scope closes and its tasks are cancelled
      Effect.timeout(settings.requestTimeoutMs),
      Effect.catch((error) =>
        Effect.as(
          error._tag === "WorkerCrashedError" || error._tag === "TaskCodecError"
            ? Effect.logError(`${name}: ${error.message}`)
            : Effect.void,
          answer(error, settings)
        )
      ),
      Effect.catchDefect((defect) =>
        Effect.as(
          Effect.logError(`${name}: defect`, Cause.pretty(Cause.die(defect))),
          reply(500, { error: "Internal" })
        )
      ),
      Effect.onExit((exit) => {
        inFlightCount--
        const status = exit._tag === "Success" ? exit.value.status : 499
        if (exit._tag === "Success") answered++
        else interrupted++
        return Effect.andThen(
          Metric.update(requestsTotal(name, status), 1),
          Metric.update(requestDuration(name), performance.now() - start)
        )
      })
    )
    return draining() ? HttpServerResponse.setHeader(response, "connection", "close") : response
  })

/** Runs a submitted task to its end; however the request ends (timeout, client gone), the task is cancelled. */
const runTask = <A, E, E2, R>(submit: Effect.Effect<Future.Future<A, E>, E2, R>) =>
  Effect.acquireUseRelease(submit, Future.await, (future) => Future.cancel(future))

const searchParams = Effect.map(
  HttpServerRequest.HttpServerRequest,
  (request) => new URL(request.url, "http://x").searchParams
)

// No task is given a `timeout` of its own: the request's deadline (in `route`)
// covers its queue wait and its run, and cancels whatever is left of it.

// ---------------------------------------------------------------------------
// POST /cpu/digest
// ---------------------------------------------------------------------------

const cpuDigest = Effect.gen(function* () {
  const settings = yield* BackendSettings
  const params = yield* searchParams
  const rounds = Number(params.get("rounds") ?? 1000)
  if (Number.isNaN(rounds)) return yield* new BadRequest({ message: "rounds must be a number" })
  const request = yield* HttpServerRequest.HttpServerRequest
  const text = yield* request.text.pipe(
    Effect.provideService(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(settings.maxBodyBytes)),
    Effect.mapError((e) =>
      e.reason._tag === "RequestParseError" && e.reason.reason === "BodyTooLarge"
        ? new BodyTooLarge({ limit: settings.maxBodyBytes })
        : new BadRequest({ message: "unreadable body" })
    )
  )
  const cpu = yield* CpuExecutor
  const result = yield* runTask(cpu.submit(Digest, { text, rounds }))
  return HttpServerResponse.jsonUnsafe(result)
})

// ---------------------------------------------------------------------------
// GET /io/items
// ---------------------------------------------------------------------------

/** One upstream request, as an I/O task: interrupting it aborts the HTTP request. */
const fetchItem = (id: number, delayMs: number) =>
  Effect.gen(function* () {
    const upstream = yield* Upstream
    const response = yield* HttpClient.get(`${upstream.url}/item/${id}?delay=${delayMs}`).pipe(
      Effect.mapError(() => new UpstreamFailed({}))
    )
    if (response.status === 404) return yield* new ItemNotFound({ id })
    if (response.status !== 200) return yield* new UpstreamFailed({ status: response.status })
    // a body that does not decode breaks the upstream's contract: a defect, not the client's error
    return yield* HttpClientResponse.schemaBodyJson(Item)(response).pipe(Effect.orDie)
  })

const ioItems = Effect.gen(function* () {
  const settings = yield* BackendSettings
  const params = yield* searchParams
  const ids = (params.get("ids") ?? "")
    .split(",")
    .filter((s) => s !== "")
    .map(Number)
  if (ids.length === 0 || ids.length > settings.maxFanout || ids.some((id) => !Number.isInteger(id) || id < 0)) {
    return yield* new BadRequest({ message: `ids: 1 to ${settings.maxFanout} non-negative integers, comma-separated` })
  }
  const delayMs = Math.max(0, Number(params.get("delay") ?? 0) || 0)
  const io = yield* IoExecutor
  const items = yield* Effect.scoped(
    Effect.gen(function* () {
      // every future is cancelled when the scope closes: a failed sibling, the deadline, a client gone
      const futures = yield* Effect.forEach(ids, (id) =>
        Effect.acquireRelease(io.submit(fetchItem(id, delayMs)), (f) => Future.cancel(f))
      )
      return yield* Effect.forEach(futures, Future.await, { concurrency: "unbounded" })
    })
  )
  return HttpServerResponse.jsonUnsafe({ items, total: items.reduce((sum, item) => sum + item.price, 0) })
})

// ---------------------------------------------------------------------------
// GET /health
// ---------------------------------------------------------------------------

type Probe = "ok" | "saturated" | "broken" | "shutting-down" | "unresponsive" | "failing"

const probe = <A, E extends { readonly _tag: string }, E2 extends { readonly _tag: string }>(
  submit: Effect.Effect<Future.Future<A, E>, E2>
): Effect.Effect<{ readonly state: Probe; readonly reason?: string }> =>
  runTask(submit).pipe(
    Effect.timeout("2 seconds"),
    Effect.match({
      onSuccess: () => ({ state: "ok" as const }),
      onFailure: (error: { readonly _tag: string; readonly message?: string }) => {
        switch (error._tag) {
          case "QueueFullError":
            return { state: "saturated" as const }
          case "BrokenExecutorError":
            return { state: "broken" as const, reason: error.message ?? "" }
          case "ExecutorShutdownError":
            return { state: "shutting-down" as const }
          case "TimeoutError":
            return { state: "unresponsive" as const }
          default:
            return { state: "failing" as const, reason: error._tag }
        }
      }
    })
  )

const health = Effect.gen(function* () {
  const { draining } = yield* Draining
  const io = yield* IoExecutor
  const cpu = yield* CpuExecutor
  const [ioProbe, cpuProbe] = yield* Effect.all([probe(io.submit(Effect.void)), probe(cpu.submit(Ping, {}))], {
    concurrency: "unbounded"
  })
  const healthy = (p: { readonly state: Probe }) => p.state === "ok" || p.state === "saturated"
  const ok = !draining() && healthy(ioProbe) && healthy(cpuProbe)
  return reply(ok ? 200 : 503, {
    status: draining() ? "draining" : ok ? "ok" : "unhealthy",
    executors: {
      io: { ...ioProbe, stats: yield* io.stats },
      cpu: { ...cpuProbe, stats: yield* cpu.stats }
    }
  })
})

// ---------------------------------------------------------------------------
// GET /metrics
// ---------------------------------------------------------------------------

const gauge = (name: string, description: string, attributes: Record<string, string> = {}) =>
  Metric.gauge(name, { description, attributes })

/** Point-in-time values that are not events: read at scrape time into gauges, then everything is rendered. */
const metrics = Effect.gen(function* () {
  const io = yield* IoExecutor
  const cpu = yield* CpuExecutor
  for (const [name, stats] of [
    ["io", yield* io.stats],
    ["cpu", yield* cpu.stats]
  ] as const) {
    const executor = { executor: name }
    yield* Metric.update(gauge("effect_futures_running", "Tasks running now", executor), stats.running)
    yield* Metric.update(gauge("effect_futures_queued", "Tasks waiting in the queue now", executor), stats.queued)
    yield* Metric.update(gauge("effect_futures_workers", "Slots alive", executor), stats.workers)
    yield* Metric.update(gauge("effect_futures_max_workers", "The maxWorkers option", executor), stats.maxWorkers)
  }
  const memory = process.memoryUsage()
  yield* Metric.update(gauge("process_resident_memory_bytes", "Resident memory"), memory.rss)
  yield* Metric.update(gauge("nodejs_heap_used_bytes", "V8 heap in use"), memory.heapUsed)
  yield* Metric.update(inFlight, inFlightCount)
  const body = yield* PrometheusMetrics.format()
  return HttpServerResponse.text(body, { contentType: "text/plain; version=0.0.4; charset=utf-8" })
})

// ---------------------------------------------------------------------------
// The routes, as a Layer for HttpRouter.serve
// ---------------------------------------------------------------------------

export const Routes = HttpRouter.addAll([
  HttpRouter.route("POST", "/cpu/digest", route("cpu_digest", cpuDigest)),
  HttpRouter.route("GET", "/io/items", route("io_items", ioItems)),
  HttpRouter.route("GET", "/health", route("health", health)),
  HttpRouter.route("GET", "/metrics", route("metrics", metrics))
])
