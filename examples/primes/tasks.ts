// Task definitions shared by the parent (main.ts) and the worker (worker.ts).
import * as Schema from "effect/Schema"
import * as Task from "effect-futures/Task"

export class RangeTooLarge extends Schema.TaggedError<RangeTooLarge>()("RangeTooLarge", {
  from: Schema.Number,
  to: Schema.Number,
  limit: Schema.Number
}) {
  override get message() {
    return `range [${this.from}, ${this.to}) is larger than ${this.limit}`
  }
}

/** Counts the primes in [from, to) by trial division: pure CPU work. */
export const CountPrimes = Task.make("CountPrimes", {
  payload: Schema.Struct({ from: Schema.Number, to: Schema.Number }),
  success: Schema.Struct({ from: Schema.Number, to: Schema.Number, primes: Schema.Number }),
  error: RangeTooLarge
})

export const countPrimes = (from: number, to: number): number => {
  let count = 0
  for (let n = Math.max(2, from); n < to; n++) {
    let prime = true
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false
        break
      }
    }
    if (prime) count++
  }
  return count
}
