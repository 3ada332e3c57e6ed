// Command-line options of bench/run.ts.
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { systems } from "./systems/index.ts"
import type { WorkloadId } from "./types.ts"
import { workloads } from "./workloads.ts"

export interface CliOptions {
  readonly quick: boolean
  readonly workloads: ReadonlyArray<WorkloadId>
  readonly systems: ReadonlyArray<string>
  readonly rounds: number
  readonly out: string
  readonly redos: number
  readonly timeoutMs: number
  readonly reportOnly: boolean
  /** Overrides the task count of every selected workload (e.g. W6 at 1,000,000 queued). */
  readonly tasks: number | undefined
}

/**
 * The systems of a quick run unless --systems is given: effect-futures in each configuration and the
 * reference of each target (p-limit and Effect.forEach for I/O, piscina for CPU, Python's thread pool).
 * A quick run is a smoke run (its time is mostly fresh processes starting), so it leaves out the other peers.
 */
export const quickSystems: ReadonlyArray<string> = [
  "effect-futures",
  "effect-futures-lean",
  "effect-futures-cpu",
  "effect-futures-cpu-tuned",
  "effect-foreach",
  "p-limit",
  "piscina",
  "python-cf"
]

export const usage = `Usage: npm run bench -- [options]

  --quick             smoke run (under a minute): reduced sizes, 1 round and no redos unless --rounds/--redos
                      are given, no wait for a quiet machine; writes to .tmp/bench-quick unless --out is given
  --only W1,W2        workloads to run (default: all of ${workloads.map((w) => w.id).join(", ")})
  --systems a,b       systems to run (default: all of ${systems.map((s) => s.id).join(", ")};
                      --quick: ${quickSystems.join(", ")})
  --rounds N          rounds, each running every pair once in a fresh process (default 3; --quick: 1)
  --out DIR           where latest.{json,md,svg} go (default bench/results; --quick: .tmp/bench-quick)
  --redos N           redos of a run disturbed by other processes (default 2; --quick: 0)
  --timeout S         seconds before a run is killed and counted as failed (default 180)
  --report-only       rewrite latest.{json,md,svg} in --out from the runs in its latest.json (no runs)
  --tasks N           run the selected workloads with N tasks (e.g. --only W6 --tasks 1000000 --out /tmp/w6m)
  --help`

const list = (value: string | undefined): Array<string> | undefined =>
  value === undefined
    ? undefined
    : value
        .split(",")
        .map((item) => item.trim())
        .filter((item) => item !== "")

const positiveInt = (name: string, value: string | undefined, fallback: number, min: number): number => {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${value}`)
  return n
}

/** Parses argv; throws with a message naming the bad option. Returns undefined for --help. */
export const parseCli = (argv: ReadonlyArray<string>): CliOptions | undefined => {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      systems: { type: "string" },
      rounds: { type: "string" },
      out: { type: "string" },
      redos: { type: "string" },
      timeout: { type: "string" },
      "report-only": { type: "boolean", default: false },
      tasks: { type: "string" },
      help: { type: "boolean", default: false }
    }
  })
  if (values.help) return undefined
  const known = new Set(workloads.map((w) => w.id as string))
  const only = list(values.only) ?? [...known]
  for (const id of only) {
    if (!known.has(id)) throw new Error(`--only: unknown or not yet implemented workload ${id} (have ${[...known]})`)
  }
  const systemIds = list(values.systems) ?? (values.quick ? [...quickSystems] : systems.map((s) => s.id))
  for (const id of systemIds) {
    if (!systems.some((s) => s.id === id)) {
      throw new Error(`--systems: unknown system ${id} (have ${systems.map((s) => s.id).join(", ")})`)
    }
  }
  // a quick run is a smoke run: its figures must not replace the committed results the README's chart is drawn from
  const defaultOut = fileURLToPath(new URL(values.quick ? "../.tmp/bench-quick" : "./results", import.meta.url))
  return {
    quick: values.quick,
    workloads: workloads.filter((w) => only.includes(w.id)).map((w) => w.id),
    systems: systemIds,
    rounds: positiveInt("rounds", values.rounds, values.quick ? 1 : 3, 1),
    out: values.out === undefined ? defaultOut : path.resolve(values.out),
    redos: positiveInt("redos", values.redos, values.quick ? 0 : 2, 0),
    timeoutMs: positiveInt("timeout", values.timeout, 180, 1) * 1000,
    reportOnly: values["report-only"],
    tasks: values.tasks === undefined ? undefined : positiveInt("tasks", values.tasks, 0, 1)
  }
}
