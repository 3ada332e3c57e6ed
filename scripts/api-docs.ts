// Generates the API reference, docs/api/<Module>.md and docs/api/README.md,
// from the JSDoc of the public modules that src/index.ts re-exports.
//
//   npm run docs                      writes docs/api/
//   node scripts/api-docs.ts --out D  writes to D instead (the test regenerates
//                                     into a temp dir and compares with docs/api)
//
// TypeScript 7 has no JavaScript API, so the sources are parsed with Babel's
// TypeScript parser (through @babel/core, a devDependency). For every export
// the page shows its JSDoc (the description with its examples, `@example`,
// `@see`), a declaration signature built from the source (arrow functions
// become `declare const name: (params) => Return`; interfaces and types are
// shown as written; classes without their method bodies) and `@since`, grouped
// by `@category`. The output is deterministic: the same sources give the same
// bytes. Exports without a description are reported on stderr (and fail
// test/docs/api-docs.test.ts).
import { parseSync, types as t } from "@babel/core"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

/** A documented export of a module. */
export interface Entry {
  readonly name: string
  readonly kind: "const" | "function" | "interface" | "type" | "class"
  readonly signature: string
  readonly doc: Doc
}

/** A public module, as src/index.ts re-exports it. */
export interface Module {
  readonly name: string
  readonly file: string
  readonly doc: Doc
  readonly entries: ReadonlyArray<Entry>
}

/** A parsed JSDoc comment. */
export interface Doc {
  /** The text before the first tag, Markdown. */
  readonly description: string
  readonly since: string | undefined
  readonly category: string | undefined
  readonly examples: ReadonlyArray<string>
  readonly see: ReadonlyArray<string>
}

const emptyDoc: Doc = { description: "", since: undefined, category: undefined, examples: [], see: [] }

// ---------------------------------------------------------------------------
// extraction
// ---------------------------------------------------------------------------

const parse = (source: string, filename: string): t.File => {
  const ast = parseSync(source, {
    filename,
    babelrc: false,
    configFile: false,
    sourceType: "module",
    parserOpts: { plugins: ["typescript"] }
  })
  if (ast === null) throw new Error(`${filename}: Babel returned no AST`)
  return ast
}

const isJsDoc = (comment: t.Comment): boolean => comment.type === "CommentBlock" && comment.value.startsWith("*")

/** The JSDoc comment right before a node, if any. */
const docComment = (node: t.Node): t.Comment | undefined => {
  const comments = node.leadingComments ?? []
  const last = comments[comments.length - 1]
  return last !== undefined && isJsDoc(last) ? last : undefined
}

