// The demo's task: the primes example's work, reporting which runner process ran it.
import * as Schema from "effect/Schema"
import * as Task from "effect-futures/Task"

export const CountPrimesOn = Task.make("CountPrimesOn", {
  payload: Schema.Struct({ from: Schema.Number, to: Schema.Number }),
  success: Schema.Struct({ primes: Schema.Number, pid: Schema.Number })
})
