// Task definitions shared by the server (app.ts), the worker (worker.ts) and
// the load test (load.ts, which checks every response against `digest`).
import * as Schema from "effect/Schema"
import * as Task from "effect-futures/Task"

/** The most rounds a digest may take: more is refused as a typed error (HTTP 422). */
export const maxRounds = 20_000

export class InvalidRounds extends Schema.TaggedError<InvalidRounds>()("InvalidRounds", {
  rounds: Schema.Number,
  max: Schema.Number
}) {
  override get message() {
    return `rounds must be an integer from 1 to ${this.max}, got ${this.rounds}`
  }
}

/**
 * A CPU-heavy transform of a request body: `rounds` passes of FNV-1a over its
 * UTF-8 bytes, each pass seeded with its index. Cost: rounds × bytes.
 */
export const Digest = Task.make("Digest", {
  payload: Schema.Struct({ text: Schema.String, rounds: Schema.Number }),
  success: Schema.Struct({ bytes: Schema.Number, rounds: Schema.Number, digest: Schema.String }),
  error: InvalidRounds
})

/** What the health route sends to prove the workers answer. */
export const Ping = Task.make("Ping", {
  payload: Schema.Struct({}),
  success: Schema.Struct({ pid: Schema.Number })
})

/** The digest itself: pure, so the load test computes the expected answer with it. */
export const digest = (bytes: Uint8Array, rounds: number): string => {
  let h = 0x811c9dc5
  for (let r = 0; r < rounds; r++) {
    h ^= r
    for (let i = 0; i < bytes.length; i++) {
      h ^= bytes[i]
      h = Math.imul(h, 0x01000193)
    }
  }
  return (h >>> 0).toString(16).padStart(8, "0")
}

/** The response body of `POST /cpu/digest` for this text, as the server sends it. */
export const expectedDigest = (text: string, rounds: number) => {
  const bytes = new TextEncoder().encode(text)
  return { bytes: bytes.length, rounds, digest: digest(bytes, rounds) }
}
