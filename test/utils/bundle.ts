// Bundles a worker entry into one ESM file (effect and effect-futures' worker
// runtime inside), as README "Fast worker start" tells users to ship one;
// built once per entry per test file, into a temporary directory that
// `removeBundles` (the file's afterAll) deletes.
import * as Effect from "effect/Effect"
import { mkdtempSync, rmSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { bundleWorkerEntry } from "../../bench/workers/bundle.ts"

const built = new Map<string, Promise<URL>>()
const dirs: Array<string> = []

/** Deletes every bundle built so far. */
export const removeBundles = (): void => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  built.clear()
}

/** The URL of `entry` bundled into one file. */
export const bundled = (entry: URL): Effect.Effect<URL> =>
  Effect.promise(() => {
    let bundle = built.get(entry.href)
    if (bundle === undefined) {
      const dir = mkdtempSync(path.join(os.tmpdir(), "effect-futures-bundle-"))
      dirs.push(dir)
      const file = path.join(dir, "worker.mjs")
      bundle = bundleWorkerEntry(entry, file).then(() => pathToFileURL(file))
      built.set(entry.href, bundle)
    }
    return bundle
  })
