// The scraper's target: a local HTTP server on 127.0.0.1 (ephemeral port),
// served by @effect/platform-node, whose endpoints answer after a delay and
// with the statuses a real crawl meets.
//
//   GET /page/:n?delay=ms                     200, an HTML page (pageHtml(n)) after `delay`
//   GET /flaky/:key?failures=k&delay=ms       500 the first k requests per key, then 200
//   GET /slow?delay=ms                        200 after `delay` (longer than the client's timeout)
//   anything else (e.g. /missing)             404
//
// The server counts the requests per path (the ground truth for "how many
// attempts did the client make") and records the requests whose client went
// away before the answer (a timed-out or cancelled request aborts its HTTP
// request, which interrupts the handler here).
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as HttpServer from "effect/http/HttpServer"
import type { ServeError } from "effect/http/HttpServerError"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import type * as Scope from "effect/Scope"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as http from "node:http"

/**
 * The HTML of page `n`: a title, `n % 5 + 1` links and a paragraph of `n + 1`
 * words, so every page has its own size.
 */
export const pageHtml = (n: number): string => {
  const links = Array.from({ length: (n % 5) + 1 }, (_, i) => `<li><a href="/page/${n * 10 + i}">link ${i}</a></li>`)
  const words = Array.from({ length: n + 1 }, (_, i) => ["lorem", "ipsum", "dolor", "sit", "amet"][i % 5]).join(" ")
  return `<!doctype html><html><head><title>Page ${n}</title></head><body><h1>Page ${n}</h1><ul>${links.join("")}</ul><p>${words}</p></body></html>`
}

/** The HTML a flaky endpoint serves once it has recovered. */
export const flakyHtml = (key: string): string =>
  `<!doctype html><html><head><title>Flaky ${key}</title></head><body><a href="/">home</a></body></html>`

/** A running test server. Lives as long as the scope it was started in. */
export interface TestServer {
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string
  /** Requests received per path (without the query), since the last `reset`. */
  readonly hits: () => Record<string, number>
  /** Forgets the hit counts (which are also the flaky endpoints' failure counts) and the aborted requests. */
  readonly reset: Effect.Effect<void>
  /** Succeeds once a request to every one of these paths has been aborted by its client. */
  readonly awaitAborted: (paths: ReadonlyArray<string>) => Effect.Effect<void>
}

/**
 * Starts the server on 127.0.0.1 with an ephemeral port; closing the scope
 * closes it (in-flight handlers are interrupted, the listening socket is
 * released), so a program that uses it exits on its own.
 */
export const start: Effect.Effect<TestServer, ServeError, Scope.Scope> = Effect.gen(function* () {
  const hits = new Map<string, number>()
  const aborted = new Set<string>()
  const abortWaiters = new Set<{ readonly paths: ReadonlyArray<string>; readonly done: Deferred.Deferred<void> }>()
  const wakeAbortWaiters = () => {
    for (const waiter of abortWaiters) {
      if (waiter.paths.every((p) => aborted.has(p))) {
        abortWaiters.delete(waiter)
        Deferred.doneUnsafe(waiter.done, Effect.void)
      }
    }
  }

  const handler = Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const url = new URL(request.url, "http://127.0.0.1")
    const path = url.pathname
    const seen = (hits.get(path) ?? 0) + 1
    hits.set(path, seen)
    const delay = Number(url.searchParams.get("delay") ?? 0)
    const respond = Effect.gen(function* () {
      if (delay > 0) yield* Effect.sleep(delay)
      const page = /^\/page\/(\d+)$/.exec(path)
      if (page !== null) return HttpServerResponse.html(pageHtml(Number(page[1])))
      const flaky = /^\/flaky\/([\w-]+)$/.exec(path)
      if (flaky !== null) {
        const failures = Number(url.searchParams.get("failures") ?? 1)
        return seen <= failures
          ? HttpServerResponse.text(`failure ${seen} of ${failures}`, { status: 500 })
          : HttpServerResponse.html(flakyHtml(flaky[1]!))
      }
      if (path === "/slow") return HttpServerResponse.html(pageHtml(0))
      return HttpServerResponse.text(`no route for ${path}`, { status: 404 })
    })
    return yield* respond.pipe(
      Effect.onInterrupt(() =>
        Effect.sync(() => {
          aborted.add(path)
          wakeAbortWaiters()
        })
      )
    )
  })

  const server = yield* NodeHttpServer.make(() => http.createServer(), { host: "127.0.0.1", port: 0 })
  // effect 4.1.0's HttpEffect.toHandled runs the request's effect in an
  // uninterruptible region when there is no middleware and no tracer backend,
  // so the interrupt NodeHttpServer sends when the client goes away would only
  // land after the handler finished (a /slow request would keep the server,
  // and its shutdown, busy for its full delay). Making the handler
  // interruptible lets that interrupt stop it at once.
  yield* server.serve(Effect.interruptible(handler))

  return {
    baseUrl: HttpServer.formatAddress(server.address),
    hits: () => Object.fromEntries(hits),
    reset: Effect.sync(() => {
      hits.clear()
      aborted.clear()
    }),
    awaitAborted: (paths) =>
      Effect.suspend(() => {
        const waiter = { paths, done: Deferred.makeUnsafe<void>() }
        abortWaiters.add(waiter)
        wakeAbortWaiters()
        return Deferred.await(waiter.done).pipe(Effect.ensuring(Effect.sync(() => abortWaiters.delete(waiter))))
      })
  }
})
