// Quick start: the I/O executor on an embedded corpus.
//
// A "document store" answers lookups after a latency (real timers); some
// documents are missing (a typed error) and one is very slow (a timeout).
// The program indexes the corpus three ways and prints what happened:
//   1. sequentially, as a baseline;
//   2. with `executor.map` (results in input order, per-task timeouts);
//   3. with `submit` + `Future.asCompleted` (results as they arrive), then
//      `Future.wait` with a deadline that cancels whatever is still running.
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Metric from "effect/Metric"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { ExecutorMetrics, Future, IoExecutor } from "effect-futures"

const corpus: ReadonlyArray<{ readonly id: string; readonly text: string; readonly latencyMs: number }> = [
  {
    id: "meditations",
    text: "You have power over your mind not outside events realize this and you will find strength"
  },
  {
    id: "walden",
    text: "I went to the woods because I wished to live deliberately to front only the essential facts of life"
  },
  { id: "origin", text: "It is not the strongest of the species that survives nor the most intelligent" },
  { id: "principia", text: "Every body perseveres in its state of rest or of uniform motion in a right line" },
  { id: "republic", text: "The beginning is the most important part of the work" },
  { id: "leviathan", text: "The life of man solitary poor nasty brutish and short" },
  { id: "ethics", text: "We are what we repeatedly do excellence then is not an act but a habit" },
  { id: "prince", text: "It is better to be feared than loved if you cannot be both" },
  { id: "analects", text: "It does not matter how slowly you go as long as you do not stop" },
  { id: "essays", text: "The only thing I know is that I know nothing and that is the start of all wisdom" },
  { id: "tao", text: "A journey of a thousand miles begins with a single step" },
  { id: "candide", text: "We must cultivate our garden said Candide" }
].map((doc, i) => ({ ...doc, latencyMs: 40 + ((i * 37) % 60) }))

const requested = [...corpus.map((d) => d.id), "missing-1", "glacier", "missing-2"]

class DocumentNotFound extends Schema.TaggedError<DocumentNotFound>()("DocumentNotFound", { id: Schema.String }) {}

/** Looks a document up (an I/O call: a real timer stands in for the network) and counts its words. */
const indexDocument = (id: string) =>
  Effect.gen(function* () {
    if (id === "glacier") yield* Effect.sleep("10 seconds") // far too slow: hits its timeout
    const doc = corpus.find((d) => d.id === id)
    yield* Effect.sleep(doc?.latencyMs ?? 30)
    if (doc === undefined) return yield* new DocumentNotFound({ id })
    const words = doc.text.toLowerCase().split(/\s+/)
    return { id, words: words.length, longest: words.reduce((a, b) => (b.length > a.length ? b : a)) }
  })

const describe = (exit: Exit.Exit<{ id: string; words: number; longest: string }, unknown>) =>
  Exit.match(exit, {
    onSuccess: (r) => `${r.id.padEnd(12)} ${String(r.words).padStart(3)} words, longest "${r.longest}"`,
    onFailure: (cause) => {
      const error = Cause.squash(cause) as { _tag?: string; id?: string; message?: string }
      if (Cause.isTimeoutError(error)) return "timed out (task interrupted)"
      if (error._tag === "DocumentNotFound") return `not found: ${error.id}`
      return `failed: ${error._tag ?? error.message}`
    }
  })

const elapsed = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const start = yield* Clock.currentTimeMillis
    const a = yield* self
    return [a, (yield* Clock.currentTimeMillis) - start] as const
  })

const program = Effect.gen(function* () {
  const executor = yield* IoExecutor.IoExecutor
  const available = requested.filter((id) => id !== "glacier")

  // 1. sequential baseline
  const [, sequentialMs] = yield* elapsed(Effect.forEach(available, (id) => Effect.exit(indexDocument(id))))

  // 2. map: input order, each task bounded to 1 s; failures kept as values
  const [results, mapMs] = yield* elapsed(
    executor.map(available, (id) => Effect.exit(indexDocument(id)), { taskTimeout: "1 second" }).pipe(Stream.runCollect)
  )
  yield* Effect.log(`map over ${available.length} documents: ${mapMs} ms (sequential: ${sequentialMs} ms)`)
  for (const exit of results) yield* Effect.log(`  ${describe(exit)}`)

  // 3. submit everything, handle results as they complete, then wait with a deadline
  const futures = yield* Effect.forEach(requested, (id) =>
    executor.submit(indexDocument(id), { timeout: "500 millis" })
  )
  const order: Array<string> = []
  yield* Future.asCompleted(futures, { timeout: "2 seconds" }).pipe(
    Stream.runForEach((future) =>
      Effect.map(Future.exit(future), (exit) => {
        order.push(Exit.isSuccess(exit) ? exit.value.id : describe(exit))
      })
    )
  )
  yield* Effect.log(`asCompleted order: ${order.join(", ")}`)
  const { done, notDone } = yield* Future.wait(futures, { returnWhen: "ALL_COMPLETED", timeout: "1 second" })
  yield* Effect.log(`wait: ${done.size} done, ${notDone.size} not done`)

  const stats = yield* executor.stats
  const metrics = ExecutorMetrics.forExecutor("documents")
  const queueWait = yield* Metric.value(metrics.queueWait)
  yield* Effect.log(
    `stats: submitted ${stats.submitted}, succeeded ${stats.succeeded}, failed ${stats.failed}, ` +
      `cancelled ${stats.cancelled}; mean queue wait ${(queueWait.sum / Math.max(1, queueWait.count)).toFixed(1)} ms`
  )
  yield* Effect.log(`speed-up of map over sequential: ${(sequentialMs / Math.max(1, mapMs)).toFixed(1)}x`)
})

Effect.runPromise(program.pipe(Effect.provide(IoExecutor.layer({ maxWorkers: 6, name: "documents" })))).catch(
  (error) => {
    console.error(error)
    process.exitCode = 1
  }
)
