// The two examples that predate the others run with their npm scripts'
// commands, as a user runs them (importing the library by its package name,
// from source: no build), and end well, on their own.
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "../..")
const scripts: Record<string, string> = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).scripts

/** Runs `npm run <script>`'s command line (a `node …` one) with this Node. */
const run = (script: string) => {
  const [node, ...args] = scripts[script].split(" ")
  assert.strictEqual(node, "node", scripts[script])
  const child = spawnSync(process.execPath, args, { cwd: root, timeout: 50_000, encoding: "utf8" })
  return { code: child.status, out: child.stdout + child.stderr }
}

describe("examples", { timeout: 60_000 }, () => {
  it("quickstart: word counts, typed not-found errors, a timeout, the speed-up", () => {
    const { code, out } = run("example:quickstart")
    assert.strictEqual(code, 0, out)
    assert.match(out, /principia\s+16 words, longest "perseveres"/)
    assert.match(out, /not found: missing-1/)
    assert.match(out, /timed out \(task interrupted\)/)
    assert.match(out, /stats: submitted 29, succeeded 26, failed 3, cancelled 0/)
    assert.match(out, /speed-up of map over sequential: \d+(\.\d+)?x/)
  })

  it("primes: the count, a typed error from a worker, cancelling a running loop", () => {
    const { code, out } = run("example:primes")
    assert.strictEqual(code, 0, out)
    assert.match(out, /primes below 3000000: 216816/)
    assert.match(out, /typed error: RangeTooLarge/)
    assert.match(out, /cancel of a running loop: true after \d+ ms; state cancelled/)
    assert.match(out, /the pool keeps serving: 25 primes below 100/)
  })
})
