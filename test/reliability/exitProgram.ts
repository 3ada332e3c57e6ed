// A program that uses both executors, through faults, and ends WITHOUT
// process.exit: leaks.test.ts runs it in a child process and requires it to
// exit on its own, with code 0. Anything the executors left behind (a worker
// thread, a port, a timer) would keep the event loop alive.
//
// Run by hand: `npx node test/reliability/exitProgram.ts`. It prints one JSON
// line: { done, before, after } (the active resources at start and after the
// layers were released).
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as CpuExecutor from "../../src/CpuExecutor.ts"
import * as Future from "../../src/Future.ts"
import * as IoExecutor from "../../src/IoExecutor.ts"
import * as F from "../fixtures/faults.ts"
import * as Gate from "../fixtures/gate.ts"

// stdout and stderr open their pipes on first use: open them before the baseline
void process.stdout.fd
void process.stderr.fd
const before = process.getActiveResourcesInfo()

const program = Effect.gen(function* () {
  const io = yield* IoExecutor.IoExecutor
  const cpu = yield* CpuExecutor.CpuExecutor
  const out: Record<string, unknown> = {}

  // I/O: plain work, a timeout, map
  out.io = yield* Future.await(yield* io.submit(Effect.succeed(1)))
  out.ioTimeout = (yield* Effect.flip(Future.await(yield* io.submit(Effect.never, { timeout: 20 }))))._tag
  out.ioMap = yield* Stream.runCollect(io.map([1, 2, 3], (n) => Effect.succeed(n * 2), { buffersize: 2 }))

  // CPU: plain work, a crash, a cancelled synchronous loop, a timed-out one
  out.cpu = yield* Future.await(yield* cpu.submit(F.Scale, { x: 6, times: 7 }))
  out.crash = (yield* Effect.flip(Future.await(yield* cpu.submit(F.Fault, { kind: "exit", signal: Gate.make() }))))._tag
  const loop = Gate.make()
  const spinning = yield* cpu.submit(F.Fault, { kind: "loop", signal: loop })
  yield* Gate.awaitStarted(loop)
  out.cancelled = yield* Future.cancel(spinning)
  out.timeout = (yield* Effect.flip(
    Future.await(yield* cpu.submit(F.Fault, { kind: "loop", signal: Gate.make() }, { timeout: 50 }))
  ))._tag
  out.cpuMap = yield* Stream.runCollect(
    cpu.map(
      F.Scale,
      [1, 2, 3].map((x) => ({ x, times: 2 })),
      { chunksize: 2 }
    )
  )

  // tasks still queued at shutdown are cancelled
  const hold = Gate.make()
  const held = yield* cpu.submit(F.Hold, hold)
  const queued = yield* Effect.forEach([1, 2], () => cpu.submit(F.WhoAmI, null))
  yield* Gate.awaitStarted(hold)
  yield* cpu.shutdown({ cancelFutures: true, wait: false })
  out.queuedAtShutdown = queued.map(Future.stateUnsafe)
  yield* Gate.release(hold)
  yield* Future.await(held)
  return out
})

const layer = Layer.mergeAll(
  IoExecutor.layer({ maxWorkers: 4 }),
  CpuExecutor.layer({
    worker: new URL("../fixtures/faultWorker.ts", import.meta.url),
    maxWorkers: 1,
    minWorkers: 1,
    idleTimeout: "1 minute",
    cancelGracePeriod: 20
  })
)

Effect.runPromise(program.pipe(Effect.provide(layer))).then(
  (done) => {
    console.log(JSON.stringify({ done, before, after: process.getActiveResourcesInfo() }))
  },
  (error) => {
    console.error(error)
    process.exitCode = 1
  }
)
