// Runs the backend as a child process, as `npm run example:backend` does
// (Node with the `effect-futures-source` condition), for the load test and
// the smoke test; and reads its /metrics.
import { type ChildProcess, spawn } from "node:child_process"
import * as path from "node:path"

const main = path.join(import.meta.dirname, "main.ts")

export interface Backend {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  /** The upstream the backend started: `http://127.0.0.1:<port>` */
  readonly upstream: string
  readonly child: ChildProcess
  /** Everything it printed so far (stdout and stderr). */
  readonly output: () => string
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>
  /** SIGKILLs it if still running (for cleanup after a failed test). */
  readonly kill: () => void
}

/** Starts the backend on a free port with these environment variables; rejects if it is not listening within `timeoutMs`. */
export const startBackend = (env: Record<string, string> = {}, timeoutMs = 15_000): Promise<Backend> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--conditions=effect-futures-source", main], {
      env: { ...process.env, BACKEND_PORT: "0", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      child.once("exit", (code, signal) => done({ code, signal }))
    )
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`backend not listening after ${timeoutMs} ms:\n${output}`))
    }, timeoutMs)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const match = /backend listening on (http:\/\/127\.0\.0\.1:\d+) \(upstream (http:\/\/127\.0\.0\.1:\d+)/.exec(
        output
      )
      if (match !== null) {
        clearTimeout(timer)
        child.stdout!.off("data", onData)
        child.stdout!.on("data", (c: Buffer) => (output += c.toString()))
        resolve({
          url: match[1],
          upstream: match[2],
          child,
          output: () => output,
          exited,
          kill: () => {
            if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
          }
        })
      }
    }
    child.stdout!.on("data", onData)
    child.stderr!.on("data", (c: Buffer) => (output += c.toString()))
    void exited.then(({ code, signal }) => {
      clearTimeout(timer)
      reject(new Error(`backend exited (${code ?? signal}) before listening:\n${output}`))
    })
  })

/**
 * One sample of a Prometheus text exposition: the value of the series `name`
 * whose labels include all of `labels`; undefined if absent.
 */
export const metricValue = (text: string, name: string, labels: Record<string, string> = {}): number | undefined => {
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line)
    if (match === null || match[1] !== name) continue
    const have = new Map<string, string>()
    for (const pair of (match[3] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      have.set(pair[1], pair[2])
    }
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) return Number(match[4])
  }
  return undefined
}

export const scrape = async (url: string): Promise<string> => (await fetch(`${url}/metrics`)).text()

/** Polls `check` every 20 ms until it returns true; rejects after `timeoutMs` with `what`. */
export const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
