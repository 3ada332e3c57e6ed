// Packages the library exactly as a publisher would (`npm pack` on a tree with
// no dist/: the `prepack` script builds it) and uses it from a throwaway
// consumer project: the exports map, the compiled dist/ and the types must all
// work from node_modules (where Node refuses to strip TypeScript), the
// dependency tree must be valid (`npm ls`), and the optional peer
// @effect/platform-node is needed by the command only.
import { assert, describe, it } from "@effect/vitest"
import { execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { supported } from "../../src/cli/nodeVersion.ts"

const root = path.resolve(import.meta.dirname, "../..")
const run = (cmd: string, args: Array<string>, cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 150_000 })

/** Runs a command expected to fail; returns its exit code and output. */
const runFailing = (cmd: string, args: Array<string>, cwd: string) => {
  const child = spawnSync(cmd, args, { cwd, encoding: "utf8", timeout: 60_000 })
  return { code: child.status, stdout: child.stdout, stderr: child.stderr }
}

/**
 * `npm ls --all` in the consumer: exits 0 and reports nothing invalid, missing or
 * extraneous. An optional peer that is not installed is listed as "UNMET OPTIONAL
 * DEPENDENCY", which is what optional means, so those lines are left out.
 */
const assertCleanTree = (dir: string) => {
  const ls = spawnSync("npm", ["ls", "--all"], { cwd: dir, encoding: "utf8", timeout: 60_000 })
  const out = ls.stdout + ls.stderr
  assert.strictEqual(ls.status, 0, out)
  const problems = out.split("\n").filter((l) => !l.includes("UNMET OPTIONAL DEPENDENCY"))
  assert.notMatch(problems.join("\n"), /invalid|missing|UNMET|extraneous|ERR!|overridden/i, out)
  return out
}

/** A Node.js older than the command supports (the system's, when it has one), for the entry guard. */
const oldNode = (() => {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, "node")
    if (dir.includes("node_modules") || !fs.existsSync(candidate)) continue
    const version = spawnSync(candidate, ["--version"], { encoding: "utf8" }).stdout?.trim() ?? ""
    if (/^v\d+/.test(version) && !supported(version)) return { path: candidate, version }
  }
  return undefined
})()

