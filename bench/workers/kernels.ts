// The work every worker-pool system runs, one implementation shared by all of
// them (and by the serial runs of W4 on the main thread). No imports: a
// worker pays nothing extra to load it.

/** W3, W5, W6: the tiny task. */
export const square = (x: number): number => x * x

/** W3c for pools without chunking: a batch of tiny tasks in one message. */
export const squares = (xs: ReadonlyArray<number>): Array<number> => {
  const out = new Array<number>(xs.length)
  for (let i = 0; i < xs.length; i++) out[i] = xs[i]! * xs[i]!
  return out
}

/** W4: a pure integer loop (a 32-bit LCG); returns its last value so it cannot be elided. */
export const spin = (iterations: number, seed: number): number => {
  let x = seed | 0
  for (let i = 0; i < iterations; i++) x = (Math.imul(x, 1103515245) + 12345) | 0
  return x
}

export interface SpinArgs {
  readonly iterations: number
  readonly seed: number
}

export const spinTask = (args: SpinArgs): number => spin(args.iterations, args.seed)

/**
 * W4's warm-up: waits (blocking this thread) until `parties` threads have
 * arrived at `gate[0]`, so that each worker of the pool takes exactly one
 * warm-up task, then runs the loop so that V8 compiles it in this thread.
 */
export interface WarmArgs {
  readonly gate: Int32Array
  readonly parties: number
  readonly iterations: number
}

export const warm = (args: WarmArgs): number => {
  const { gate, parties } = args
  Atomics.add(gate, 0, 1)
  Atomics.notify(gate, 0)
  const deadline = Date.now() + 10_000
  for (;;) {
    const arrived = Atomics.load(gate, 0)
    if (arrived >= parties) break
    if (Date.now() > deadline) {
      throw new Error(
        `warm-up: ${arrived} of ${parties} workers arrived within 10 s (one worker took two warm-up tasks?)`
      )
    }
    Atomics.wait(gate, 0, arrived, 1_000)
  }
  return spin(args.iterations, 1)
}

/**
 * W6's blocker: sets gate[0] = 1 once started, then blocks this thread in
 * Atomics.wait until gate[1] != 0. Releasing it needs no message, so the
 * main thread's event loop plays no part in keeping the worker busy.
 */
export const block = (gate: Int32Array): number => {
  Atomics.store(gate, 0, 1)
  Atomics.notify(gate, 0)
  while (Atomics.load(gate, 1) === 0) Atomics.wait(gate, 1, 0)
  return 0
}
