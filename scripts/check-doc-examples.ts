// Type-checks every ```ts example in the JSDoc of src/*.ts: each example is
// written to its own module under .tmp/doc-examples, with `effect-futures`
// mapped to src/, and the lot is compiled with the project's settings.
// Part of `npm run typecheck`, so examples cannot rot.
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "..")
const out = path.join(root, ".tmp/doc-examples")
fs.rmSync(out, { recursive: true, force: true })
fs.mkdirSync(out, { recursive: true })

let count = 0
for (const file of fs.readdirSync(path.join(root, "src")).filter((f) => f.endsWith(".ts"))) {
  const text = fs.readFileSync(path.join(root, "src", file), "utf8")
  const fence = /^\s*\* ```ts[^\n]*\n([\s\S]*?)^\s*\* ```/gm
  let match: RegExpExecArray | null
  let n = 0
  while ((match = fence.exec(text)) !== null) {
    const body = match[1]
      .split("\n")
      .map((line) => line.replace(/^\s*\* ?/, ""))
      .join("\n")
    const line = text.slice(0, match.index).split("\n").length
    fs.writeFileSync(
      path.join(out, `${file.replace(/\.ts$/, "")}-${++n}.ts`),
      `// src/${file}:${line}\n${body}\nexport {}\n`
    )
    count++
  }
}

fs.writeFileSync(
  path.join(out, "tsconfig.json"),
  JSON.stringify({
    extends: "../../tsconfig.json",
    compilerOptions: {
      noUnusedLocals: false,
      noUnusedParameters: false,
      paths: { "effect-futures": ["../../src/index.ts"], "effect-futures/*": ["../../src/*.ts"] }
    },
    include: ["./*.ts"]
  })
)
try {
  execFileSync(path.join(root, "node_modules/.bin/tsc"), ["--noEmit", "-p", out], { stdio: "inherit" })
} catch {
  console.error(`doc examples: type errors (the first line of each file in ${out} names its source)`)
  process.exit(1)
}
console.log(`doc examples: ${count} examples type-check`)
