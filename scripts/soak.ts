// The soak run: `npm run soak` (1,000,000 tasks through each executor),
// `npm run soak -- --tasks 100000`, `npm run soak -- --only cpu`.
//
// What it does and checks is described in scripts/soak/run.ts. This file
// parses the options, makes sure a full GC can be forced (it re-executes
// itself under `node --expose-gc --no-flush-bytecode` when started without
// them), prints the results, writes bench/results/soak.json and
// bench/results/soak.md, and exits non-zero when any check failed (the heap
// check included).
import * as Effect from "effect/Effect"
import { execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { type ExecutorReport, mb, soak } from "./soak/run.ts"

const usage = "usage: node scripts/soak.ts [--tasks N] [--only io|cpu]"

const parseArgs = (args: ReadonlyArray<string>): { tasks: number; only: "io" | "cpu" | undefined } => {
  let tasks = 1_000_000
  let only: "io" | "cpu" | undefined
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    const [flag, inline] = arg.includes("=") ? arg.split("=", 2) : [arg, undefined]
    const value = () => inline ?? args[++i]
    if (flag === "--tasks") {
      tasks = Number(value())
      if (!Number.isInteger(tasks) || tasks < 1_000) throw new Error(`--tasks: an integer >= 1000 (${usage})`)
    } else if (flag === "--only") {
      const v = value()
      if (v !== "io" && v !== "cpu") throw new Error(`--only: io or cpu (${usage})`)
      only = v
    } else {
      throw new Error(`unknown argument ${arg} (${usage})`)
    }
  }
  return { tasks, only }
}

const root = path.resolve(import.meta.dirname, "..")

/**
 * The flags the run needs; it runs itself again with them when started
 * without (as `npm run soak` does).
 *
 * - `--expose-gc`: heap figures are taken after a forced full GC.
 * - `--no-flush-bytecode`: V8 otherwise drops the bytecode of functions that
 *   have not run for a while (module initialisation, the warm-up's one-off
 *   paths) during later GCs. Measured here, that alone made the heap at the
 *   end about 4 MB *lower* than at the start of a 300k-task run, enough to
 *   hide a leak of that size from the heap check. With it, start and end
 *   differ by what the run itself retains.
 */
const nodeFlags = ["--expose-gc", "--no-flush-bytecode"]

const main = async () => {
  const { tasks, only } = parseArgs(process.argv.slice(2))
  const gc = (globalThis as { gc?: () => void }).gc
  const missing = nodeFlags.filter((flag) => !process.execArgv.includes(flag))
  if (typeof gc !== "function" || missing.length > 0) {
    const child = spawnSync(
      process.execPath,
      [...missing, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
      { stdio: "inherit" }
    )
    process.exit(child.status ?? 1)
  }

  const startedAt = new Date()
  const loadAtStart = os.loadavg()[0]
  const t0 = performance.now()
  const log = (line: string) => console.log(`[${((performance.now() - t0) / 1000).toFixed(1)} s] ${line}`)
  const reports = await Effect.runPromise(soak({ tasks, only, gc, log }))
  const wallMs = performance.now() - t0

  const meta = {
    date: startedAt.toISOString(),
    git: git(),
    node: process.version,
    machine: `${os.cpus()[0]?.model.trim() ?? "unknown CPU"}, ${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.type()} ${os.release()}`,
    // other processes on the machine slow the run down (timings), not the checks
    loadAverage1m: { start: Number(loadAtStart.toFixed(2)), end: Number(os.loadavg()[0].toFixed(2)) },
    tasksPerExecutor: tasks,
    totalWallMs: Math.round(wallMs)
  }
  const ok = reports.every((r) => r.ok)
  const markdown = render(meta, reports)
  console.log(`\n${markdown}`)
  const out = path.join(root, "bench/results")
  fs.mkdirSync(out, { recursive: true })
  fs.writeFileSync(path.join(out, "soak.json"), `${JSON.stringify({ ...meta, ok, reports }, null, 2)}\n`)
  fs.writeFileSync(path.join(out, "soak.md"), markdown)
  console.log(`wrote bench/results/soak.json and bench/results/soak.md; ${ok ? "all checks held" : "CHECKS FAILED"}`)
  process.exit(ok ? 0 : 1)
}

const git = (): string => {
  try {
    return execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: root, encoding: "utf8" }).trim()
  } catch {
    return "unknown"
  }
}

