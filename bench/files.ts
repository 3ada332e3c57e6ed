// `npm run bench:files [-- --mb 512 --rounds 3]`: the file processor's throughput
// against GNU wc on the same corpus. wc -lwmc runs once over all files under
// LC_ALL=C.UTF-8 (one process, one core); the processor runs `files <dir>
// --mode analyze` with 1 and 2 CPU workers. Both read from the page cache (a
// warm-up read first). Medians of the rounds; writes bench/results/files.{json,md}.
import { execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : fallback
}
const totalMb = arg("mb", 512)
const rounds = arg("rounds", 3)
const main = path.resolve(import.meta.dirname, "../src/cli/bin.ts")

// the corpus: one file of half the size (one file, many chunks) and 200 files sharing the rest
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "files-bench-"))
const line = Buffer.from("The quick brown fox jumps over the lazy dog. Größe, naïve café: 日本語のテキスト 🚀\n")
const fill = (bytes: number) => {
  const b = Buffer.alloc(bytes)
  for (let i = 0; i < bytes; i += line.length) line.copy(b, i)
  // end on a whole line so every file is valid UTF-8
  return b.subarray(0, bytes - (bytes % line.length))
}
const big = fill((totalMb / 2) << 20)
fs.writeFileSync(path.join(dir, "big.txt"), big)
const small = fill(Math.floor(((totalMb / 2) << 20) / 200))
for (let i = 0; i < 200; i++) {
  fs.mkdirSync(path.join(dir, `d${i % 10}`), { recursive: true })
  fs.writeFileSync(path.join(dir, `d${i % 10}`, `f${i}.txt`), small)
}
const files = fs
  .readdirSync(dir, { recursive: true })
  .map(String)
  .filter((f) => f.endsWith(".txt"))
  .map((f) => path.join(dir, f))
const bytes = files.reduce((s, f) => s + fs.statSync(f).size, 0)

const time = (f: () => void) => {
  const t0 = performance.now()
  f()
  return (performance.now() - t0) / 1000
}
const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

execFileSync("cat", files, { stdio: ["ignore", "ignore", "inherit"], maxBuffer: Infinity }) // warm the page cache
const wcLines: Array<string> = []
const runs: Record<string, Array<number>> = { wc: [], "files --workers 1": [], "files --workers 2": [] }
const rss: Record<string, number> = {}
let totals: unknown
for (let r = 0; r < rounds; r++) {
  runs.wc.push(
    time(() => {
      const out = execFileSync("wc", ["-l", "-w", "-m", "-c", ...files], {
        env: { ...process.env, LC_ALL: "C.UTF-8" },
        maxBuffer: 64 << 20
      })
      wcLines.splice(0, wcLines.length, out.toString().trim().split("\n").at(-1)!.trim())
    })
  )
  for (const workers of [1, 2]) {
    const key = `files --workers ${workers}`
    let stdout = ""
    runs[key].push(
      time(() => {
        const child = spawnSync(
          process.execPath,
          [main, "files", dir, "--json", "--progress", "none", "--workers", String(workers)],
          { maxBuffer: 256 << 20 }
        )
        if (child.status !== 0) throw new Error(`files exited ${child.status}: ${child.stderr}`)
        stdout = child.stdout.toString()
      })
    )
    const report = JSON.parse(stdout)
    totals = report.totals
    rss[key] = Math.max(rss[key] ?? 0, report.maxRssBytes)
  }
}
fs.rmSync(dir, { recursive: true, force: true })

const [lines, words, chars] = wcLines[0].split(/\s+/).map(Number)
const t = totals as { lines: number; words: number; chars: number; bytes: number }
const agree = t.lines === lines && t.words === words && t.chars === chars && t.bytes === bytes
const mbps = (s: number) => bytes / 1e6 / s
const rows = Object.entries(runs).map(([name, xs]) => ({
  name,
  seconds: median(xs),
  mbPerSecond: mbps(median(xs)),
  ratioToWc: median(runs.wc) / median(xs),
  maxRssMb: rss[name] === undefined ? undefined : rss[name] / 1e6
}))
const md = [
  `# files vs wc (${(bytes / 1e6).toFixed(0)} MB in ${files.length} files, one of ${(big.length / 1e6).toFixed(0)} MB; ${rounds} rounds, medians; ${os.availableParallelism()} cores)`,
  "",
  "| run | seconds | MB/s | throughput ÷ wc's | peak RSS |",
  "|---|--:|--:|--:|--:|",
  ...rows.map(
    (r) =>
      `| ${r.name} | ${r.seconds.toFixed(2)} | ${r.mbPerSecond.toFixed(0)} | ${r.ratioToWc.toFixed(2)}× | ${r.maxRssMb === undefined ? "" : `${r.maxRssMb.toFixed(0)} MB`} |`
  ),
  "",
  `Counts agree with wc: ${agree ? "yes" : `NO (wc ${lines} ${words} ${chars} ${bytes}, files ${t.lines} ${t.words} ${t.chars} ${t.bytes})`}.`,
  "The files runs include starting Node, effect and the worker threads (about 0.45 s here, measured on an empty directory).",
  ""
].join("\n")
fs.mkdirSync(path.resolve(import.meta.dirname, "results"), { recursive: true })
fs.writeFileSync(path.resolve(import.meta.dirname, "results/files.md"), md)
fs.writeFileSync(
  path.resolve(import.meta.dirname, "results/files.json"),
  JSON.stringify({ bytes, files: files.length, rounds, rows, agree }, null, 2)
)
console.log(md)
if (!agree) process.exit(1)
