// The file processor CLI: its kernels against GNU wc, and the command run as a
// child process (as a user runs it) on generated trees.
import { assert, describe, it } from "@effect/vitest"
import { execFileSync, spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { TestClock } from "effect/testing"
import { generate } from "../../src/cli/corpus.ts"
import * as batch from "../../src/cli/batch.ts"
import * as Files from "../../src/cli/files.ts"
import { FileError, InvalidUtf8Error } from "../../src/cli/tasks.ts"
import * as Report from "../../src/cli/report.ts"
import * as scan from "../../src/cli/scan.ts"

const main = path.resolve(import.meta.dirname, "../../src/cli/bin.ts")

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs `effect-futures files …`; with `onStderr`, may signal the child when its stderr says so. */
const cli = (args: ReadonlyArray<string>, onStderr?: (text: string, child: ReturnType<typeof spawn>) => void) =>
  new Promise<Run>((resolve, reject) => {
    const child = spawn(process.execPath, [main, "files", ...args], { stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => {
      stderr += d
      onStderr?.(stderr, child)
    })
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "files-test-"))

/** GNU wc's counts (lines, words, chars, bytes) under the C.UTF-8 locale, or undefined without wc. */
const wc = (file: string) => {
  try {
    const out = execFileSync("wc", ["-l", "-w", "-m", "-c", file], { env: { ...process.env, LC_ALL: "C.UTF-8" } })
    const [lines, words, chars, bytes] = out.toString().trim().split(/\s+/).map(Number)
    return { lines, words, chars, bytes }
  } catch {
    return undefined
  }
}
const hasWc = wc(main) !== undefined && execFileSync("locale", ["-a"]).toString().toLowerCase().includes("c.utf")

/** Counts a buffer split into chunks at random sizes, as the reader would. */
const countChunked = (bytes: Uint8Array, sizes: () => number) => {
  const totals = scan.emptyTotals()
  let rest = bytes
  while (rest.length > 0) {
    let take = Math.min(rest.length, sizes())
    let cut = take === rest.length ? take : scan.split(rest.subarray(0, take), false)
    // no boundary yet (a sequence longer than the chunk): read on, as the reader does
    while (cut <= 0)
      cut = (take = Math.min(rest.length, take * 2)) === rest.length ? take : scan.split(rest.subarray(0, take), false)
    scan.mergeCounts(totals, scan.count(rest.subarray(0, cut)))
    rest = rest.subarray(cut)
  }
  return totals
}

describe("files: kernels", () => {
  it.skipIf(!hasWc)("count agrees with GNU wc on random text, whole and in chunks", () => {
    const pieces = ["a", "word ", "\n", "\r\n", "\t", " ", "é", "日本", "😀", "\u00a0", "\u2000", "\u2028", "\x01"]
    const invalid = [0xff, 0xc3, 0x80, 0xe2, 0x82, 0xed, 0xa0, 0xc0, 0xf4, 0x90, 0xf8, 0x88, 0xfc, 0x84, 0xfe]
    let seed = 7
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n)
    const dir = tmp()
    for (let round = 0; round < 150; round++) {
      const parts: Array<Uint8Array> = []
      for (let i = rnd(300); i > 0; i--)
        parts.push(rnd(8) === 0 ? Uint8Array.of(invalid[rnd(invalid.length)]) : Buffer.from(pieces[rnd(pieces.length)]))
      const bytes = new Uint8Array(Buffer.concat(parts))
      const file = path.join(dir, `r${round}.txt`)
      fs.writeFileSync(file, bytes)
      const expected = wc(file)!
      for (const totals of [countChunked(bytes, () => bytes.length), countChunked(bytes, () => 4 + rnd(16))]) {
        const { lines, words, chars, bytes: n } = totals
        assert.deepStrictEqual({ lines, words, chars, bytes: n }, expected, `round ${round}`)
      }
    }
  })

  it("split cuts after the last line end, or before an incomplete character", () => {
    const b = (s: string | Array<number>) =>
      typeof s === "string" ? new Uint8Array(Buffer.from(s)) : Uint8Array.from(s)
    assert.strictEqual(scan.split(b("ab\ncd"), true), 3)
    assert.strictEqual(scan.split(b("abcd"), true), -1)
    assert.strictEqual(scan.split(b("ab\r"), true), -1, "a final \\r may be the first half of \\r\\n")
    assert.strictEqual(scan.split(b("a\rb"), true), 2)
    assert.strictEqual(scan.split(b([0x61, 0xe6, 0x97]), false), 1, "keeps an incomplete 日 for the next chunk")
    assert.strictEqual(scan.split(b([0x61, 0xe6, 0x97, 0xa5]), false), 4)
  })

  it("validate finds line endings, long lines, trailing whitespace and invalid bytes", () => {
    const f = scan.validate(new Uint8Array(Buffer.from("ok\r\nlong line here \nx\ty\t\n\xff\rend")), 10)
    assert.deepStrictEqual(
      {
        lf: f.lf,
        crlf: f.crlf,
        cr: f.cr,
        long: f.longLines,
        firstLong: f.firstLongLine,
        trailing: f.trailingWhitespace
      },
      { lf: 2, crlf: 1, cr: 1, long: 1, firstLong: 2, trailing: 2 }
    )
    assert.strictEqual(f.lines, 5)
    const invalid = scan.validate(Uint8Array.from([0x61, 0x0a, 0x62, 0xff]), 80)
    assert.strictEqual(invalid.firstInvalid, 3)
  })

  it("transform reverses each line's characters and refuses invalid UTF-8", () => {
    const out = scan.transform(new Uint8Array(Buffer.from("abc\r\n日本😀\nx")), "reverse")
    assert.strictEqual(Buffer.from(out as Uint8Array).toString(), "cba\r\n😀本日\nx")
    assert.deepStrictEqual(scan.transform(Uint8Array.from([0x61, 0x62, 0xff]), "upper"), { invalidAt: 2 })
  })
})

/** Random text with multi-byte characters, invalid bytes and every kind of separator. */
const randomBytes = (seed: number, pieces: number) => {
  const words = ["a", "word ", "\n", "\r\n", "\t", " ", "é", "日本", "😀", "\u00a0", "\u2028", "\x01"]
  const invalid = [0xff, 0xc3, 0x80, 0xe2, 0x82, 0xed, 0xa0, 0xf8, 0x88]
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n)
  const parts: Array<Uint8Array> = []
  for (let i = 0; i < pieces; i++)
    parts.push(rnd(10) === 0 ? Uint8Array.of(invalid[rnd(invalid.length)]) : Buffer.from(words[rnd(words.length)]))
  return new Uint8Array(Buffer.concat(parts))
}

