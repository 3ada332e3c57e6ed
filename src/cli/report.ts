/**
 * The file processor's output: the live progress line, the summary, the
 * Markdown report and the JSON report.
 *
 * @internal
 */
import { hasFindings, lineEndings, type Outcome, type Report } from "./files.ts"

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(bytes < 1e7 ? 2 : 1)} MB`
const int = (n: number) => n.toLocaleString("en-US")
const seconds = (ms: number) => (ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms / 1000)} s`)

/** Figures derived from a report at time `now`. */
export const rates = (report: Report, now: number) => {
  const elapsed = Math.max(1, now - report.startedAt)
  const done = report.outcomes.length
  const filesPerSecond = (done * 1000) / elapsed
  const bytesPerSecond = (report.bytesDone * 1000) / elapsed
  const left = report.totalBytes - report.bytesDone
  const eta =
    bytesPerSecond > 0 && report.sizesKnown
      ? (left / bytesPerSecond) * 1000
      : filesPerSecond > 0
        ? ((report.total - done) / filesPerSecond) * 1000
        : NaN
  return { elapsed, done, filesPerSecond, bytesPerSecond, eta }
}

/** One progress line; with `width`, a bar of that many cells leads it. */
export const progressLine = (report: Report, now: number, width?: number): string => {
  const r = rates(report, now)
  const found = `${int(report.total)} file${report.total === 1 ? "" : "s"} found`
  if (report.scanning)
    // files are processed while the tree is listed: no total (nor bar, nor ETA) yet
    return r.done === 0
      ? `scanning… ${found}`
      : `scanning… ${found}, ${r.done} done, ${r.filesPerSecond.toFixed(0)} files/s, ${mb(r.bytesPerSecond)}/s, ${report.failed} failed`
  const ratio = report.total === 0 ? 0 : r.done / report.total
  const bar =
    width === undefined
      ? ""
      : `[${"█".repeat(Math.round(ratio * width))}${"░".repeat(width - Math.round(ratio * width))}] `
  const left = report.total - r.done
  // an estimate needs a rate: nothing until the first file is done
  const eta =
    left === 0 || r.done === 0
      ? ""
      : (report.sizesKnown ? report.bytesDone < report.totalBytes : r.done < report.total) && Number.isFinite(r.eta)
        ? `, ETA ${seconds(r.eta)}`
        : `, finishing ${left} file${left === 1 ? "" : "s"}`
  return (
    `${bar}${r.done}/${report.total} files (${Math.floor(ratio * 100)}%), ` +
    `${r.filesPerSecond.toFixed(0)} files/s, ${mb(r.bytesPerSecond)}/s${eta}, ${report.failed} failed`
  )
}

const partition = (report: Report) => {
  const ok = report.outcomes.filter((o) => o.status === "ok")
  return {
    ok,
    errors: report.outcomes.filter((o) => o.status === "error"),
    timeouts: report.outcomes.filter((o) => o.status === "timeout"),
    warnings: ok.filter((o) => o.warning !== undefined),
    flagged: ok.filter((o) => o.findings !== undefined && hasFindings(o.findings))
  }
}

const totals = (outcomes: ReadonlyArray<Outcome>) => {
  const t = { lines: 0, words: 0, bytes: 0, chars: 0 }
  for (const o of outcomes) {
    if (o.status !== "ok" || o.counts === undefined) continue
    t.lines += o.counts.lines
    t.words += o.counts.words
    t.bytes += o.counts.bytes
    t.chars += o.counts.chars
  }
  return t
}

const reason = (o: Outcome) =>
  o.status === "ok"
    ? (o.warning ?? "")
    : `${o.error.tag}: ${o.error.message}${o.attempts > 1 ? ` (${o.attempts} attempts)` : ""}`

/** What validate found in a file, in words. */
export const describeFindings = (o: Outcome): string => {
  if (o.status !== "ok" || o.findings === undefined) return ""
  const f = o.findings
  const parts: Array<string> = []
  if (f.invalid > 0) parts.push(`invalid UTF-8 at byte ${f.firstInvalid}`)
  if (f.bom) parts.push("byte-order mark")
  const endings = lineEndings(f)
  if (endings.length > 1) parts.push(`mixed line endings (${endings.join(", ")})`)
  if (f.longLines > 0) parts.push(`${f.longLines} long line(s), first at line ${f.firstLongLine}, longest ${f.maxLine}`)
  if (f.trailingWhitespace > 0)
    parts.push(`${f.trailingWhitespace} line(s) with trailing whitespace, first at line ${f.firstTrailing}`)
  return parts.join("; ")
}

/**
 * The summary printed at the end of a run (or when it is interrupted). On the
 * terminal each list stops at 20 files; `complete` lists every file (the
 * Markdown report).
 */
