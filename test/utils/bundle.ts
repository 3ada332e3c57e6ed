// Bundles a worker entry into one ESM file (effect and effect-futures' worker
// runtime inside), as README "Fast worker start" tells users to ship one;
// built once per entry per test process, into a temporary directory.
import * as Effect from "effect/Effect"
import { mkdtempSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { build } from "rolldown"

const built = new Map<string, Promise<URL>>()

/** The URL of `entry` bundled into one file. */
export const bundled = (entry: URL): Effect.Effect<URL> =>
  Effect.promise(() => {
    let bundle = built.get(entry.href)
    if (bundle === undefined) {
      const file = path.join(mkdtempSync(path.join(os.tmpdir(), "effect-futures-bundle-")), "worker.mjs")
      bundle = build({
        input: fileURLToPath(entry),
        platform: "node",
        logLevel: "silent",
        output: { file, format: "esm" }
      }).then(() => pathToFileURL(file))
      built.set(entry.href, bundle)
    }
    return bundle
  })