const figuresOf = (counts: scan.Counts | scan.Totals) => {
  const { lines, words, bytes, chars, invalid, firstInvalid } = counts
  return { lines, words, bytes, chars, invalid, firstInvalid }
}

describe("files: workers reading files", () => {
  it("a batch counts each file as a whole; large files, files past its budget and what is not a regular file come back", () => {
    const dir = tmp()
    const chunk = 64
    const sizes = [0, 10, 150, 64 * 8 + 1, 300, 90, 200]
    const paths = sizes.map((n, i) => {
      const file = path.join(dir, `f${i}.txt`)
      fs.writeFileSync(file, randomBytes(i + 1, 400).subarray(0, n))
      return file
    })
    paths.push(path.join(dir, "missing.txt"), dir)
    const { figures, errors } = batch.countFiles(paths, chunk)
    const status = (i: number) => figures[i * batch.STRIDE]
    const counted = (i: number) => {
      const at = i * batch.STRIDE
      const [lines, words, bytes, chars, invalid, firstInvalid] = figures.subarray(at + 1, at + 7)
      return { lines, words, bytes, chars, invalid, firstInvalid }
    }
    // 0 + 10 + 150 bytes, then a large file (not read), then 300 bytes: over 4 chunks, the rest is left
    for (const i of [0, 1, 2, 4]) {
      assert.strictEqual(status(i), batch.OK, `file ${i}`)
      assert.deepStrictEqual(counted(i), figuresOf(scan.count(fs.readFileSync(paths[i]))), `file ${i}`)
    }
    assert.strictEqual(status(3), batch.LARGE)
    assert.strictEqual(figures[3 * batch.STRIDE + 3], 64 * 8 + 1, "a large file's size")
    for (const i of [5, 6, 7, 8]) assert.strictEqual(status(i), batch.LEFT, `file ${i}`)
    assert.deepStrictEqual(errors, [])
    // a missing file fails with its code; a directory is handed back
    const rest = batch.countFiles(paths.slice(7), chunk)
    assert.strictEqual(rest.figures[0], batch.ERROR)
    assert.strictEqual(rest.errors[0].code, "ENOENT")
    assert.match(rest.errors[0].message, /^ENOENT: /)
    assert.strictEqual(rest.figures[batch.STRIDE], batch.REDO)
  })

  it("ranges read by different workers merge into the whole file's counts, wherever they cut a character", () => {
    const dir = tmp()
    for (let round = 0; round < 40; round++) {
      const bytes = randomBytes(round + 100, 200 + round * 20)
      const file = path.join(dir, `r${round}.txt`)
      fs.writeFileSync(file, bytes)
      const expected = figuresOf(scan.count(bytes))
      for (const size of [5, 7, 64, 101]) {
        const totals = scan.emptyTotals()
        for (let start = 0; start < bytes.length; start += size) {
          const end = start + size >= bytes.length ? -1 : start + size
          scan.mergeCounts(totals, batch.countRange(file, start, end, 64))
        }
        assert.deepStrictEqual(figuresOf(totals), expected, `round ${round}, ranges of ${size}`)
      }
    }
  })
})