export const summary = (report: Report, options?: { readonly complete?: boolean }): string => {
  const p = partition(report)
  const r = rates(report, report.endedAt)
  const lines = [
    `${report.interrupted ? "Interrupted: partial summary" : "Summary"} (${report.mode} ${report.dir})`,
    `  files       ${report.total} found, ${r.done} done, ${p.ok.length} ok, ${p.errors.length} failed, ${p.timeouts.length} timed out` +
      (report.interrupted ? `, ${report.total - r.done} not done` : "")
  ]
  if (report.mode === "analyze") {
    const t = totals(report.outcomes)
    lines.push(
      `  totals      ${int(t.lines)} lines, ${int(t.words)} words, ${int(t.bytes)} bytes, ${int(t.chars)} characters`
    )
  }
  if (report.mode === "transform") lines.push(`  written     ${p.ok.length} files`)
  if (report.mode === "validate") lines.push(`  findings    ${p.flagged.length} files`)
  lines.push(
    `  elapsed     ${seconds(r.elapsed)}, ${r.filesPerSecond.toFixed(0)} files/s, ${mb(r.bytesPerSecond)}/s (${mb(report.bytesDone)})`
  )
  const list = (title: string, outcomes: ReadonlyArray<Outcome>, text: (o: Outcome) => string) => {
    if (outcomes.length === 0) return
    lines.push(`  ${title}:`)
    const shown = options?.complete ? outcomes : outcomes.slice(0, 20)
    for (const o of shown) lines.push(`    ${o.file}: ${text(o)}`)
    if (outcomes.length > shown.length) lines.push(`    … and ${outcomes.length - 20} more (see --report or --json)`)
  }
  list("errors", p.errors, reason)
  list("timeouts", p.timeouts, reason)
  list("warnings", p.warnings, reason)
  list("findings", p.flagged, describeFindings)
  return lines.join("\n")
}

/**
 * The report as JSON (for `--json`), in pieces of at most `perPiece` outcomes,
 * so that a report of many files is never one string in memory. The pieces
 * joined are `JSON.stringify(report, null, 2)`.
 */
export function* jsonPieces(report: Report, perPiece = 100): Generator<string> {
  const p = partition(report)
  const r = rates(report, report.endedAt)
  const head = JSON.stringify(
    {
      mode: report.mode,
      dir: report.dir,
      interrupted: report.interrupted,
      files: {
        found: report.total,
        done: r.done,
        ok: p.ok.length,
        failed: p.errors.length,
        timedOut: p.timeouts.length
      },
      ...(report.mode === "analyze" ? { totals: totals(report.outcomes) } : {}),
      elapsedMs: Math.round(r.elapsed),
      filesPerSecond: Number(r.filesPerSecond.toFixed(1)),
      bytesPerSecond: Math.round(r.bytesPerSecond),
      /** Peak resident memory of the process, worker threads included. */
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      outcomes: 0
    },
    null,
    2
  )
  const cut = head.lastIndexOf("0")
  const outcomes = [...report.outcomes].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))
  if (outcomes.length === 0) {
    yield `${head.slice(0, cut)}[]${head.slice(cut + 1)}`
    return
  }
  let piece = `${head.slice(0, cut)}[`
  for (let i = 0; i < outcomes.length; i++) {
    piece += `${i === 0 ? "" : ","}\n    ${JSON.stringify(outcomes[i], null, 2).replaceAll("\n", "\n    ")}`
    if ((i + 1) % perPiece === 0) {
      yield piece
      piece = ""
    }
  }
  yield `${piece}\n  ]${head.slice(cut + 1)}`
}

/** The report as JSON, in one string. */
export const json = (report: Report): string => [...jsonPieces(report)].join("")

/** The report as Markdown (for `--report file.md`). */
export const markdown = (report: Report): string => {
  const rows = [...report.outcomes].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))
  const cell = (s: string) => s.replaceAll("|", "\\|")
  const header =
    report.mode === "analyze"
      ? "| file | status | lines | words | bytes | chars | note |\n|---|---|--:|--:|--:|--:|---|"
      : "| file | status | bytes | note |\n|---|---|--:|---|"
  const row = (o: Outcome) => {
    const note = cell(o.status === "ok" ? (o.warning ?? describeFindings(o) ?? "") : reason(o))
    if (report.mode === "analyze") {
      const c = o.status === "ok" ? o.counts : undefined
      return `| ${cell(o.file)} | ${o.status} | ${c?.lines ?? ""} | ${c?.words ?? ""} | ${c?.bytes ?? o.bytes} | ${c?.chars ?? ""} | ${note} |`
    }
    return `| ${cell(o.file)} | ${o.status} | ${o.bytes} | ${note} |`
  }
  return [
    `# effect-futures files: ${report.mode}`,
    "",
    "```",
    summary(report, { complete: true }),
    "```",
    "",
    header,
    ...rows.map(row),
    ""
  ].join("\n")
}
