// `npm run bench:files [-- --corpus big,small,usr-share --workers 1,2 --rounds 3 --mb 512 --files 30000]`:
// the file processor's throughput against GNU wc on the same paths.
//
// Corpora (see filesCorpus.ts): `big` (537 MB in 201 files, one of 268 MB), `small` (30,000
// generated files, median 3 KB, a tail up to 8 MB, nested folders, links) and `usr-share`
// (this machine's /usr/share, where it exists). For each, the paths are those that find
// selects with the README's expression for what the processor selects (regular files, and
// symbolic links but those to directories, devices and sockets), without named pipes (the
// bench checks that the processor's list is the same, path for path). wc runs as
// `wc --files0-from=LIST -lwmc` under LC_ALL=C.UTF-8 (one process, one core); the processor as
// `files DIR --json --progress none --workers N`. Both read from the page cache (a warm-up
// wc run first). Every run is a fresh process timed by /usr/bin/time (wall, user + system
// CPU, peak RSS); the order of systems rotates each round; the CPU that other processes used
// meanwhile is sampled from /proc/stat. Medians of the rounds, and the median of per-round
// ratios to wc; writes bench/results/files.{json,md}.
import { execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as corpus from "./filesCorpus.ts"
import { readProcStat } from "./measure.ts"
import { median } from "./stats.ts"

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? process.argv[i + 1] : fallback
}
const rounds = Number(arg("rounds", "3"))
const workerCounts = arg("workers", "1,2").split(",").map(Number)
const wanted = arg("corpus", "big,small,usr-share").split(",")
const main = path.resolve(import.meta.dirname, "../src/cli/bin.ts")
const ticksPerSecond = 100 // USER_HZ on Linux

const corpora: Array<{ readonly name: string; readonly dir: string }> = []
for (const name of wanted) {
  if (name === "big") corpora.push({ name, dir: corpus.big(Number(arg("mb", "512"))) })
  else if (name === "small") corpora.push({ name, dir: corpus.small(Number(arg("files", "30000"))) })
  else if (name === "usr-share") {
    if (fs.existsSync("/usr/share")) corpora.push({ name, dir: "/usr/share" })
    else console.log("no /usr/share here: skipped")
  } else throw new Error(`unknown corpus ${name}`)
}

interface Sample {
  readonly wall: number
  readonly cpu: number
  readonly rssMb: number
  /** CPU seconds that other processes used during the run. */
  readonly others: number
}

/** Runs a command under /usr/bin/time; returns its stdout and the figures. */
const timed = (command: string, args: ReadonlyArray<string>, env?: NodeJS.ProcessEnv) => {
  const out = path.join(os.tmpdir(), `files-bench-time-${process.pid}`)
  const before = readProcStat()
  const child = spawnSync("/usr/bin/time", ["-f", "%e %U %S %M", "-o", out, command, ...args], {
    env: env ?? process.env,
    maxBuffer: 1 << 30
  })
  const after = readProcStat()
  const [wall, user, system, rssKb] = fs.readFileSync(out, "utf8").trim().split("\n").at(-1)!.split(" ").map(Number)
  const busy = before && after ? (after.busy - before.busy) / ticksPerSecond : 0
  const sample: Sample = {
    wall,
    cpu: user + system,
    rssMb: (rssKb * 1024) / 1e6,
    others: Math.max(0, busy - user - system)
  }
  return { child, sample }
}

const load = () => fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")
const revision = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: import.meta.dirname })
  .toString()
  .trim()
const dirty =
  execFileSync("git", ["status", "--porcelain", "--", "src", "bench"], { cwd: import.meta.dirname }).length > 0
const startedAt = new Date().toISOString()
const loadBefore = load()

