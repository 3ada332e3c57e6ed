// The benchmark's command line: a quick run is a smoke run that never replaces
// the committed results (bench/results/latest.*, which the README's chart is
// drawn from) unless told to with --out.
import { assert, describe, it } from "@effect/vitest"
import * as path from "node:path"
import { parseCli, quickSystems } from "../../bench/cli.ts"
import { systems } from "../../bench/systems/index.ts"

const root = path.resolve(import.meta.dirname, "../..")

describe("bench command line", () => {
  it("--quick: a scratch folder, no redos, the effect-futures systems and the targets' references", () => {
    const quick = parseCli(["--quick"])!
    assert.strictEqual(quick.out, path.join(root, ".tmp/bench-quick"))
    assert.strictEqual(quick.redos, 0)
    assert.strictEqual(quick.rounds, 1)
    assert.deepStrictEqual(quick.systems, quickSystems)
    for (const id of quickSystems)
      assert.isTrue(
        systems.some((s) => s.id === id),
        id
      )
  })

  it("a full run writes bench/results; --out, --redos and --systems override the quick defaults", () => {
    const full = parseCli([])!
    assert.strictEqual(full.out, path.join(root, "bench/results"))
    assert.strictEqual(full.redos, 2)
    assert.strictEqual(full.systems.length, systems.length)
    const told = parseCli(["--quick", "--out", "bench/results", "--redos", "1", "--systems", "piscina"])!
    assert.strictEqual(told.out, path.join(process.cwd(), "bench/results"))
    assert.strictEqual(told.redos, 1)
    assert.deepStrictEqual(told.systems, ["piscina"])
  })
})