const k = (n: number) => (n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : String(Math.round(n)))

const render = (meta: Record<string, unknown>, reports: ReadonlyArray<ExecutorReport>): string => {
  const lines: Array<string> = []
  lines.push("# Soak run", "")
  lines.push(
    `\`npm run soak\`: ${Number(meta.tasksPerExecutor).toLocaleString("en")} tasks through each executor, every outcome and way of consuming a future, under backpressure (scripts/soak/run.ts describes it).`,
    "",
    `- ${meta.date}, git \`${meta.git}\`, Node ${meta.node}; ${meta.machine}; total wall ${(Number(meta.totalWallMs) / 1000).toFixed(1)} s; 1-minute load average ${(meta.loadAverage1m as { start: number }).start} at the start, ${(meta.loadAverage1m as { end: number }).end} at the end.`,
    "- Heap: `heapUsed` after two forced full GCs (`--expose-gc`, with `--no-flush-bytecode` so that V8 dropping old bytecode does not mask growth), at the start of the measured run (after a warm-up on the same executor), half way (tasks in flight), at the end (executor alive, nothing in flight) and after the executor's release.",
    "- Bound: the end may exceed the start by at most 2 MB + 5% of the start (see `heapBound` in scripts/soak/run.ts); a leak of one pointer per future is about 6 MB over 1M tasks (750k futures).",
    ""
  )
  lines.push(
    "| executor | tasks | futures | wall (s) | tasks/s | heap start | heap middle | heap end | end − start | bound | after release | checks |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  )
  for (const r of reports) {
    const h = r.heap
    const p = r.phase
    lines.push(
      `| ${r.executor} | ${p.tasks.toLocaleString("en")} | ${(p.futures + p.map.futures).toLocaleString("en")} | ${(p.wallMs / 1000).toFixed(1)} | ${k(p.tasksPerSecond)} | ` +
        (h === undefined
          ? "– | – | – | – | – | – | "
          : `${mb(h.start)} | ${mb(h.middle)} | ${mb(h.end)} | ${((h.end - h.start) / 2 ** 20).toFixed(2)} MB | ${mb(r.heapBound!)} | ${mb(h.afterRelease)} | `) +
        `${r.ok ? "✅ all" : `❌ ${r.checks.filter((c) => !c.ok).length} failed`} |`
    )
  }
  lines.push("", "## Outcomes of submitted futures", "")
  lines.push(
    "| executor | succeeded | typed error | defect | timed out | cancelled | crashed | of which collateral | wrong | cancelled while queued | while running | map blocks (items, failing, hit by a crash) |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  )
  for (const r of reports) {
    const o = r.phase.outcomes
    const p = r.phase
    lines.push(
      `| ${r.executor} | ${o.succeeded} | ${o.typed} | ${o.defect} | ${o.timeout} | ${o.cancelled} | ${o.crashed} | ${p.collateral} | ${o.wrong} | ${p.cancelled.whileQueued} | ${p.cancelled.whileRunning} | ${p.map.blocks} (${p.map.items}, ${p.map.failingBlocks}, ${p.map.blocksHitByCrash}) |`
    )
  }
  lines.push("", "Scenarios, consumption methods and worker events:", "")
  for (const r of reports) {
    const p = r.phase
    const fmt = (o: Record<string, number>) =>
      Object.entries(o)
        .map(([key, v]) => `${key} ${v}`)
        .join(", ")
    lines.push(`- **${r.executor}** scenarios: ${fmt(p.scenarios)}.`)
    lines.push(`  Consumed by: ${fmt(p.methods)}; map ${p.map.items} items.`)
    if (Object.keys(p.extra).length > 0) lines.push(`  Workers: lost ${p.lostWorkers}; ${fmt(p.extra)}.`)
  }
  lines.push("", "## Checks", "")
  for (const r of reports) {
    for (const c of r.checks) lines.push(`- ${c.ok ? "✅" : "❌"} ${r.executor}: ${c.name}: ${c.detail}`)
  }
  lines.push("")
  return lines.join("\n")
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
