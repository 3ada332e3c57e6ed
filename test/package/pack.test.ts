// Packages the library as npm would publish it and uses it from a throwaway
// consumer project: the exports map, the compiled dist/ and the types must all
// work from node_modules (where Node refuses to strip TypeScript).
import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "../..")
const run = (cmd: string, args: Array<string>, cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 150_000 })

describe("package", () => {
  it("pack - the tarball installs and runs in a fresh consumer, internals are blocked", { timeout: 180_000 }, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "effect-futures-consumer-"))
    try {
      run("npm", ["run", "build"], root)
      const tarball = run("npm", ["pack", "--pack-destination", dir, "--silent"], root).trim().split("\n").pop()!
      fs.writeFileSync(
        path.join(dir, "package.json"),
        JSON.stringify({ name: "consumer", private: true, type: "module" })
      )
      run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", path.join(dir, tarball)], dir)
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

      // the bin: the file processor from the installed package (compiled .js worker entry)
      fs.mkdirSync(path.join(dir, "texts"))
      fs.writeFileSync(path.join(dir, "texts/a.txt"), "hello wörld\nzwei drei\n")
      const bin = path.join(dir, "node_modules/.bin/effect-futures")
      const report = JSON.parse(run(process.execPath, [bin, "files", "texts", "--json", "--progress", "none"], dir))
      assert.deepStrictEqual(report.totals, { lines: 2, words: 4, bytes: 23, chars: 22 })
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