/** Parses a JSDoc comment's text (without the delimiters) into description and tags. */
export const parseDoc = (value: string): Doc => {
  const lines = value
    .replace(/^\*/, "")
    .split("\n")
    .map((line) => line.replace(/^\s*\* ?/, "").replace(/^\s+$/, ""))
  const description: Array<string> = []
  const tags: Array<{ tag: string; lines: Array<string> }> = []
  let fenced = false
  for (const line of lines) {
    if (/^\s*```/.test(line)) fenced = !fenced
    const tag = fenced ? null : /^@(\w+)\s*(.*)$/.exec(line)
    if (tag !== null) tags.push({ tag: tag[1], lines: tag[2] === "" ? [] : [tag[2]] })
    else if (tags.length > 0) tags[tags.length - 1].lines.push(line)
    else description.push(line)
  }
  const text = (ls: ReadonlyArray<string>) => ls.join("\n").trim()
  const first = (name: string) => {
    const found = tags.find((tag) => tag.tag === name)
    return found === undefined ? undefined : text(found.lines)
  }
  return {
    description: text(description),
    since: first("since"),
    category: first("category"),
    examples: tags.filter((tag) => tag.tag === "example").map((tag) => text(tag.lines)),
    see: tags.filter((tag) => tag.tag === "see").map((tag) => text(tag.lines))
  }
}

const nameOf = (node: t.Identifier | t.StringLiteral): string => (t.isIdentifier(node) ? node.name : node.value)

const docOf = (comment: t.Comment | undefined): Doc => (comment === undefined ? emptyDoc : parseDoc(comment.value))

const extract = (source: string, file: string, moduleName: string): Module => {
  const ast = parse(source, file)
  const body = ast.program.body
  const slice = (node: t.Node | null | undefined): string =>
    node === null || node === undefined ? "" : source.slice(node.start!, node.end!)

  // the module's header: the first JSDoc comment, unless it documents the first statement
  const firstStatement = body[0]
  const firstComment = (ast.comments ?? []).find(isJsDoc)
  const header =
    firstComment !== undefined &&
    firstStatement !== undefined &&
    firstComment.end! <= firstStatement.start! &&
    !(firstStatement.type.startsWith("Export") && docComment(firstStatement) === firstComment)
      ? firstComment
      : undefined

  // module-level variables, for `export { local as name }`
  const locals = new Map<string, t.VariableDeclarator>()
  for (const statement of body) {
    const declaration = t.isExportNamedDeclaration(statement) ? statement.declaration : statement
    if (t.isVariableDeclaration(declaration)) {
      for (const d of declaration.declarations) if (t.isIdentifier(d.id)) locals.set(d.id.name, d)
    }
  }

  const params = (ps: ReadonlyArray<t.Node>): string =>
    ps
      .map((p) => {
        // a default value makes the parameter optional: `options: O = {}` is `options?: O`
        if (t.isAssignmentPattern(p) && t.isIdentifier(p.left)) {
          return `${p.left.name}?${slice(p.left.typeAnnotation)}`
        }
        return slice(p)
      })
      .join(", ")

  const constSignature = (name: string, d: t.VariableDeclarator): string => {
    if (t.isIdentifier(d.id) && d.id.typeAnnotation) {
      return `export declare const ${name}${slice(d.id.typeAnnotation)}`
    }
    const init = d.init
    if ((t.isArrowFunctionExpression(init) || t.isFunctionExpression(init)) && init.returnType) {
      const returnType = slice(init.returnType).replace(/^:\s*/, "")
      return `export declare const ${name}: ${slice(init.typeParameters)}(${params(init.params)}) => ${returnType}`
    }
    console.error(`${file}: ${name} has no type annotation; its signature is its source`)
    return `export const ${name} = ${slice(init)}`
  }

  const classSignature = (c: t.ClassDeclaration): string => {
    const head = source.slice(c.start!, c.body.start!).trimEnd()
    const members = c.body.body.map((m) => {
      const text =
        (t.isClassMethod(m) || t.isClassPrivateMethod(m)) && m.body ? source.slice(m.start!, m.body.start!) : slice(m)
      return `  ${text.trim()}`
    })
    return members.length === 0 ? `${head} {}` : `${head} {\n${members.join("\n")}\n}`
  }

  const entries: Array<Entry> = []
  const add = (name: string, kind: Entry["kind"], signature: string, comment: t.Comment | undefined) => {
    if (comment === undefined) console.error(`${file}: export ${name} has no JSDoc`)
    entries.push({ name, kind, signature, doc: docOf(comment) })
  }

  for (const statement of body) {
    if (t.isExportDefaultDeclaration(statement) || t.isExportAllDeclaration(statement)) {
      throw new Error(`${file}: unsupported export form: ${slice(statement).split("\n")[0]}`)
    }
    if (!t.isExportNamedDeclaration(statement)) continue
    const comment = docComment(statement)
    const declaration = statement.declaration
    if (declaration === null || declaration === undefined) {
      if (statement.source) throw new Error(`${file}: re-exports are not supported: ${slice(statement)}`)
      for (const specifier of statement.specifiers) {
        if (!t.isExportSpecifier(specifier)) continue
        const name = nameOf(specifier.exported)
        const local = locals.get(nameOf(specifier.local))
        if (local === undefined) throw new Error(`${file}: cannot find the declaration of ${nameOf(specifier.local)}`)
        add(name, "const", constSignature(name, local), docComment(specifier) ?? comment)
      }
    } else if (t.isVariableDeclaration(declaration)) {
      for (const d of declaration.declarations) {
        if (!t.isIdentifier(d.id)) throw new Error(`${file}: destructuring exports are not supported`)
        add(d.id.name, "const", constSignature(d.id.name, d), comment)
      }
    } else if (t.isFunctionDeclaration(declaration) && declaration.id) {
      const returnType = declaration.returnType ? slice(declaration.returnType) : ""
      const signature = `export declare function ${declaration.id.name}${slice(declaration.typeParameters)}(${params(declaration.params)})${returnType}`
      add(declaration.id.name, "function", signature, comment)
    } else if (t.isTSInterfaceDeclaration(declaration)) {
      add(declaration.id.name, "interface", slice(statement), comment)
    } else if (t.isTSTypeAliasDeclaration(declaration)) {
      add(declaration.id.name, "type", slice(statement), comment)
    } else if (t.isClassDeclaration(declaration) && declaration.id) {
      add(declaration.id.name, "class", `export ${classSignature(declaration)}`, comment)
    } else {
      throw new Error(`${file}: unsupported export: ${slice(statement).split("\n")[0]}`)
    }
  }
  return { name: moduleName, file, doc: docOf(header), entries }
}

/** The public modules: `export * as Name from "./Name.ts"` in src/index.ts, in that order. */
export const readModules = (root: string): { readonly index: Doc; readonly modules: ReadonlyArray<Module> } => {
  const indexFile = path.join(root, "src/index.ts")
  const indexSource = fs.readFileSync(indexFile, "utf8")
  const ast = parse(indexSource, indexFile)
  const header = (ast.comments ?? []).find(isJsDoc)
  const modules: Array<Module> = []
  for (const statement of ast.program.body) {
    if (!t.isExportNamedDeclaration(statement) || !statement.source) continue
    for (const specifier of statement.specifiers) {
      if (!t.isExportNamespaceSpecifier(specifier)) continue
      const name = nameOf(specifier.exported)
      const file = path.join(root, "src", statement.source.value)
      const rel = path.relative(root, file)
      modules.push(extract(fs.readFileSync(file, "utf8"), rel, name))
    }
  }
  return { index: docOf(header), modules }
}

// ---------------------------------------------------------------------------
// rendering
// ---------------------------------------------------------------------------

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes, repeats numbered. */
const slugger = () => {
  const seen = new Map<string, number>()
  return (heading: string): string => {
    const base = heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-")
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    return n === 0 ? base : `${base}-${n}`
  }
}

const uncategorized = "exports"

const categories = (module: Module): ReadonlyArray<readonly [string, ReadonlyArray<Entry>]> => {
  const groups = new Map<string, Array<Entry>>()
  for (const entry of module.entries) {
    const category = entry.doc.category ?? uncategorized
    const group = groups.get(category) ?? []
    group.push(entry)
    groups.set(category, group)
  }
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}

/** Anchors of every heading of a module page, computed in page order. */
const anchorsOf = (module: Module) => {
  const slug = slugger()
  slug(module.name)
  slug("Contents")
  const categoryAnchors = new Map<string, string>()
  const entryAnchors = new Map<string, string>()
  for (const [category, entries] of categories(module)) {
    categoryAnchors.set(category, slug(category))
    for (const entry of entries) entryAnchors.set(entry.name, slug(entry.name))
  }
  return { categoryAnchors, entryAnchors }
}

type Anchors = ReadonlyMap<string, ReadonlyMap<string, string>>

/** Turns `{@link X}`, `{@link Module.X}` and `{@link X label}` into Markdown links, outside code fences. */
const resolveLinks = (markdown: string, moduleName: string, anchors: Anchors, fromIndex: boolean): string => {
  let fenced = false
  return markdown
    .split("\n")
    .map((line) => {
      if (/^\s*```/.test(line)) fenced = !fenced
      if (fenced) return line
      return line.replace(/\{@link\s+([^\s}|]+)(?:\s*\|?\s*([^}]*))?\}/g, (_, target: string, label?: string) => {
        const text = label !== undefined && label.trim() !== "" ? label.trim() : `\`${target}\``
        const [first, ...rest] = target.split(".")
        const page = (module: string) => (fromIndex || module !== moduleName ? `${module}.md` : "")
        if (rest.length === 1 && anchors.get(first)?.has(rest[0])) {
          return `[${text}](${page(first)}#${anchors.get(first)!.get(rest[0])})`
        }
        if (rest.length === 0 && anchors.get(moduleName)?.has(first)) {
          return `[${text}](${page(moduleName)}#${anchors.get(moduleName)!.get(first)})`
        }
        if (rest.length === 0 && anchors.has(first)) return `[${text}](${first}.md)`
        return text
      })
    })
    .join("\n")
}