const results: Array<Record<string, unknown>> = []
const md: Array<string> = []
let allAgree = true
for (const { name, dir } of corpora) {
  // the README's expression for what the processor selects, without named pipes (on which wc would wait)
  const listing = spawnSync(
    "find",
    [
      dir,
      "(",
      "-type",
      "f",
      "-o",
      "-type",
      "l",
      "!",
      "-xtype",
      "d",
      "!",
      "-xtype",
      "b",
      "!",
      "-xtype",
      "c",
      "!",
      "-xtype",
      "s",
      "!",
      "-xtype",
      "p",
      ")",
      "-print0"
    ],
    { maxBuffer: 1 << 30 }
  ).stdout
  const paths = listing
    .toString()
    .split("\0")
    .filter((p) => p.length > 0)
  const list = path.join(os.tmpdir(), `files-bench-list-${process.pid}`)
  fs.writeFileSync(list, listing)
  let bytes = 0
  for (const p of paths) bytes += fs.statSync(p, { throwIfNoEntry: false })?.size ?? 0
  const wcArgs = [`--files0-from=${list}`, "-l", "-w", "-m", "-c"]
  const wcEnv = { ...process.env, LC_ALL: "C.UTF-8" }
  spawnSync("wc", wcArgs, { env: wcEnv, maxBuffer: 1 << 30 }) // warm the page cache

  const systems = ["wc", ...workerCounts.map((w) => `files --workers ${w}`)]
  const samples = new Map<string, Array<Sample>>(systems.map((s) => [s, []]))
  const ratios = new Map<string, Array<number>>(systems.map((s) => [s, []]))
  let wcTotals: Array<number> = []
  let ours: { lines: number; words: number; chars: number; bytes: number } | undefined
  let sameFiles = true
  let failed = 0
  for (let r = 0; r < rounds; r++) {
    const order = systems.map((_, i) => systems[(i + r) % systems.length])
    const round = new Map<string, number>()
    for (const system of order) {
      if (system === "wc") {
        const { child, sample } = timed("wc", wcArgs, wcEnv)
        wcTotals = child.stdout.toString().trim().split("\n").at(-1)!.trim().split(/\s+/).slice(0, 4).map(Number)
        samples.get(system)!.push(sample)
        round.set(system, sample.wall)
        continue
      }
      const workers = system.split(" ").at(-1)!
      const { child, sample } = timed(process.execPath, [
        main,
        "files",
        dir,
        "--json",
        "--progress",
        "none",
        "--workers",
        workers
      ])
      if (child.status !== 0 && child.status !== 1) throw new Error(`files exited ${child.status}: ${child.stderr}`)
      const report = JSON.parse(child.stdout.toString())
      ours = report.totals
      failed = report.files.failed + report.files.timedOut
      const found = new Set<string>(report.outcomes.map((o: { file: string }) => path.join(dir, o.file)))
      sameFiles = found.size === paths.length && paths.every((p) => found.has(p))
      samples.get(system)!.push(sample)
      round.set(system, sample.wall)
    }
    for (const s of systems) ratios.get(s)!.push(round.get("wc")! / round.get(s)!)
  }
  const [lines, words, chars, wcBytes] = wcTotals
  const agree =
    sameFiles &&
    ours !== undefined &&
    ours.lines === lines &&
    ours.words === words &&
    ours.chars === chars &&
    ours.bytes === wcBytes
  allAgree &&= agree
  const rows = systems.map((s) => {
    const xs = samples.get(s)!
    const wall = median(xs.map((x) => x.wall))
    return {
      corpus: name,
      run: s,
      seconds: wall,
      filesPerSecond: paths.length / wall,
      mbPerSecond: bytes / 1e6 / wall,
      cpuSeconds: median(xs.map((x) => x.cpu)),
      maxRssMb: Math.max(...xs.map((x) => x.rssMb)),
      ratioToWc: median(ratios.get(s)!),
      othersCpuSeconds: median(xs.map((x) => x.others)),
      walls: xs.map((x) => x.wall)
    }
  })
  results.push({ corpus: name, dir, files: paths.length, bytes, agree, failed, rows })
  md.push(
    `## ${name}: ${paths.length.toLocaleString("en-US")} files, ${(bytes / 1e6).toFixed(0)} MB (${dir})`,
    "",
    "| run | seconds (range) | files/s | MB/s | CPU s | peak RSS | throughput ÷ wc's | others' CPU s |",
    "|---|--:|--:|--:|--:|--:|--:|--:|",
    ...rows.map(
      (r) =>
        `| ${r.run} | ${r.seconds.toFixed(2)} (${Math.min(...r.walls).toFixed(2)}–${Math.max(...r.walls).toFixed(2)}) | ${Math.round(r.filesPerSecond).toLocaleString("en-US")} | ${r.mbPerSecond.toFixed(0)} | ${r.cpuSeconds.toFixed(2)} | ${r.maxRssMb.toFixed(0)} MB | ${r.ratioToWc.toFixed(2)}× | ${r.othersCpuSeconds.toFixed(2)} |`
    ),
    "",
    `Same paths as find: ${sameFiles ? "yes" : "NO"}. Counts agree with wc: ${agree ? "yes" : `NO (wc ${wcTotals.join(" ")}, files ${ours?.lines} ${ours?.words} ${ours?.chars} ${ours?.bytes})`}.` +
      (failed > 0 ? ` ${failed} files failed (unreadable), in both.` : ""),
    ""
  )
  console.log(md.slice(-(rows.length + 7)).join("\n"))
}

const header = [
  `# files vs wc (${rounds} rounds, medians; ${os.availableParallelism()} cores; ${os.cpus()[0]?.model ?? ""})`,
  "",
  `${startedAt} → ${new Date().toISOString()}, git ${revision}${dirty ? " (with uncommitted changes)" : ""}, Node ${process.versions.node}; load average before ${loadBefore}, after ${load()}.`,
  "Whole runs, start-up included (Node, effect and the worker threads: about 0.45 s). Throughput ÷ wc's is the median of",
  'per-round ratios of wall times; "others\' CPU s" is the CPU that other processes used during the run (0 on a quiet machine).',
  ""
]
fs.mkdirSync(path.resolve(import.meta.dirname, "results"), { recursive: true })
fs.writeFileSync(path.resolve(import.meta.dirname, "results/files.md"), [...header, ...md].join("\n"))
fs.writeFileSync(
  path.resolve(import.meta.dirname, "results/files.json"),
  JSON.stringify(
    { startedAt, revision, dirty, rounds, load: { before: loadBefore, after: load() }, corpora: results },
    null,
    2
  )
)
console.log(header.join("\n"))
if (!allAgree) process.exit(1)
