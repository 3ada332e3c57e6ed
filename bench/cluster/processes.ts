// Worker processes of the cluster workloads (cluster runners, graphile-worker
// and pg-boss workers): each prints lines on stdout (`ready`, `started <i> <pid>`,
// …) that are recorded with the time they arrived and can be awaited.
import { type ChildProcess, spawn } from "node:child_process"

export interface Line {
  readonly line: string
  readonly at: number
}

export interface WorkerProcess {
  readonly process: ChildProcess
  readonly pid: number
  readonly lines: Array<Line>
  /** Resolves with the first line matching, rejects if the process exits first or after `timeoutMs`. */
  readonly waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<Line>
  /** SIGKILL now (if alive); resolves once it has exited. */
  readonly kill: (signal?: NodeJS.Signals) => Promise<void>
  readonly exited: Promise<void>
}

/**
 * Records a child's stdout lines with the time each arrived; `listeners` are
 * called after each chunk (the test utilities' child processes use it too).
 */
export const recordLines = (child: ChildProcess): { lines: Array<Line>; listeners: Set<() => void> } => {
  const lines: Array<Line> = []
  const listeners = new Set<() => void>()
  let buffer = ""
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    buffer += chunk
    let i: number
    while ((i = buffer.indexOf("\n")) >= 0) {
      lines.push({ line: buffer.slice(0, i), at: performance.now() })
      buffer = buffer.slice(i + 1)
    }
    for (const listener of listeners) listener()
  })
  return { lines, listeners }
}

/** Starts `node <flags> <entry> <args>` under this process's Node binary. */
export const start = (entry: string, args: ReadonlyArray<string>, flags: ReadonlyArray<string> = []): WorkerProcess => {
  const child = spawn(process.execPath, [...flags, entry, ...args], { stdio: ["ignore", "pipe", "pipe"] })
  const { lines, listeners } = recordLines(child)
  let stderr = ""
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000)
    if (process.env.BENCH_CLUSTER_DEBUG) process.stderr.write(chunk)
  })
  let dead = false
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      dead = true
      for (const listener of listeners) listener()
      resolve()
    })
  )
  const waitFor = (pattern: RegExp, timeoutMs = 60_000) =>
    new Promise<Line>((resolve, reject) => {
      const done = () => {
        listeners.delete(check)
        clearTimeout(timer)
      }
      const check = () => {
        const found = lines.find((l) => pattern.test(l.line))
        if (found !== undefined) {
          done()
          resolve(found)
        } else if (dead) {
          done()
          reject(new Error(`${entry} exited before printing ${pattern}: ${stderr.trim()}`))
        }
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`${entry} printed no ${pattern} within ${timeoutMs} ms: ${stderr.trim()}`))
      }, timeoutMs)
      listeners.add(check)
      check()
    })
  const kill = async (signal: NodeJS.Signals = "SIGKILL") => {
    if (!dead) child.kill(signal)
    await exited
  }
  return { process: child, pid: child.pid!, lines, waitFor, kill, exited }
}

/** Kills every process (SIGKILL) and waits for them. */
export const killAll = (processes: ReadonlyArray<WorkerProcess>): Promise<unknown> =>
  Promise.all(processes.map((p) => p.kill()))
