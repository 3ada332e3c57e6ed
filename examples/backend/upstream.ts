// The upstream the I/O route fans out to: a second local HTTP server on
// 127.0.0.1 (ephemeral port), started by the backend itself as a Layer.
//
//   GET /item/:id?delay=ms   after `delay` ms:
//                            id 0–899   200, the item (itemFor(id))
//                            id 900–998 404 (the backend answers 404 ItemNotFound)
//                            id 999     200 with a malformed body: a broken contract,
//                                       a defect in the backend (it answers 500, no details)
//   GET /stats               { requests, aborted, inFlight }
//
// `aborted` counts requests whose client went away before the answer: that is
// how the smoke test sees that a cancelled task really stopped its request.
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as http from "node:http"
import type { AddressInfo } from "node:net"

export interface Item {
  readonly id: number
  readonly name: string
  readonly price: number
}

/** The item the upstream serves for `id` (0–899). */
export const itemFor = (id: number): Item => ({ id, name: `item-${id}`, price: (id * 37) % 100 })

export interface UpstreamStats {
  readonly requests: number
  readonly aborted: number
  readonly inFlight: number
}

export class Upstream extends Context.Service<
  Upstream,
  { readonly url: string; readonly stats: () => UpstreamStats }
>()("backend/Upstream") {
  /** Listens on 127.0.0.1 (ephemeral port) while the layer lives; releasing it closes every connection. */
  static readonly layer = Layer.effect(
    Upstream,
    Effect.acquireRelease(
      Effect.callback<{ readonly server: http.Server; readonly stats: () => UpstreamStats }>((resume) => {
        let requests = 0
        let aborted = 0
        let inFlight = 0
        const server = http.createServer((req, res) => {
          const url = new URL(req.url ?? "/", "http://upstream")
          if (url.pathname === "/stats") {
            res.writeHead(200, { "content-type": "application/json" })
            res.end(JSON.stringify({ requests, aborted, inFlight }))
            return
          }
          const match = /^\/item\/(\d+)$/.exec(url.pathname)
          if (req.method !== "GET" || match === null) {
            res.writeHead(404).end()
            return
          }
          requests++
          inFlight++
          const id = Number(match[1])
          const delay = Math.min(Math.max(Number(url.searchParams.get("delay") ?? 0) || 0, 0), 60_000)
          const timer = setTimeout(() => {
            if (id >= 900 && id < 999) {
              res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "not found" }))
            } else if (id === 999) {
              res.writeHead(200, { "content-type": "application/json" }).end(`{"id":"999","name":`)
            } else {
              res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(itemFor(id)))
            }
          }, delay)
          res.on("close", () => {
            inFlight--
            clearTimeout(timer)
            if (!res.writableFinished) aborted++
          })
        })
        server.keepAliveTimeout = 30_000
        server.listen(0, "127.0.0.1", () =>
          resume(Effect.succeed({ server, stats: () => ({ requests, aborted, inFlight }) }))
        )
      }),
      ({ server }) =>
        Effect.callback<void>((resume) => {
          server.close(() => resume(Effect.void))
          server.closeAllConnections()
        })
    ).pipe(
      Effect.map(({ server, stats }) =>
        Upstream.of({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, stats })
      )
    )
  )
}
