// `npm run example:cluster` as a user runs it (its npm script's command line,
// the library imported by its package name from source): a PostgreSQL, two
// runner processes started with `effect-futures runner`, a client mapping
// the primes job, runner A SIGKILLed halfway; the total is still right and
// the process exits 0 on its own.
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "../..")
const scripts: Record<string, string> = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).scripts

describe("examples", () => {
  it("cluster: two runners, one killed halfway, the complete and correct result, exit 0", () => {
    const [node, ...args] = scripts["example:cluster"].split(" ")
    assert.strictEqual(node, "node")
    const env = { ...process.env }
    delete env.DATABASE_URL
    const child = spawnSync(process.execPath, args, { cwd: root, timeout: 110_000, encoding: "utf8", env })
    const out = child.stdout + child.stderr
    assert.strictEqual(child.status, 0, out)
    assert.match(out, /runner A: runner ready: pid \d+/)
    assert.match(out, /runner B: runner ready: pid \d+/)
    assert.match(out, /progress: \d+\/64 ranges, \d+ calls in flight, runners \d healthy of \d/)
    assert.match(out, /killed runner A \(pid \d+, SIGKILL\) at 32\/64 ranges/)
    assert.match(out, /done: primes below 10000000: 664579 in [\d.]+ s \(ranges per runner: A \d+, B [1-9]\d*\)/)
    assert.match(out, /correct: π\(10000000\) = 664579/)
    assert.match(out, /runner B stopped with SIGTERM: exit code 0/)
    const pause = /results paused for at most ([\d.]+) s/.exec(out)
    assert.isNotNull(pause, out)
    assert.isBelow(Number(pause![1]), 20)
  }, 120_000)
})