describe("files: retries", () => {
  it.effect("a transient read error is retried with exponential backoff, a permanent one is not", () =>
    Effect.gen(function* () {
      assert.isTrue(Files.retryable(new FileError({ path: "a", code: "EIO", reason: "i/o error" })))
      assert.isTrue(Files.retryable(new FileError({ path: "a", code: "EMFILE", reason: "too many open files" })))
      assert.isFalse(Files.retryable(new FileError({ path: "a", code: "ENOENT", reason: "gone" })))
      assert.isFalse(Files.retryable(new InvalidUtf8Error({ offset: 3 })))
      // the schedule the run uses: attempts at 0, 100, 300, 700 ms
      const attempts: Array<number> = []
      const flaky = Effect.gen(function* () {
        attempts.push(yield* Clock.currentTimeMillis)
        return yield* new FileError({ path: "a", code: "EIO", reason: "i/o error" })
      })
      const fiber = yield* Effect.forkChild(
        Effect.flip(Effect.retry(flaky, { schedule: Files.backoff, times: 3, while: Files.retryable }))
      )
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "FileError")
      assert.deepStrictEqual(attempts, [0, 100, 300, 700])
    })
  )
})

describe("files: the report", () => {
  const failed = (i: number): Files.Outcome => ({
    status: "error",
    file: `f${String(i).padStart(3, "0")}.txt`,
    bytes: 10,
    attempts: 1,
    ms: 1,
    error: { tag: "FileError", message: "EACCES: permission denied" }
  })

  it("progress: says it is scanning while the directory is listed; an ETA only once there is a rate", () => {
    const report = Files.makeReport("analyze", "/x", 0)
    report.total = 12_345
    assert.strictEqual(Report.progressLine(report, 5_000), "scanning… 12,345 files found")
    report.scanning = false
    report.totalBytes = 1000
    assert.notMatch(Report.progressLine(report, 5_000), /ETA|finishing/, "nothing done yet: no rate")
    report.outcomes.push({ status: "ok", file: "a", bytes: 100, attempts: 1, ms: 1 })
    report.bytesDone = 100
    assert.match(Report.progressLine(report, 5_000, 10), /^\[█*░*\] 1\/12345 files \(0%\), .*, ETA \d/)
  })

  it("progress: files done while the tree is still listed, with no total", () => {
    const report = Files.makeReport("analyze", "/x", 0)
    report.total = 500
    report.outcomes.push({ status: "ok", file: "a", bytes: 2_000_000, attempts: 1, ms: 1 })
    report.bytesDone = 2_000_000
    assert.strictEqual(
      Report.progressLine(report, 1_000),
      "scanning… 500 files found, 1 done, 1 files/s, 2.00 MB/s, 0 failed"
    )
  })

  it("the Markdown report lists every file; the terminal summary stops at 20", () => {
    const report = Files.makeReport("analyze", "/x", 0)
    report.scanning = false
    for (let i = 0; i < 45; i++) report.outcomes.push(failed(i))
    report.total = 45
    report.failed = 45
    const md = Report.markdown(report)
    assert.notMatch(md, /more \(see/)
    for (let i = 0; i < 45; i++) assert.include(md, `    ${failed(i).file}: FileError`)
    assert.match(Report.summary(report), /… and 25 more \(see --report or --json\)/)
  })
})

describe("files: the command", { timeout: 60_000 }, () => {
  it.skipIf(!hasWc)("analyze: every file's counts equal wc -lwmc, with small chunks; errors are reported", async () => {
    const dir = tmp()
    await generate(dir)
    // the named pipe has no writer here: it reads as empty
    const run = await cli([dir, "--json", "--progress", "none", "--chunk-size", "4096", "--timeout", "20s"])
    assert.strictEqual(run.code, 1, run.stderr) // the broken link fails
    const report = JSON.parse(run.stdout)
    let checked = 0
    for (const o of report.outcomes) {
      if (o.status !== "ok" || o.file.startsWith("slow/")) continue
      const expected = wc(path.join(dir, o.file))!
      const { lines, words, chars, bytes } = o.counts
      assert.deepStrictEqual({ lines, words, chars, bytes }, expected, o.file)
      checked++
    }
    assert.isAtLeast(checked, 290)
    const byFile = new Map<string, any>(report.outcomes.map((o: any) => [o.file, o]))
    const missing = byFile.get("broken/missing-target.txt")
    assert.strictEqual(missing.status, "error")
    assert.match(missing.error.message, /ENOENT/)
    assert.strictEqual(missing.attempts, 1, "a missing file is not retried")
    assert.match(byFile.get("broken/latin1.txt").warning, /invalid UTF-8 \(2 bytes, first at byte 3\)/)
    assert.strictEqual(report.files.found, report.outcomes.length)
    const sum = (k: string) =>
      report.outcomes.reduce((s: number, o: any) => s + (o.status === "ok" ? o.counts[k] : 0), 0)
    assert.strictEqual(report.totals.words, sum("words"))
  })

  it.skipIf(!hasWc)(
    "which files: the paths find selects with the README's expression, counted as wc --files0-from counts them",
    async () => {
      const dir = tmp()
      const write = (rel: string, data: string | Uint8Array) => {
        fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true })
        fs.writeFileSync(path.join(dir, rel), data)
      }
      for (let i = 0; i < 40; i++) write(`d${i % 4}/e${i % 3}/f${i}.txt`, randomBytes(i, 50 + i * 30))
      write("empty.txt", "")
      write("large.txt", randomBytes(7, 20_000)) // more than 8 chunks of 256 bytes: counted in ranges
      fs.symlinkSync("../d1/e1/f1.txt", path.join(dir, "d0/to-file.txt")) // followed
      fs.symlinkSync("d2", path.join(dir, "to-dir")) // not followed
      fs.symlinkSync("nowhere.txt", path.join(dir, "broken.txt")) // listed, fails in both
      fs.symlinkSync("loop.txt", path.join(dir, "loop.txt")) // listed, fails in both
      fs.linkSync(path.join(dir, "d3/e0/f3.txt"), path.join(dir, "hard.txt")) // counted once per path
      // the README's expression; find warns of the loop (and exits 1) but lists it
      const selection = ["(", "-type", "f", "-o", "-type", "p", "-o", "-type", "l", "!", "-xtype", "d"]
      const listed = spawnSync("find", [
        dir,
        ...selection,
        "!",
        "-xtype",
        "b",
        "!",
        "-xtype",
        "c",
        "!",
        "-xtype",
        "s",
        ")",
        "-print0"
      ]).stdout
      const paths = listed
        .toString()
        .split("\0")
        .filter((p) => p.length > 0)
      const run = await cli([dir, "--json", "--progress", "none", "--chunk-size", "256", "--workers", "2"])
      assert.strictEqual(run.code, 1, run.stderr) // the broken link and the loop
      const report = JSON.parse(run.stdout)
      assert.deepStrictEqual(
        report.outcomes.map((o: any) => path.join(dir, o.file)).sort(),
        [...paths].sort(),
        "the same paths as find"
      )
      const failed = report.outcomes.filter((o: any) => o.status !== "ok").map((o: any) => o.file)
      assert.deepStrictEqual(failed.sort(), ["broken.txt", "loop.txt"])
      const wcRun = spawnSync("wc", ["--files0-from=-", "-l", "-w", "-m", "-c"], {
        input: listed,
        env: { ...process.env, LC_ALL: "C.UTF-8" }
      })
      assert.strictEqual(wcRun.status, 1, "wc fails the same two files")
      const [lines, words, chars, bytes] = wcRun.stdout
        .toString()
        .trim()
        .split("\n")
        .at(-1)!
        .trim()
        .split(/\s+/)
        .map(Number)
      assert.deepStrictEqual(report.totals, { lines, words, chars, bytes })
      assert.strictEqual((wcRun.stderr.toString().match(/^wc: /gm) ?? []).length, 2)
    }
  )

  it.skipIf(!hasWc)("a tiny time limit: every file has one outcome, its exact counts or a timeout", async () => {
    // a batch that its worker finishes within the executor's grace period after the limit
    // keeps its results; one stopped runs its files again alone. Whichever way each file
    // goes, it has one outcome
    const dir = tmp()
    for (let i = 0; i < 30; i++) fs.writeFileSync(path.join(dir, `f${i}.txt`), randomBytes(i, 2000))
    const run = await cli([dir, "--json", "--progress", "none", "--timeout", "1ms", "--workers", "2"])
    assert.include([0, 1], run.code, run.stderr)
    const report = JSON.parse(run.stdout)
    assert.strictEqual(report.outcomes.length, 30)
    assert.strictEqual(new Set(report.outcomes.map((o: any) => o.file)).size, 30)
    for (const o of report.outcomes) {
      if (o.status === "ok") {
        const { lines, words, chars, bytes } = o.counts
        assert.deepStrictEqual({ lines, words, chars, bytes }, wc(path.join(dir, o.file)), o.file)
      } else {
        assert.strictEqual(o.status, "timeout", JSON.stringify(o))
        assert.strictEqual(o.error.message, "timed out after 1ms")
      }
    }
  })

  it("the sample corpus: a timeout and handled errors, the run goes on; its deliberate failures give exit code 0", async () => {
    // Only the never-ending pipe can time out: every worker has started before any file's
    // clock starts, and every other file takes a few hundred milliseconds at most even with
    // both cores busy, far below this limit (which the pipe reaches whatever the machine).
    const limit = 5_000
    const run = await cli(["--json", "--progress", "none", "--timeout", `${limit}ms`])
    assert.strictEqual(run.code, 0, run.stderr)
    const report = JSON.parse(run.stdout)
    const byFile = new Map<string, any>(report.outcomes.map((o: any) => [o.file, o]))
    const pipe = byFile.get("slow/live-feed.log")
    assert.strictEqual(pipe.status, "timeout")
    assert.isAtLeast(pipe.ms, limit)
    assert.strictEqual(byFile.get("broken/missing-target.txt").status, "error")
    assert.strictEqual(report.files.done, report.files.found)
    assert.strictEqual(report.files.timedOut, 1)
    const others = report.outcomes.filter((o: any) => o !== pipe && !o.file.startsWith("broken/"))
    assert.isAtLeast(others.length, 290)
    for (const o of others) assert.strictEqual(o.status, "ok", `${o.file} (${o.ms} ms)`)
  })

  it("transform: writes the tree under --out, atomically, never touching inputs; invalid UTF-8 fails that file", async () => {
    const dir = tmp()
    const out = path.join(tmp(), "out")
    fs.mkdirSync(path.join(dir, "a/b"), { recursive: true })
    const long = "x".repeat(10_000) + "é\n"
    fs.writeFileSync(path.join(dir, "a/b/one.txt"), "Hello, wörld\nsecond line\n")
    fs.writeFileSync(path.join(dir, "a/long.txt"), long.repeat(3))
    fs.writeFileSync(path.join(dir, "bad.txt"), Buffer.concat([Buffer.from("ok\n".repeat(2000)), Buffer.from([0xff])]))
    fs.writeFileSync(path.join(dir, "skip.md"), "not selected\n")
    const run = await cli([
      dir,
      "--mode",
      "transform",
      "--op",
      "reverse",
      "--out",
      out,
      "--ext",
      "txt",
      "--chunk-size",
      "1024",
      "--json",
      "--progress",
      "none"
    ])
    assert.strictEqual(run.code, 1, run.stderr)
    assert.strictEqual(fs.readFileSync(path.join(out, "a/b/one.txt"), "utf8"), "dlröw ,olleH\nenil dnoces\n")
    assert.strictEqual(
      fs.readFileSync(path.join(out, "a/long.txt"), "utf8"),
      ("é" + "x".repeat(10_000) + "\n").repeat(3)
    )
    assert.isFalse(fs.existsSync(path.join(out, "bad.txt")))
    assert.isFalse(fs.existsSync(path.join(out, "skip.md")))
    assert.deepStrictEqual(fs.readdirSync(out, { recursive: true }).sort(), ["a", "a/b", "a/b/one.txt", "a/long.txt"])
    assert.strictEqual(fs.readFileSync(path.join(dir, "a/b/one.txt"), "utf8"), "Hello, wörld\nsecond line\n")
    const bad = JSON.parse(run.stdout).outcomes.find((o: any) => o.file === "bad.txt")
    assert.strictEqual(bad.error.tag, "InvalidUtf8Error")
    assert.match(bad.error.message, /byte 6000\b/, "the offset is the file's, not the chunk's")
    // upper case, and --out inside the input tree is not read back as input
    const inner = path.join(dir, "upper")
    const again = await cli([
      dir,
      "--mode",
      "transform",
      "--op",
      "upper",
      "--out",
      inner,
      "--ext",
      ".md",
      "--progress",
      "none"
    ])
    assert.strictEqual(again.code, 0, again.stderr)
    assert.strictEqual(fs.readFileSync(path.join(inner, "skip.md"), "utf8"), "NOT SELECTED\n")
  })

  it("validate: findings per file, exit code 1", async () => {
    const dir = tmp()
    fs.writeFileSync(path.join(dir, "clean.txt"), "fine\nlines\n")
    fs.writeFileSync(path.join(dir, "mixed.txt"), "\uFEFFa\r\nb\nc  \n" + "y".repeat(200) + "\n")
    const run = await cli([dir, "--mode", "validate", "--json", "--progress", "none", "--max-line-length", "100"])
    assert.strictEqual(run.code, 1, run.stderr)
    const byFile = new Map<string, any>(JSON.parse(run.stdout).outcomes.map((o: any) => [o.file, o]))
    const f = byFile.get("mixed.txt").findings
    assert.deepStrictEqual(
      {
        bom: f.bom,
        lf: f.lf,
        crlf: f.crlf,
        trailing: f.trailingWhitespace,
        firstTrailing: f.firstTrailing,
        long: f.longLines,
        max: f.maxLine
      },
      { bom: true, lf: 3, crlf: 1, trailing: 1, firstTrailing: 3, long: 1, max: 200 }
    )
    const clean = byFile.get("clean.txt").findings
    assert.strictEqual(clean.lf, 2)
    const ok = await cli([dir, "--mode", "validate", "--ext", ".txt", "--progress", "none", "--max-line-length", "300"])
    assert.strictEqual(ok.code, 1, "mixed.txt still has a BOM and mixed line endings")
  })

  it("bad usage exits 2 with one line on stderr naming the problem, a hint to --help, nothing on stdout", async () => {
    const dir = tmp()
    const full = tmp()
    fs.writeFileSync(path.join(full, "existing.txt"), "x\n")
    const cases: Array<[ReadonlyArray<string>, string | RegExp]> = [
      // the parser's errors, in the command's own words
      [[dir, "--workers", "abc"], `--workers: expected an integer ≥ 1, got "abc"`],
      [[dir, "--mode", "count"], `--mode: expected one of analyze, transform, validate, got "count"`],
      [[dir, "--bogus"], "unknown option --bogus"],
      [[dir, "--json", "--chunk-size"], "--chunk-size: missing value, expected an integer ≥ 64"],
      [[dir, dir], /^unexpected argument "/],
      // the command's own checks
      [[path.join(dir, "nope")], /^not a directory/],
      [[dir, "--timeout", "soon"], /^--timeout: expected a positive duration/],
      [[dir, "--workers", "0"], `--workers: expected an integer ≥ 1, got "0"`],
      [[dir, "--retries", "-1"], `--retries: expected an integer ≥ 0, got "-1"`],
      [[dir, "--ext", ","], `--ext: expected extensions such as txt,md or .txt, got ","`],
      [[dir, "--mode", "transform"], "--out <dir> is required with --mode transform"],
      [[dir, "--mode", "transform", "--out", dir], /^--out must not be the input directory/],
      [
        [dir, "--mode", "transform", "--out", path.join(full, "existing.txt"), "--force"],
        /^--out: .* is a file, not a directory$/
      ],
      [
        [dir, "--mode", "transform", "--out", full],
        /^--out: .* already exists and is not empty; pass --force to write into it$/
      ],
      // flags that mean nothing in the mode are errors, not ignored
      [[dir, "--op", "upper"], "--op: only meaningful with --mode transform"],
      [[dir, "--mode", "validate", "--out", full], "--out: only meaningful with --mode transform"],
      [[dir, "--force"], "--force: only meaningful with --mode transform"],
      [
        [dir, "--mode", "transform", "--out", full, "--max-line-length", "80"],
        "--max-line-length: only meaningful with --mode validate"
      ],
      [[dir, "--ext-case-sensitive"], "--ext-case-sensitive: only meaningful with --ext"]
    ]
    for (const [args, message] of cases) {
      const run = await cli([...args, "--progress", "none"])
      const what = `${args.join(" ")}: ${run.stderr}`
      assert.strictEqual(run.code, 2, what)
      assert.strictEqual(run.stdout, "", what)
      const match = /^effect-futures: (.*) \(see: effect-futures files --help\)\n$/.exec(run.stderr)
      assert.isNotNull(match, what)
      if (typeof message === "string") assert.strictEqual(match![1], message, what)
      else assert.match(match![1], message, what)
    }
    assert.deepStrictEqual(fs.readdirSync(full), ["existing.txt"], "a refused run writes nothing")
  })

  it("--ext matches the end of the name, ignoring case unless --ext-case-sensitive; --force writes into a full --out", async () => {
    const dir = tmp()
    for (const name of ["a.txt", "B.TXT", "c.Md", "d.tar.gz", "txt", "e.text"])
      fs.writeFileSync(path.join(dir, name), "x\n")
    const found = async (...args: Array<string>) => {
      const run = await cli([dir, ...args, "--json", "--progress", "none"])
      assert.strictEqual(run.code, 0, run.stderr)
      return JSON.parse(run.stdout)
        .outcomes.map((o: any) => o.file)
        .sort()
    }
    assert.deepStrictEqual(await found("--ext", "txt,.md"), ["B.TXT", "a.txt", "c.Md"])
    assert.deepStrictEqual(await found("--ext", "TXT", "--ext-case-sensitive"), ["B.TXT"])
    assert.deepStrictEqual(await found("--ext", "tar.gz"), ["d.tar.gz"])
    const out = tmp()
    fs.writeFileSync(path.join(out, "a.txt"), "old\n")
    fs.writeFileSync(path.join(out, "kept.txt"), "kept\n")
    const run = await cli([dir, "--mode", "transform", "--out", out, "--force", "--ext", "txt", "--progress", "none"])
    assert.strictEqual(run.code, 0, run.stderr)
    assert.strictEqual(fs.readFileSync(path.join(out, "a.txt"), "utf8"), "X\n")
    assert.strictEqual(fs.readFileSync(path.join(out, "kept.txt"), "utf8"), "kept\n")
  })

  it("Ctrl-C cancels outstanding work, prints the partial summary and exits 130", async () => {
    let sent = false
    // the sample corpus's pipe never ends: with a long timeout the run is still going when interrupted
    const run = await cli(["--timeout", "60s", "--progress", "lines"], (stderr, child) => {
      if (!sent && /progress: 30\d\/303/.test(stderr)) {
        sent = true
        child.kill("SIGINT")
      }
    })
    assert.isTrue(sent, run.stderr)
    assert.strictEqual(run.code, 130, run.stderr)
    assert.match(run.stdout, /Interrupted: partial summary/)
    assert.match(run.stdout, /1 not done/)
  })
})
