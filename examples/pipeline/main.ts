// fetch → process → save over 20 items, twice: chained with futures and
// done-callbacks (the Python pattern), and as one composed Effect per item run
// with `executor.map`. Prints both outcomes and timings and checks that they
// saved the same files and failed with the same typed errors.
//
//   npm run example:pipeline
//
// The fetch latency is simulated (`Effect.sleep`); see pipeline.ts.
import * as Effect from "effect/Effect"
import * as Console from "effect/Console"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import {
  failureOf,
  items,
  readOutputs,
  withCallbacks,
  withEffect,
  type ItemOutcome,
  type StepError
} from "./pipeline.ts"

const tempDir = (prefix: string) =>
  Effect.acquireRelease(
    Effect.promise(() => fs.mkdtemp(path.join(os.tmpdir(), prefix))),
    (dir) => Effect.promise(() => fs.rm(dir, { recursive: true, force: true }))
  )

const summary = (outcomes: ReadonlyArray<ItemOutcome<unknown>>) => {
  const failed = outcomes.filter((o) => o.exit._tag === "Failure").length
  return `${outcomes.length - failed} saved, ${failed} failed`
}

const describe = (error: unknown): string => {
  const e = error as StepError
  switch (e._tag) {
    case "FetchFailed":
      return `FetchFailed    status ${e.status}`
    case "ProcessFailed":
    case "SaveFailed":
      return `${e._tag.padEnd(14)} ${e.reason}`
    default:
      return String(error)
  }
}

const failures = (outcomes: ReadonlyArray<ItemOutcome<unknown>>) =>
  outcomes.flatMap(({ id, exit }) => (exit._tag === "Failure" ? [`${id}  ${describe(failureOf(exit))}`] : []))

const program = Effect.scoped(
  Effect.gen(function* () {
    const callbackDir = yield* tempDir("pipeline-callbacks-")
    const effectDir = yield* tempDir("pipeline-effect-")
    const latencies = items.map((i) => i.latencyMs)
    yield* Console.log(
      `fetch → process → save over ${items.length} items on 4 slots ` +
        `(fetch latency simulated with Effect.sleep: ${Math.min(...latencies)}–${Math.max(...latencies)} ms)\n`
    )

    const callbacks = yield* withCallbacks(callbackDir)
    const effect = yield* withEffect(effectDir)
    yield* Console.log(
      `callbacks  submit + addDoneCallback chains    ${summary(callbacks.outcomes)}  ` +
        `${String(callbacks.futures.length).padStart(2)} futures  ${callbacks.millis} ms`
    )
    yield* Console.log(
      `effect     executor.map, one Effect per item  ${summary(effect.outcomes)}  ` +
        `${String(effect.stats.submitted).padStart(2)} tasks    ${effect.millis} ms`
    )

    const a = failures(callbacks.outcomes)
    const b = failures(effect.outcomes)
    const sameFailures = a.join("\n") === b.join("\n")
    yield* Console.log(`\ntyped failures (${sameFailures ? "the same in both styles" : "DIFFERENT"}):`)
    for (const line of a) yield* Console.log(`  ${line}`)

    const left = yield* readOutputs(callbackDir)
    const right = yield* readOutputs(effectDir)
    const sameFiles = left.size === right.size && [...left].every(([name, text]) => right.get(name) === text)
    const bytes = [...left.values()].reduce((n, text) => n + Buffer.byteLength(text), 0)
    yield* Console.log(`saved files identical: ${sameFiles ? "yes" : "NO"} (${left.size} files, ${bytes} bytes each)`)
    yield* Console.log(`e.g. ${[...left.keys()][0]}: ${[...left.values()][0].trim()}`)
    if (!sameFiles || !sameFailures) return yield* Effect.die(new Error("the two styles disagree"))
  })
)

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
