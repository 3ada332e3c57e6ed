// The bench worker entry bundled into one file (effect and effect-futures'
// worker runtime inside), as a user ships it for fast worker start (README,
// "Fast worker start"): a worker then loads one module instead of ~150.
// Built once per `npm run bench` (the system's `prepare`), before any run.
import { existsSync, mkdirSync } from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { build } from "rolldown"

const root = fileURLToPath(new URL("../..", import.meta.url))

/** Where the bundle is written (`.tmp` is not committed). */
export const bundledWorker = new URL("file://" + path.join(root, ".tmp", "bench-build", "effectFutures.mjs"))

/** Bundles the worker entry `entry` into the one ESM file `file` (the tests' bundles too). */
export const bundleWorkerEntry = async (entry: URL, file: string): Promise<void> => {
  mkdirSync(path.dirname(file), { recursive: true })
  await build({ input: fileURLToPath(entry), platform: "node", logLevel: "silent", output: { file, format: "esm" } })
}

/** Bundles bench/workers/effectFutures.ts into `bundledWorker`. */
export const buildBundledWorker = (): Promise<void> =>
  bundleWorkerEntry(new URL("./effectFutures.ts", import.meta.url), fileURLToPath(bundledWorker))

/** The bundle's URL; fails clearly when `npm run bench` has not built it. */
export const requireBundledWorker = (): URL => {
  if (!existsSync(fileURLToPath(bundledWorker))) {
    throw new Error(`${fileURLToPath(bundledWorker)} is missing: run the bench through npm run bench, which builds it`)
  }
  return bundledWorker
}
