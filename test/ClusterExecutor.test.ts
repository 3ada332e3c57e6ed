import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as ClusterExecutor from "../src/ClusterExecutor.ts"
import * as ClusterRunner from "../src/ClusterRunner.ts"
import { InvalidOptionsError, TaskCodecError } from "../src/ExecutorError.ts"
import * as Future from "../src/Future.ts"
import { type Adapter, executorContract } from "./contract/executor.ts"
import { blocking, gated } from "./fixtures/contract.ts"
import * as T from "./fixtures/tasks.ts"

const worker = new URL("./fixtures/worker.ts", import.meta.url)

/** An embedded cluster (in-memory Sharding, a runner with `threads` workers) and an executor on it, in the scope. */
const embedded = (options: ClusterExecutor.Options, threads: number) =>
  Effect.gen(function* () {
    const context = yield* Layer.build(
      ClusterRunner.layer({ worker, maxWorkers: threads }).pipe(
        Layer.provideMerge(ClusterExecutor.layerShardingMemory())
      )
    )
    return yield* Effect.provideContext(ClusterExecutor.make(options), context)
  })

// In memory the runner is in this process, so the gates (shared memory) reach
// its worker threads: every ordering is forced exactly as for the CPU executor.
const clusterAdapter: Adapter<T.ContractPayload> = {
  name: "ClusterExecutor (embedded)",
  it: it.live,
  make: (options) =>
    Effect.map(embedded({ ...options, name: "contract-cluster" }, options.maxWorkers), (ex) => ({
      submit: (payload, o) => ex.submit(T.Contract, payload, o),
      map: (payloads, o) => ex.map(T.Contract, payloads, o),
      shutdown: ex.shutdown,
      stats: ex.stats
    })),
  value: (n) => ({ k: "value", n }),
  fail: (e) => ({ k: "fail", e }),
  die: (m) => ({ k: "die", m }),
  selfInterrupt: { k: "interrupt" },
  gated,
  blocking,
  advance: (millis) => Effect.sleep(millis),
  failureOf: (e) => e
}

executorContract(clusterAdapter)

describe("ClusterExecutor (embedded)", () => {
  it.live(
    "errors - typed errors arrive as the same class; successes decode through their schema",
    () =>
      Effect.gen(function* () {
        const ex = yield* embedded({}, 1)
        assert.strictEqual(yield* Future.await(yield* ex.submit(T.Sqrt, 16)), 4)
        const error = yield* Effect.flip(Future.await(yield* ex.submit(T.Sqrt, -4)))
        assert.instanceOf(error, T.Negative)
        assert.strictEqual((error as T.Negative).value, -4)
        assert.strictEqual(yield* Future.await(yield* ex.submit(T.Parse, "42.5")), 42.5)
      }),
    20_000
  )

  it.live(
    "errors - a task the runners do not serve fails at once with TaskCodecError naming it",
    () =>
      Effect.gen(function* () {
        const ex = yield* embedded({}, 1)
        const error = yield* Effect.flip(Future.await(yield* ex.submit(T.NotServed, null)))
        assert.instanceOf(error, TaskCodecError)
        assert.strictEqual((error as TaskCodecError).task, "NotServed")
      }).pipe(Effect.timeout("10 seconds")),
    20_000
  )

  it.live(
    "map - chunks run on the runner and keep the results before a failing item",
    () =>
      Effect.gen(function* () {
        const ex = yield* embedded({ maxWorkers: 2 }, 2)
        const out = yield* Stream.runCollect(ex.map(T.Inc, [1, 2, 3, 4, 5], { chunksize: 2 }))
        assert.deepStrictEqual(out, [2, 3, 4, 5, 6])
        const seen: Array<number> = []
        const exit = yield* Effect.exit(
          Stream.runForEach(ex.map(T.Sqrt, [4, 9, -1, 16], { chunksize: 4 }), (x) => Effect.sync(() => seen.push(x)))
        )
        assert.deepStrictEqual(seen, [2, 3])
        assert.isTrue(Exit.isFailure(exit))
        if (Exit.isFailure(exit)) assert.instanceOf(Cause.squash(exit.cause), T.Negative)
      }),
    20_000
  )

  it.live("options - invalid options fail with InvalidOptionsError naming the option", () =>
    Effect.gen(function* () {
      for (const [option, options] of [
        ["maxWorkers", { maxWorkers: 0 }],
        ["whenFull", { whenFull: "drop" }],
        ["cancelTimeout", { cancelTimeout: -1 }],
        ["name", { name: "" }]
      ] as const) {
        const error = yield* Effect.flip(
          Layer.build(
            ClusterExecutor.layer(options as ClusterExecutor.Options).pipe(
              Layer.provide(ClusterExecutor.layerShardingMemory())
            )
          )
        )
        assert.instanceOf(error, InvalidOptionsError)
        assert.strictEqual(error.option, option)
      }
    })
  )
})
