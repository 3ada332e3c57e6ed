// A test seam onto the executor's worker threads. The CPU executor does not
// expose its `Worker` objects, so to kill a worker "from outside" (as a
// supervisor, a debugger or a failing native addon would) the test replaces
// `worker_threads.Worker` with a subclass that records every instance, and
// re-syncs the built-in module's ESM exports (`syncBuiltinESMExports`, a
// documented Node API) so `import { Worker } from "node:worker_threads"` in
// src/internal/workerSlot.ts constructs it. Nothing else changes: the
// subclass only records the instance and its exit.
import { createRequire, syncBuiltinESMExports } from "node:module"
import type { Worker as NodeWorker } from "node:worker_threads"

const require = createRequire(import.meta.url)
const workerThreads = require("node:worker_threads") as typeof import("node:worker_threads")

export interface Tapped {
  readonly worker: NodeWorker
  readonly threadId: number
  exited: boolean
  exitCode: number | undefined
}

const tapped: Array<Tapped> = []
let original: typeof NodeWorker | undefined

/** Starts recording every Worker created from now on (idempotent). */
export const install = (): void => {
  if (original !== undefined) return
  const Original = workerThreads.Worker
  original = Original
  class TappedWorker extends Original {
    constructor(...args: ConstructorParameters<typeof NodeWorker>) {
      super(...args)
      const entry: Tapped = { worker: this, threadId: this.threadId, exited: false, exitCode: undefined }
      tapped.push(entry)
      this.once("exit", (code) => {
        entry.exited = true
        entry.exitCode = code
      })
    }
  }
  workerThreads.Worker = TappedWorker
  syncBuiltinESMExports()
}

/** Restores the original Worker. */
export const uninstall = (): void => {
  if (original === undefined) return
  workerThreads.Worker = original
  original = undefined
  syncBuiltinESMExports()
}

/** Every Worker created since `install`, in creation order. */
export const all = (): ReadonlyArray<Tapped> => tapped

/** The live Worker running on thread `threadId`. */
export const byThread = (threadId: number): Tapped | undefined =>
  tapped.find((t) => t.threadId === threadId && !t.exited)

/** Workers created so far that have not exited. */
export const alive = (): ReadonlyArray<Tapped> => tapped.filter((t) => !t.exited)