/** The first sentence of a description, on one line. */
const summaryOf = (description: string): string => {
  const paragraph = description
    .split(/\n\s*\n/)[0]
    .replace(/\s*\n\s*/g, " ")
    .trim()
  const sentence = /^(.+?[.!?])\s+(?=[A-Z`*])/.exec(paragraph)
  return sentence === null ? paragraph : sentence[1]
}

const generatedNote = "<!-- Generated by `npm run docs` (scripts/api-docs.ts) from the JSDoc in src/. Do not edit. -->"

const renderModule = (module: Module, anchors: Anchors): string => {
  const { categoryAnchors, entryAnchors } = anchorsOf(module)
  const links = (markdown: string) => resolveLinks(markdown, module.name, anchors, false)
  const out: Array<string> = [generatedNote, "", `# ${module.name}`, ""]
  out.push(
    `\`import { ${module.name} } from "effect-futures"\` or \`import * as ${module.name} from "effect-futures/${module.name}"\``,
    ""
  )
  if (module.doc.description !== "") out.push(links(module.doc.description), "")
  if (module.doc.since !== undefined) out.push(`Added in v${module.doc.since}`, "")
  out.push(`Source: [\`${module.file}\`](../../${module.file})`, "")
  out.push("## Contents", "")
  for (const [category, entries] of categories(module)) {
    out.push(`- [${category}](#${categoryAnchors.get(category)})`)
    for (const entry of entries) out.push(`  - [${entry.name}](#${entryAnchors.get(entry.name)})`)
  }
  out.push("")
  for (const [category, entries] of categories(module)) {
    out.push(`## ${category}`, "")
    for (const entry of entries) {
      out.push(`### ${entry.name}`, "")
      if (entry.doc.description !== "") out.push(links(entry.doc.description), "")
      for (const example of entry.doc.examples) out.push("**Example**", "", links(example), "")
      if (entry.doc.see.length > 0) {
        out.push("**See also**", "", ...entry.doc.see.map((see) => `- ${links(see)}`), "")
      }
      out.push("**Signature**", "", "```ts", entry.signature, "```", "")
      if (entry.doc.since !== undefined) out.push(`Added in v${entry.doc.since}`, "")
    }
  }
  return `${out.join("\n").trimEnd()}\n`
}

const renderIndex = (index: Doc, modules: ReadonlyArray<Module>, anchors: Anchors): string => {
  const out: Array<string> = [generatedNote, "", "# effect-futures API reference", ""]
  if (index.description !== "") out.push(index.description, "")
  out.push(
    'Every module is importable from the barrel (`import { Future } from "effect-futures"`) or on its own',
    '(`import * as Future from "effect-futures/Future"`). Coming from Python? See the',
    "[migration guide](../python-migration.md).",
    ""
  )
  out.push("| Module | |", "| --- | --- |")
  for (const module of modules) {
    out.push(`| [${module.name}](${module.name}.md) | ${summaryOf(module.doc.description).replace(/\|/g, "\\|")} |`)
  }
  out.push("")
  for (const module of modules) {
    out.push(`## [${module.name}](${module.name}.md)`, "")
    for (const entry of module.entries) {
      const summary = resolveLinks(summaryOf(entry.doc.description), module.name, anchors, true)
      out.push(`- [\`${entry.name}\`](${module.name}.md#${anchors.get(module.name)!.get(entry.name)}): ${summary}`)
    }
    out.push("")
  }
  return `${out.join("\n").trimEnd()}\n`
}

/** Every file of the reference, by name. */
export const generate = (root: string): ReadonlyMap<string, string> => {
  const { index, modules } = readModules(root)
  const anchors: Anchors = new Map(modules.map((m) => [m.name, anchorsOf(m).entryAnchors]))
  const files = new Map<string, string>()
  for (const module of modules) {
    for (const entry of module.entries) {
      if (entry.doc.description === "") console.error(`${module.file}: ${entry.name} has no description`)
    }
    files.set(`${module.name}.md`, renderModule(module, anchors))
  }
  files.set("README.md", renderIndex(index, modules, anchors))
  return files
}

/** Writes the reference into `out`, removing Markdown files it no longer generates. */
export const write = (root: string, out: string): ReadonlyMap<string, string> => {
  const files = generate(root)
  fs.mkdirSync(out, { recursive: true })
  for (const existing of fs.readdirSync(out)) {
    if (existing.endsWith(".md") && !files.has(existing)) fs.rmSync(path.join(out, existing))
  }
  for (const [name, content] of files) fs.writeFileSync(path.join(out, name), content)
  return files
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(import.meta.dirname, "..")
  const i = process.argv.indexOf("--out")
  const out =
    i >= 0 && process.argv[i + 1] !== undefined ? path.resolve(process.argv[i + 1]) : path.join(root, "docs/api")
  const files = write(root, out)
  console.log(`api docs: ${files.size} files in ${path.relative(process.cwd(), out) || "."}`)
}
