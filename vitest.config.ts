import { defineConfig } from "vitest/config"

// `effect-futures-source` is the package's own export condition that maps
// `effect-futures` and `effect-futures/*` to src/*.ts (package.json "exports"),
// so the examples import the library by its name and run from source. Vite
// resolves the test files' imports with it; `execArgv` gives it to Node in the
// test processes, for the worker threads they start (a worker entry of an
// example imports `effect-futures/CpuWorker`).
const conditions = ["effect-futures-source"]
// Vite's defaults for server code, which setting `conditions` replaces
const server = ["module", "node", "development|production"]

export default defineConfig({
  resolve: { conditions: [...conditions, ...server] },
  ssr: { resolve: { conditions: [...conditions, ...server] } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    execArgv: conditions.map((c) => `--conditions=${c}`)
  }
})
