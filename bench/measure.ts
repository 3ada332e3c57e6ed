// Readings a process takes of itself: CPU (own and whole machine), heap and RSS.
import * as fs from "node:fs"
import type { CpuSample, Memory, RunEnv } from "./types.ts"

interface Ticks {
  readonly busy: number
  readonly steal: number
}

/** The aggregate line of `/proc/stat`, or undefined off Linux. */
export const readProcStat = (): Ticks | undefined => {
  let text: string
  try {
    text = fs.readFileSync("/proc/stat", "utf8")
  } catch {
    return undefined
  }
  const line = text.slice(0, text.indexOf("\n")).trim().split(/\s+/)
  // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest time is already in user)
  const n = (i: number) => Number(line[i] ?? 0)
  return { busy: n(1) + n(2) + n(3) + n(6) + n(7), steal: n(8) }
}

/** Starts a CPU sample; the returned function ends it. */
export const startCpuSample = (): (() => CpuSample | null) => {
  const ticks = readProcStat()
  const cpu = process.cpuUsage()
  const start = performance.now()
  return () => {
    const wallMs = performance.now() - start
    const own = process.cpuUsage(cpu)
    const end = readProcStat()
    if (ticks === undefined || end === undefined) return null
    return {
      wallMs,
      ownCpuMs: (own.user + own.system) / 1000,
      busyTicks: end.busy - ticks.busy,
      stealTicks: end.steal - ticks.steal
    }
  }
}

/** A {@link RunEnv} for this process: exact when `--expose-gc` gave us `global.gc`. */
export const processEnv = (): RunEnv => {
  const gc = (globalThis as { gc?: () => void }).gc
  return {
    exact: gc !== undefined,
    readMemory: (): Memory => {
      gc?.()
      const usage = process.memoryUsage()
      return { heapUsed: usage.heapUsed, rss: usage.rss }
    }
  }
}

/**
 * The speed probe: a fixed integer loop, in iterations per microsecond. The
 * first call in a process includes V8's on-stack compilation: call it twice.
 */
export const cpuProbe = (): number => {
  const n = 20_000_000
  let x = 1
  const start = performance.now()
  for (let i = 0; i < n; i++) x = (Math.imul(x, 1103515245) + 12345) | 0
  const ms = performance.now() - start
  if (x === 0.5) throw new Error("unreachable: keeps the loop's result alive")
  return n / ms / 1000
}

/** Lets pending microtasks and one macrotask turn run (so that lazily queued work is in place). */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