describe("package", () => {
  it("pack - the tarball installs and runs in a fresh consumer, internals are blocked", { timeout: 180_000 }, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "effect-futures-consumer-"))
    try {
      // as on a fresh clone: no dist/ (publishing builds it in `prepack`)
      fs.rmSync(path.join(root, "dist"), { recursive: true, force: true })
      const tarball = run("npm", ["pack", "--pack-destination", dir, "--silent"], root).trim().split("\n").pop()!
      const listed = run("tar", ["-tzf", path.join(dir, tarball)], dir).split("\n")
      for (const file of ["dist/index.js", "dist/index.d.ts", "dist/cli/bin.js", "dist/cli/worker.js"])
        assert.include(listed, `package/${file}`)
      assert.isFalse(
        listed.some((f) => /^package\/(test|bench|examples|node_modules)\//.test(f)),
        "only the library ships"
      )
      fs.writeFileSync(
        path.join(dir, "package.json"),
        JSON.stringify({ name: "consumer", private: true, type: "module" })
      )
      run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", path.join(dir, tarball)], dir)
      // effect came in as the peer it is; the executors need no @effect/platform-node (an optional peer)
      const tree = assertCleanTree(dir)
      assert.match(tree, /effect@4\.\d+\.\d+/)
      assert.isFalse(fs.existsSync(path.join(dir, "node_modules/@effect/platform-node")), tree)
      fs.writeFileSync(
        path.join(dir, "main.js"),
        `import { Effect, Stream } from "effect"
import { Future, IoExecutor } from "effect-futures"
import * as IoExecutorDirect from "effect-futures/IoExecutor"
const program = Effect.gen(function* () {
  const ex = yield* IoExecutor.IoExecutor
  const f = yield* ex.submit(Effect.succeed(20))
  const mapped = yield* Stream.runCollect(ex.map([1, 2], (n) => Effect.succeed(n)))
  return [yield* Future.await(f), mapped.join(","), IoExecutorDirect.layer === IoExecutor.layer]
})
console.log(JSON.stringify(await Effect.runPromise(Effect.provide(program, IoExecutor.layer({ maxWorkers: 2 })))))
try { await import("effect-futures/internal/dispatcher") ; console.log("internal reachable") } catch (e) { console.log(e.code) }
`
      )
      const out = run(process.execPath, ["main.js"], dir).trim().split("\n")
      assert.deepStrictEqual(out, [`[20,"1,2",true]`, "ERR_PACKAGE_PATH_NOT_EXPORTED"])

      // a CPU worker entry written in plain JavaScript against the compiled package
      fs.writeFileSync(
        path.join(dir, "tasks.js"),
        `import * as Schema from "effect/Schema"
import * as Task from "effect-futures/Task"
export class Odd extends Schema.TaggedError()("Odd", { n: Schema.Number }) {}
export const Half = Task.make("Half", { payload: Schema.Number, success: Schema.Number, error: Odd })
`
      )
      fs.writeFileSync(
        path.join(dir, "worker.js"),
        `import * as Effect from "effect/Effect"
import * as CpuWorker from "effect-futures/CpuWorker"
import { Half, Odd } from "./tasks.js"
CpuWorker.serve([CpuWorker.handler(Half, (n) => n % 2 ? Effect.fail(new Odd({ n })) : Effect.succeed(n / 2))])
`
      )
      fs.writeFileSync(
        path.join(dir, "cpu.js"),
        `import { Effect } from "effect"
import { CpuExecutor, Future } from "effect-futures"
import { Half, Odd } from "./tasks.js"
const program = Effect.gen(function* () {
  const cpu = yield* CpuExecutor.CpuExecutor
  const even = yield* Future.await(yield* cpu.submit(Half, 42))
  const odd = yield* Effect.flip(Future.await(yield* cpu.submit(Half, 3)))
  return [even, odd instanceof Odd, odd.n]
})
const layer = CpuExecutor.layer({ worker: new URL("./worker.js", import.meta.url), maxWorkers: 1 })
console.log(JSON.stringify(await Effect.runPromise(Effect.provide(program, layer))))
`
      )
      assert.strictEqual(run(process.execPath, ["cpu.js"], dir).trim(), "[21,true,3]")
      assert.isTrue(fs.existsSync(path.join(dir, "node_modules/effect-futures/dist/IoExecutor.d.ts")))

      // the bin: without its optional peer it says what to install
      fs.mkdirSync(path.join(dir, "texts"))
      fs.writeFileSync(path.join(dir, "texts/a.txt"), "hello wörld\nzwei drei\n")
      const bin = path.join(dir, "node_modules/.bin/effect-futures")
      const noPeer = runFailing(process.execPath, [bin, "files", "texts"], dir)
      assert.strictEqual(noPeer.code, 1, noPeer.stderr)
      assert.match(
        noPeer.stderr,
        /^effect-futures: the command needs @effect\/platform-node.*npm install @effect\/platform-node/
      )
      assert.strictEqual(noPeer.stdout, "")
      // on a Node older than it supports, the bin says which it needs (and exits non-zero)
      if (oldNode !== undefined) {
        const old = runFailing(oldNode.path, [bin, "files", "texts"], dir)
        assert.strictEqual(old.code, 1, old.stderr)
        assert.match(old.stderr, /^effect-futures: needs Node\.js 22\.19\.0 or newer; this is Node\.js /)
      }
      // with the peer installed: the file processor from the installed package (compiled .js worker entry)
      run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "@effect/platform-node@^4.1.5"], dir)
      assertCleanTree(dir)
      const report = JSON.parse(run(process.execPath, [bin, "files", "texts", "--json", "--progress", "none"], dir))
      assert.deepStrictEqual(report.totals, { lines: 2, words: 4, bytes: 23, chars: 22 })
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe("the command's Node.js guard", () => {
  it("supported: 22.19.0 and newer", () => {
    for (const v of ["22.19.0", "v22.19.0", "22.20.1", "23.0.0", "24.21.0", "v26.10.0"]) assert.isTrue(supported(v), v)
    for (const v of ["22.18.9", "v22.0.0", "20.20.2", "18.0.0", "v21.99.99"]) assert.isFalse(supported(v), v)
  })
})

describe("dependencies", () => {
  it("the library's modules import only effect and Node's built-ins (integration packages are for the command and ClusterNode)", () => {
    const src = path.join(root, "src")
    const files = fs
      .readdirSync(src, { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".ts") && !f.startsWith(`cli${path.sep}`))
    assert.isAtLeast(files.length, 10)
    // the barrel does not pull the multi-process cluster (and so its optional peers) in
    assert.notInclude(fs.readFileSync(path.join(src, "index.ts"), "utf8"), "ClusterNode")
    for (const file of files) {
      // the code, without comments (the JSDoc examples import the package by its name)
      const text = fs
        .readFileSync(path.join(src, file), "utf8")
        .split("\n")
        .filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line))
        .join("\n")
      for (const [, specifier] of text.matchAll(/(?:from|import\()\s*"([^"]+)"/g)) {
        // ClusterNode is the multi-process cluster's module, imported only by its path
        // (effect-futures/ClusterNode, never through the barrel): it needs the optional
        // peers @effect/platform-node (runner sockets) and @effect/sql-pg (shared storage)
        const integration = file === "ClusterNode.ts" && /^@effect\/(platform-node|sql-pg)\//.test(specifier)
        const allowed =
          integration || specifier.startsWith(".") || specifier.startsWith("node:") || /^effect(\/|$)/.test(specifier)
        assert.isTrue(allowed, `src/${file} imports ${specifier}`)
      }
    }
  })
})
