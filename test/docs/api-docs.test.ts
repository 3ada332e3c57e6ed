// The generated API reference (docs/api, by scripts/api-docs.ts) and the Python
// migration guide (docs/python-migration.md) cannot drift from the sources:
// - docs/api must be byte-for-byte what `npm run docs` generates now;
// - every export of every module that src/index.ts re-exports has a section
//   with a description, a signature and a version (the export list comes from
//   importing the modules and scanning their type exports, not from the
//   generator);
// - every link inside docs/api and the guide points at a heading that exists;
// - every TypeScript snippet of the guide is a region of
//   docs/python-migration.examples.ts, the file `tsc -p docs` type-checks.
import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { vi } from "vitest"
import { generate } from "../../scripts/api-docs.ts"

const root = path.resolve(import.meta.dirname, "../..")
const apiDir = path.join(root, "docs/api")
const read = (file: string) => fs.readFileSync(file, "utf8")

/** The public modules, as src/index.ts names them: `export * as Name from "./File.ts"`. */
const publicModules = (): ReadonlyArray<{ readonly name: string; readonly file: string }> =>
  [...read(path.join(root, "src/index.ts")).matchAll(/^export \* as (\w+) from "\.\/([\w/]+\.ts)"/gm)].map((m) => ({
    name: m[1],
    file: path.join(root, "src", m[2])
  }))

/** GitHub's heading anchors, written independently of the generator. */
const anchorsOf = (markdown: string): ReadonlySet<string> => {
  const seen = new Map<string, number>()
  const anchors = new Set<string>()
  let fenced = false
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced
    const heading = fenced ? null : /^#{1,6} (.+)$/.exec(line)
    if (heading === null) continue
    const base = heading[1]
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-")
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    anchors.add(n === 0 ? base : `${base}-${n}`)
  }
  return anchors
}

/** Markdown links outside code fences: [text](target). */
const linksOf = (markdown: string): ReadonlyArray<string> => {
  const links: Array<string> = []
  let fenced = false
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced
    if (!fenced) for (const m of line.matchAll(/\]\(([^)\s]+)\)/g)) links.push(m[1])
  }
  return links
}

/** Asserts that every relative link of `file` reaches an existing file and heading. */
const assertLinksResolve = (file: string) => {
  for (const link of linksOf(read(file))) {
    if (/^[a-z]+:/.test(link)) continue
    const [target, anchor] = link.split("#")
    const targetFile = target === "" ? file : path.resolve(path.dirname(file), target)
    assert.isTrue(fs.existsSync(targetFile), `${path.relative(root, file)}: link to a missing file: ${link}`)
    if (anchor !== undefined) {
      assert.isTrue(
        anchorsOf(read(targetFile)).has(anchor),
        `${path.relative(root, file)}: link to a missing heading: ${link}`
      )
    }
  }
}

