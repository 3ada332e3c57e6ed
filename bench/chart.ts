// A hand-written SVG chart: each target of each of our systems as a bar of
// "how far past the target" on a log scale, 1× being exactly the target.
import type { Spread } from "./stats.ts"
import type { TargetResult, WorkloadSummary } from "./summary.ts"
import type { Target } from "./workloads.ts"

const escape = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

/** achieved ÷ required for "≥" targets, required ÷ achieved for "≤"/"<" ones: ≥ 1 means met (or, for "<", equal). */
export const margin = (target: Target, ratio: number): number => {
  if (target.op === ">=") return ratio / target.ratio
  return ratio <= 0 ? Number.POSITIVE_INFINITY : target.ratio / ratio
}

const LO = 0.1
const HI = 10
const LEFT = 470
const PLOT = 420
const WIDTH = LEFT + PLOT + 330
const ROW = 30
const TOP = 70

const x = (value: number): number => {
  const clamped = Math.min(HI, Math.max(LO, value))
  return LEFT + ((Math.log10(clamped) - Math.log10(LO)) / (Math.log10(HI) - Math.log10(LO))) * PLOT
}

const opText = { "<=": "≤", "<": "<", ">=": "≥" } as const

const row = (result: TargetResult & { readonly workload: string; readonly label: string }, i: number) => {
  const y = TOP + i * ROW
  const mid = y + ROW / 2
  const label = `${result.workload} · ${result.label} · ${result.target.text}`
  const parts = [`<text x="${LEFT - 8}" y="${mid + 4}" text-anchor="end">${escape(label)}</text>`]
  const achieved: Spread | undefined = result.achieved
  if (achieved === undefined) {
    parts.push(`<text x="${x(1) + 6}" y="${mid + 4}" fill="#666">not evaluated: no reference run</text>`)
    return parts.join("")
  }
  const value = margin(result.target, achieved.median)
  const lo = margin(result.target, achieved.max)
  const hi = margin(result.target, achieved.min)
  const [a, b] = [x(Math.min(value, 1)), x(Math.max(value, 1))]
  const color = result.met ? "#2e8b57" : "#c0392b"
  parts.push(
    `<rect x="${a.toFixed(1)}" y="${y + 7}" width="${Math.max(1, b - a).toFixed(1)}" height="${ROW - 14}" fill="${color}" opacity="0.85"/>`
  )
  if (achieved.n > 1) {
    const [w0, w1] = [x(Math.min(lo, hi)), x(Math.max(lo, hi))]
    parts.push(
      `<line x1="${w0.toFixed(1)}" x2="${w1.toFixed(1)}" y1="${mid}" y2="${mid}" stroke="#222" stroke-width="1.5"/>`,
      `<line x1="${w0.toFixed(1)}" x2="${w0.toFixed(1)}" y1="${mid - 5}" y2="${mid + 5}" stroke="#222"/>`,
      `<line x1="${w1.toFixed(1)}" x2="${w1.toFixed(1)}" y1="${mid - 5}" y2="${mid + 5}" stroke="#222"/>`
    )
  }
  const range = achieved.n > 1 ? ` (${achieved.min.toFixed(2)}–${achieved.max.toFixed(2)})` : ""
  const verdict = result.met ? "met" : "missed"
  parts.push(
    `<text x="${LEFT + PLOT + 10}" y="${mid + 4}">${escape(`${achieved.median.toFixed(2)}×${range}, need ${opText[result.target.op]} ${result.target.ratio}× · ${verdict}`)}</text>`
  )
  return parts.join("")
}

export const svg = (summaries: ReadonlyArray<WorkloadSummary>, title: string): string => {
  const rows = summaries.flatMap((summary) =>
    summary.targets.map((target) => ({
      ...target,
      workload: summary.workload,
      label: target.system
    }))
  )
  const height = TOP + Math.max(1, rows.length) * ROW + 50
  const ticks = [0.1, 0.2, 0.5, 1, 2, 5, 10]
  const grid = ticks.map((tick) => {
    const tx = x(tick).toFixed(1)
    const strong = tick === 1
    return (
      `<line x1="${tx}" x2="${tx}" y1="${TOP - 6}" y2="${height - 44}" stroke="${strong ? "#000" : "#ddd"}" stroke-width="${strong ? 2 : 1}"/>` +
      `<text x="${tx}" y="${height - 28}" text-anchor="middle" fill="#444">${tick}×</text>`
    )
  })
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="16" y="24" font-size="16" font-weight="bold">${escape(title)}</text>`,
    `<text x="16" y="46" fill="#444">Bar: the median per-round ratio against its target, as achieved ÷ required (required ÷ achieved for ≤ targets), log scale; right of the black line = met. Whisker: per-round range.</text>`,
    ...grid,
    ...(rows.length === 0 ? [`<text x="${LEFT}" y="${TOP + 16}">no targets evaluated</text>`] : rows.map(row)),
    `<text x="${x(1)}" y="${height - 10}" text-anchor="middle" fill="#444">target (values beyond 0.1×–10× are clipped)</text>`,
    "</svg>",
    ""
  ].join("\n")
}
