// What the numbers were measured on: machine, runtimes and package versions.
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import { fileURLToPath } from "node:url"
import { pythonVersion } from "./systems/python.ts"

const root = fileURLToPath(new URL("..", import.meta.url))

export interface MachineInfo {
  readonly cpuModel: string
  readonly cores: number
  readonly availableParallelism: number
  readonly memoryBytes: number
  readonly os: string
  readonly kernel: string
  readonly node: string
  readonly python: string | null
  readonly versions: Readonly<Record<string, string | null>>
  readonly git: { readonly commit: string | null; readonly dirty: ReadonlyArray<string> }
  readonly loadAverageAtStart: ReadonlyArray<number>
  readonly clockTicksPerSecond: number
}

const packageVersion = (name: string): string | null => {
  try {
    const text = fs.readFileSync(`${root}node_modules/${name}/package.json`, "utf8")
    return (JSON.parse(text) as { version: string }).version
  } catch {
    return null
  }
}

const osName = (): string => {
  try {
    const text = fs.readFileSync("/etc/os-release", "utf8")
    const match = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text)
    if (match?.[1]) return match[1]
  } catch {}
  return `${os.type()} ${os.release()}`
}

const git = (args: ReadonlyArray<string>): string | null => {
  const out = spawnSync("git", args, { cwd: root, encoding: "utf8" })
  return out.status === 0 ? out.stdout.trim() : null
}

/** USER_HZ, the unit of /proc/stat (100 on Linux almost everywhere). */
export const clockTicksPerSecond = (): number => {
  const out = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" })
  const value = Number(out.stdout?.trim())
  return out.status === 0 && value > 0 ? value : 100
}

export const machineInfo = (): MachineInfo => {
  const own = JSON.parse(fs.readFileSync(`${root}package.json`, "utf8")) as { version: string }
  return {
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    cores: os.cpus().length,
    availableParallelism: os.availableParallelism(),
    memoryBytes: os.totalmem(),
    os: osName(),
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    python: pythonVersion() ?? null,
    versions: {
      "effect-futures": own.version,
      effect: packageVersion("effect"),
      "p-limit": packageVersion("p-limit"),
      "p-queue": packageVersion("p-queue"),
      piscina: packageVersion("piscina"),
      tinypool: packageVersion("tinypool"),
      workerpool: packageVersion("workerpool"),
      python: pythonVersion() ?? null
    },
    git: {
      commit: git(["rev-parse", "HEAD"]),
      dirty: (git(["status", "--porcelain", "--", "src", "package.json"]) ?? "").split("\n").filter((l) => l !== "")
    },
    loadAverageAtStart: os.loadavg(),
    clockTicksPerSecond: clockTicksPerSecond()
  }
}