/** The sections of a module page: `### name` up to the next heading of level 2 or 3. */
const sectionsOf = (markdown: string): ReadonlyMap<string, string> => {
  const sections = new Map<string, string>()
  const parts = markdown.split(/^### /m).slice(1)
  for (const part of parts) {
    const newline = part.indexOf("\n")
    sections.set(part.slice(0, newline).trim(), part.slice(newline + 1).split(/^##{1,2} /m)[0])
  }
  return sections
}

describe("docs/api", () => {
  it("is what `npm run docs` generates from the current sources", { timeout: 60_000 }, () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "effect-futures-api-docs-"))
    try {
      execFileSync(process.execPath, [path.join(root, "scripts/api-docs.ts"), "--out", out], {
        cwd: root,
        stdio: ["ignore", "pipe", "pipe"],
        timeout: 50_000
      })
      const generated = fs.readdirSync(out).sort()
      const committed = fs.readdirSync(apiDir).sort()
      assert.deepStrictEqual(committed, generated, "docs/api has other files than `npm run docs` makes: run it")
      assert.include(generated, "README.md")
      for (const name of generated) {
        assert.isTrue(
          read(path.join(apiDir, name)) === read(path.join(out, name)),
          `docs/api/${name} is out of date: run \`npm run docs\``
        )
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true })
    }
  })

  it("has a section with a description, a signature and a version for every export", { timeout: 30_000 }, async () => {
    const modules = publicModules()
    assert.isAtLeast(modules.length, 8)
    for (const module of modules) {
      const values = Object.keys(await import(module.file))
      const types = [...read(module.file).matchAll(/^export (?:interface|type) (\w+)/gm)].map((m) => m[1])
      const exported = new Set([...values, ...types])
      assert.isAtLeast(exported.size, 1, `${module.name} exports nothing`)
      const page = read(path.join(apiDir, `${module.name}.md`))
      const sections = sectionsOf(page)
      assert.deepStrictEqual(
        [...sections.keys()].sort(),
        [...exported].sort(),
        `docs/api/${module.name}.md: sections differ from the module's exports`
      )
      for (const [name, section] of sections) {
        const firstLine = section.split("\n").find((line) => line.trim() !== "") ?? ""
        assert.isFalse(
          firstLine === "" || firstLine.startsWith("**Signature**") || firstLine.startsWith("```"),
          `${module.name}.${name} has no description`
        )
        assert.match(section, /\*\*Signature\*\*\n\n```ts\n\S/, `${module.name}.${name} has no signature`)
        assert.match(section, /^Added in v\d+\.\d+\.\d+$/m, `${module.name}.${name} has no @since`)
      }
      assert.match(page, /^Added in v\d+\.\d+\.\d+$/m, `${module.name} has no module @since`)
    }
    const index = read(path.join(apiDir, "README.md"))
    for (const module of modules) assert.include(index, `](${module.name}.md)`)
  })

  it("links only to files and headings that exist", () => {
    for (const name of fs.readdirSync(apiDir)) assertLinksResolve(path.join(apiDir, name))
  })

  it("builds declaration signatures from the source", () => {
    const page = (name: string) => read(path.join(apiDir, `${name}.md`))
    // an arrow function with a defaulted parameter: the parameter becomes optional
    assert.include(
      page("IoExecutor"),
      "export declare const make: <R = never>(options?: Options<R>) => Effect.Effect<IoExecutorShape, InvalidOptionsError, R | Scope.Scope>"
    )
    // `export { _await as await }`: the alias, typed by its local declaration
    assert.include(
      page("Future"),
      "export declare const await: <A, E>(self: Future<A, E>) => Effect.Effect<A, E | CancelledError>"
    )
    // a class: its heritage with the fields, methods without bodies
    assert.include(
      page("ExecutorError"),
      'export class CancelledError extends Schema.TaggedError<CancelledError>()("CancelledError", {\n  futureId: Schema.Number\n}) {\n  override get message(): string\n}'
    )
    // {@link X} becomes a link to X's section
    assert.include(page("Future"), "Options of [`wait`](#wait).")
  })

  it("reports exports without JSDoc and renders every export form", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "effect-futures-api-docs-fixture-"))
    const errors = vi.spyOn(console, "error").mockImplementation(() => {})
    try {
      fs.mkdirSync(path.join(dir, "src"))
      fs.writeFileSync(
        path.join(dir, "src/index.ts"),
        '/**\n * The fixture.\n *\n * @since 1.0.0\n */\n\n/** @since 1.0.0 */\nexport * as Mod from "./Mod.ts"\n'
      )
      fs.writeFileSync(
        path.join(dir, "src/Mod.ts"),
        [
          "/**",
          " * A module.",
          " *",
          " * @since 1.2.0",
          " */",
          'import * as Effect from "effect/Effect"',
          "",
          "/**",
          " * Makes one.",
          " *",
          " * @example",
          " * ```ts",
          " * make(1)",
          " * ```",
          " * @see {@link Shape} for what it makes",
          " * @category constructors",
          " * @since 1.2.0",
          " */",
          "export const make = <A>(a: A, b: number = 1): Effect.Effect<A> => Effect.succeed(a)",
          "",
          "/**",
          " * The shape.",
          " *",
          " * @category models",
          " * @since 1.2.0",
          " */",
          "export interface Shape {",
          "  readonly a: number",
          "}",
          "",
          "const _delete: (s: Shape) => void = () => {}",
          "export {",
          "  /**",
          "   * Deletes.",
          "   *",
          "   * @since 1.3.0",
          "   */",
          "  _delete as delete",
          "}",
          "",
          "export const undocumented = 1",
          ""
        ].join("\n")
      )
      const files = generate(dir)
      assert.deepStrictEqual([...files.keys()].sort(), ["Mod.md", "README.md"])
      const page = files.get("Mod.md")!
      assert.include(page, "export declare const make: <A>(a: A, b?: number) => Effect.Effect<A>")
      assert.include(page, "**Example**\n\n```ts\nmake(1)\n```")
      assert.include(page, "- [`Shape`](#shape) for what it makes")
      assert.include(page, "export interface Shape {\n  readonly a: number\n}")
      assert.include(page, "### delete\n\nDeletes.")
      assert.include(page, "export declare const delete: (s: Shape) => void\n```\n\nAdded in v1.3.0")
      assert.include(page, "Added in v1.2.0")
      assert.include(page, "## exports\n\n### delete") // no @category
      assert.include(files.get("README.md")!, "- [`make`](Mod.md#make): Makes one.")
      const reported = errors.mock.calls.map((call) => String(call[0]))
      assert.isTrue(reported.some((line) => line.includes("export undocumented has no JSDoc")))
      assert.isTrue(reported.some((line) => line.includes("undocumented has no type annotation")))
    } finally {
      errors.mockRestore()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe("docs/python-migration.md", () => {
  const guide = path.join(root, "docs/python-migration.md")
  const examples = read(path.join(root, "docs/python-migration.examples.ts"))

  it("shows only TypeScript that docs/python-migration.examples.ts type-checks, and all of it", () => {
    const regions = [...examples.matchAll(/^\/\/ #region ([\w-]+)\n([\s\S]*?)^\/\/ #endregion$/gm)].map((m) =>
      m[2].trimEnd()
    )
    const snippets = [...read(guide).matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1].trimEnd())
    assert.isAtLeast(snippets.length, 20)
    for (const snippet of snippets) {
      assert.include(regions, snippet, `a snippet of the guide is not a region of the examples file:\n${snippet}`)
    }
    for (const region of regions) assert.include(snippets, region, `a region is not in the guide:\n${region}`)
  })

  it("links only to files and headings that exist", () => {
    assertLinksResolve(guide)
  })
})
