// The READMEs cannot drift from the code they show:
// - a snippet marked `<!-- quote: path -->` is that file's text: each run of its
//   lines between `// …` markers appears in the file as consecutive lines, and
//   the runs appear in the file's order;
// - every example folder has the README the main README promises, and every
//   example the main README links to exists.
import { assert, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "../..")
const read = (file: string) => fs.readFileSync(path.join(root, file), "utf8")

const readmes = [
  "README.md",
  ...fs
    .readdirSync(path.join(root, "examples"), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => `examples/${d.name}/README.md`)
]

/** The quoted snippets of a Markdown file: the quoted path (relative to the repository) and the snippet's lines. */
export const quotes = (markdown: string, dir: string) =>
  [...markdown.matchAll(/<!-- quote: (\S+) -->\n```\w*\n([\s\S]*?)\n```/g)].map((m) => ({
    file: path.posix.join(dir, m[1]),
    lines: m[2].split("\n")
  }))

/** Where the snippet departs from the file, or undefined when each run is in the file, in order. */
export const mismatch = (snippet: ReadonlyArray<string>, file: ReadonlyArray<string>): string | undefined => {
  const runs: Array<Array<string>> = [[]]
  for (const line of snippet) {
    if (line.trim() === "// …") runs.push([])
    else runs.at(-1)!.push(line)
  }
  let from = 0
  for (const run of runs.filter((r) => r.length > 0)) {
    let at = -1
    for (let i = from; i + run.length <= file.length && at < 0; i++)
      if (run.every((line, j) => file[i + j] === line)) at = i
    if (at < 0) return `not in the file (at or after line ${from + 1}):\n${run.join("\n")}`
    from = at + run.length
  }
  return undefined
}

describe("READMEs", () => {
  it("quoted snippets are the files' text", () => {
    let checked = 0
    for (const readme of readmes) {
      if (!fs.existsSync(path.join(root, readme))) continue
      const dir = readme === "README.md" ? "" : path.posix.dirname(readme)
      for (const quote of quotes(read(readme), dir)) {
        const problem = mismatch(quote.lines, read(quote.file).split("\n"))
        assert.isUndefined(problem, `${readme} quotes ${quote.file}: ${problem}`)
        checked++
      }
    }
    assert.isAtLeast(checked, 3, "the main README quotes the three files of examples/primes")
  })

  it("the check itself: a changed line, a reordered run or a missing line is caught", () => {
    const file = ["a", "b", "c", "d"]
    assert.isUndefined(mismatch(["a", "b", "// …", "d"], file))
    assert.isDefined(mismatch(["a", "c"], file), "runs are consecutive lines")
    assert.isDefined(mismatch(["c", "// …", "a"], file), "runs keep the file's order")
    assert.isDefined(mismatch(["a", "B"], file))
  })

  it("every example folder has a README, and every example the main README links to exists", () => {
    for (const readme of readmes) assert.isTrue(fs.existsSync(path.join(root, readme)), `${readme} is missing`)
    const linked = [...read("README.md").matchAll(/\]\((examples\/[^)#]+)\)/g)].map((m) => m[1])
    assert.isAtLeast(linked.length, 6)
    for (const link of linked) assert.isTrue(fs.existsSync(path.join(root, link)), link)
  })
})
