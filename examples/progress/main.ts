// Progress and batches on the I/O executor: a progress display over
// `executor.map`, `Future.wait` with a deadline and cancellation,
// `Future.asCompleted`, and FIRST_EXCEPTION.
//
//   npm run example:progress
//
// Every task is simulated I/O (an `Effect.sleep`); see progress.ts.
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import {
  asCompletedDemo,
  deadlineLatencies,
  firstException,
  LookupFailed,
  mapWithProgress,
  progressLatencies,
  type Progress,
  waitThenCancel
} from "./progress.ts"

const bar = (p: Progress) => {
  const width = 20
  const filled = Math.round((p.done / p.total) * width)
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}]`
}

// print every fifth report and the last one
const showProgress = (p: Progress) =>
  p.done % 5 === 0 || p.done === p.total
    ? Console.log(
        `  ${bar(p)} ${String(p.done).padStart(2)}/${p.total}  ${p.perSecond.toFixed(1).padStart(5)}/s  ` +
          `running ${p.running}  queued ${String(p.queued).padStart(2)}  ${p.elapsedMs} ms`
      )
    : Effect.void

const program = Effect.gen(function* () {
  yield* Console.log(`a. executor.map over ${progressLatencies.length} simulated requests on 6 slots, with progress`)
  const responses = yield* mapWithProgress(showProgress)
  yield* Console.log(`   ${responses.length} responses, in input order: ${responses[0]}, ${responses[1]}, …`)

  const deadline = 350
  yield* Console.log(
    `\nb. Future.wait(7 futures on 3 slots, { timeout: ${deadline} ms }), then cancel what is not done` +
      `\n   latencies ${deadlineLatencies.join(", ")} ms`
  )
  const b = yield* waitThenCancel(deadline)
  yield* Console.log(
    `   done: tasks ${b.done.join(", ")} (bodies finished by then: ${b.finishedAtDeadline.join(", ")})`
  )
  yield* Console.log(`   not done: ${b.notDone.map((n) => `${n.task} ${n.state}`).join(", ")}`)
  yield* Console.log(
    `   Future.cancel → ${b.cancelled.map((c) => `${c.task}: ${c.result}`).join(", ")}` +
      `; interrupted while running: ${b.interrupted.join(", ")}; never started: ` +
      `${b.cancelled
        .map((c) => c.task)
        .filter((t) => !b.started.includes(t))
        .join(", ")}`
  )
  yield* Console.log(
    `   ${Math.max(...deadlineLatencies)} ms later, bodies that ran to the end: ${b.finishedLater.join(", ")}`
  )

  yield* Console.log(`\nc. Future.asCompleted: each result as it arrives`)
  yield* asCompletedDemo((a) =>
    Console.log(
      `   +${String(a.elapsedMs).padStart(3)} ms  ${a.city.padEnd(6)} ` +
        Exit.match(a.exit, {
          onSuccess: (text) => text,
          onFailure: (cause) => {
            const error = Cause.squash(cause)
            return `failed: ${error instanceof LookupFailed ? `LookupFailed(${error.city})` : String(error)}`
          }
        })
    )
  )

  yield* Console.log(`\nd. Future.wait(…, { returnWhen: "FIRST_EXCEPTION" })`)
  const d = yield* firstException
  yield* Console.log(
    `   returned after ${d.elapsedMs} ms with ${d.error?._tag === "LookupFailed" ? `LookupFailed(${d.error.city})` : d.error?._tag}; ` +
      `done: ${d.done.join(", ")}; not done: ${d.notDone.join(", ")}`
  )
  yield* Console.log(
    `   Future.cancel → ${d.cancelled.map((c) => `${c.city}: ${c.result}`).join(", ")}; ` +
      `bodies that ran to the end: ${d.finishedLater.join(", ")}`
  )
})

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
