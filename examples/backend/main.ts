// The backend: every Layer is provided here, in one place. The handlers
// (app.ts) only ask for the IoExecutor and CpuExecutor tags.
//
//   npm run example:backend          (listens on 127.0.0.1:3000; BACKEND_PORT=0 picks a free port)
//
// Environment (all optional):
//   BACKEND_PORT                 3000
//   BACKEND_CPU_WORKERS          cores        worker threads of the CpuExecutor
//   BACKEND_CPU_QUEUE            2×workers    tasks that may wait for a worker; more are shed (503)
//   BACKEND_IO_WORKERS           64           concurrent upstream requests
//   BACKEND_IO_QUEUE             64           upstream requests that may wait; more are shed (503)
//   BACKEND_REQUEST_TIMEOUT_MS   2000         one request's deadline, queue wait included (504)
//   BACKEND_DRAIN_MS             10000        on SIGTERM, how long in-flight requests may take
//   BACKEND_CPU_INIT=fail        the CPU workers' initialization fails: the executor is broken, /health says so
//
// SIGTERM (or Ctrl-C): the listener closes (new connections are refused),
// requests in flight finish (their answers carry `Connection: close`), then
// the executors shut down (every task settles), then the upstream; exit 0.
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Cause from "effect/Cause"
import * as Layer from "effect/Layer"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServer from "effect/http/HttpServer"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as CpuExecutor from "effect-futures/CpuExecutor"
import * as IoExecutor from "effect-futures/IoExecutor"
import * as http from "node:http"
import * as os from "node:os"
import { BackendSettings, Draining, requestCounts, Routes } from "./app.ts"
import { Upstream } from "./upstream.ts"

const env = (name: string, fallback: number) => {
  const value = process.env[name]
  return value === undefined || value === "" ? fallback : Number(value)
}

const port = env("BACKEND_PORT", 3000)
const cpuWorkers = env("BACKEND_CPU_WORKERS", os.availableParallelism())
const drainMs = env("BACKEND_DRAIN_MS", 10_000)

// --- the executors: sizes, queues and what a full queue does --------------

const Executors = Layer.mergeAll(
  IoExecutor.layer({
    name: "io",
    maxWorkers: env("BACKEND_IO_WORKERS", 64),
    maxQueue: env("BACKEND_IO_QUEUE", 64),
    whenFull: "fail"
  }),
  CpuExecutor.layer({
    name: "cpu",
    worker: new URL("./worker.ts", import.meta.url),
    maxWorkers: cpuWorkers,
    minWorkers: cpuWorkers,
    maxQueue: env("BACKEND_CPU_QUEUE", 2 * cpuWorkers),
    whenFull: "fail",
    cancelGracePeriod: "200 millis",
    workerData: { init: process.env.BACKEND_CPU_INIT }
  })
)

// --- the HTTP server -------------------------------------------------------

const server = http.createServer()
// Node's close() destroys idle keep-alive connections at once, and a client may
// have just sent its next request on one: that request would fail although the
// server never saw it. Instead each connection ends after its next answer
// (which says `Connection: close`, see Draining) or at its keep-alive timeout.
server.closeIdleConnections = () => {}

const Settings = Layer.succeed(BackendSettings, {
  requestTimeoutMs: env("BACKEND_REQUEST_TIMEOUT_MS", 2000),
  retryAfterSeconds: 1,
  maxBodyBytes: 64 * 1024,
  maxFanout: 16
})

// once the listener is closed (shutdown has begun), answers close their connections
const DrainingLive = Layer.succeed(Draining, { draining: () => !server.listening })

/** Logs the address once serving, and the start of the drain first thing at shutdown. */
const Lifecycle = Layer.effectDiscard(
  Effect.acquireRelease(
    Effect.gen(function* () {
      const { address } = yield* HttpServer.HttpServer
      const upstream = yield* Upstream
      yield* Effect.log(
        `backend listening on ${HttpServer.formatAddress(address)} (upstream ${upstream.url}, pid ${process.pid})`
      )
    }),
    () =>
      Effect.suspend(() => {
        const { answered, interrupted } = requestCounts()
        return Effect.log(
          `shutdown: listener closing, draining in-flight requests (${answered} answered, ${interrupted} interrupted so far)`
        )
      })
  )
)

const Stopped = Layer.effectDiscard(
  Effect.addFinalizer(() =>
    Effect.suspend(() => {
      const { answered, interrupted } = requestCounts()
      return Effect.log(`stopped: ${answered} requests answered, ${interrupted} interrupted`)
    })
  )
)

const HttpLive = HttpRouter.serve(Routes, { disableLogger: true, disableListenLog: true }).pipe(
  Layer.merge(Lifecycle),
  Layer.provide(
    NodeHttpServer.layer(() => server, { port, host: "127.0.0.1", gracefulShutdownTimeout: `${drainMs} millis` })
  ),
  Layer.provide([Settings, DrainingLive, FetchHttpClient.layer]),
  // built before the server, released after it: the executors finish their tasks once no request is left
  Layer.provide(Executors),
  // built first, released last: in-flight I/O tasks still reach it while draining
  Layer.provide(Upstream.layer),
  Layer.provide(Stopped)
)

// a backstop in case something does not stop: the drain deadline, plus time for the executors to settle
const backstop = () =>
  setTimeout(() => {
    console.error(`shutdown did not finish within ${drainMs + 5000} ms: exiting with code 1`)
    process.exit(1)
  }, drainMs + 5000).unref()
process.once("SIGTERM", backstop)
process.once("SIGINT", backstop)

NodeRuntime.runMain(Layer.launch(HttpLive), {
  // a signal interrupts the program; a clean drain after it is a clean exit
  teardown: (exit, onExit) => onExit(Exit.isSuccess(exit) || Cause.hasInterruptsOnly(exit.cause) ? 0 : 1)
})
