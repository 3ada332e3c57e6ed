// Image processor on the CPU executor: every image is decoded, turned gray,
// thumbnailed and filtered (sharpen, blur, Sobel edges) on a worker thread,
// then written as PNGs. Run on one worker, then on every core.
//
//   npm run example:images                        (36 images + 1 corrupt, into a temp dir)
//   npm run example:images -- --out out/images --count 48
//
// Shows: typed tasks with byte payloads moved (not copied) both ways, a typed
// error (DecodeError) crossing the thread boundary as its own class while the
// other images go on, and the speed-up with more workers.
//
// `processImages` and `makeSamples` are exported for test/examples/images.test.ts;
// the program below runs only when this file is the entry point.
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import type * as PlatformError from "effect/PlatformError"
import * as Result from "effect/Result"
import * as os from "node:os"
import * as path from "node:path"
import { parseArgs } from "node:util"
import { PNG } from "pngjs"
import * as CpuExecutor from "effect-futures/CpuExecutor"
import type { CancelledError } from "effect-futures/ExecutorError"
import * as Future from "effect-futures/Future"
import type * as Task from "effect-futures/Task"
import { type FilterName, filterNames } from "./imaging.ts"
import { type DecodeError, type OutputKind, ownedBytes, ProcessImage } from "./tasks.ts"

/** The worker entry module. */
export const worker = new URL("./worker.ts", import.meta.url)

/** A CPU executor serving `ProcessImage`, its workers started with it. */
export const layer = (maxWorkers: number) => CpuExecutor.layer({ worker, maxWorkers, minWorkers: maxWorkers })

/** An image to process: a file name and its PNG bytes. */
export interface Input {
  readonly file: string
  readonly png: Uint8Array<ArrayBuffer>
}

export interface ProcessOptions {
  /** The images. Their bytes are moved to the workers: each `png` is detached (empty) afterwards. */
  readonly inputs: ReadonlyArray<Input>
  /** Where the PNGs go (created if missing): `<stem>.gray.png`, `<stem>.thumbnail.png`, `<stem>.<filter>.png`. */
  readonly outDir: string
  /** The thumbnails' longer side. Default 128. */
  readonly thumbnail?: number | undefined
  /** Default all: sharpen, blur, sobel. */
  readonly filters?: ReadonlyArray<FilterName> | undefined
}

/** What one image became: its outputs, or why it could not be processed. */
export type Outcome =
  | {
      readonly _tag: "Processed"
      readonly file: string
      readonly width: number
      readonly height: number
      readonly outputs: ReadonlyArray<{
        readonly kind: OutputKind
        readonly width: number
        readonly height: number
        readonly path: string
        readonly bytes: number
      }>
    }
  | {
      readonly _tag: "Failed"
      readonly file: string
      readonly error: DecodeError | CpuExecutor.TaskError | CancelledError
    }

export interface Report {
  /** One per input, in input order. */
  readonly outcomes: ReadonlyArray<Outcome>
  readonly processed: number
  readonly failed: number
  /** From the first submit to the last file written. */
  readonly millis: number
  /** Processed images per second. */
  readonly imagesPerSecond: number
}

/**
 * Processes the images on the `CpuExecutor` in context and writes the
 * results. Every image is submitted at once (its bytes moved to the worker);
 * results are written as they arrive. An image that fails (a `DecodeError`
 * for a corrupt PNG) is reported in its outcome and the others go on.
 */
export const processImages = Effect.fnUntraced(function* (options: ProcessOptions) {
  const cpu = yield* CpuExecutor.CpuExecutor
  const fs = yield* FileSystem.FileSystem
  const thumbnail = options.thumbnail ?? 128
  const filters = options.filters ?? filterNames
  yield* fs.makeDirectory(options.outDir, { recursive: true })

  const start = yield* Clock.currentTimeMillis
  const futures = yield* Effect.forEach(options.inputs, (input) => {
    const png = ownedBytes(input.png)
    return cpu.submit(ProcessImage, { file: input.file, png, thumbnail, filters }, { transfer: [png.buffer] })
  })
  const outcomes = yield* Effect.forEach(
    futures,
    (future, i) =>
      Effect.flatMap(
        Effect.result(Future.await(future)),
        (result): Effect.Effect<Outcome, PlatformError.PlatformError> =>
          Result.isFailure(result)
            ? Effect.succeed({ _tag: "Failed", file: options.inputs[i].file, error: result.failure })
            : writeOutputs(fs, options.outDir, result.success)
      ),
    { concurrency: "unbounded" }
  )
  const millis = (yield* Clock.currentTimeMillis) - start
  const processed = outcomes.filter((o) => o._tag === "Processed").length
  const report: Report = {
    outcomes,
    processed,
    failed: outcomes.length - processed,
    millis,
    imagesPerSecond: processed / (Math.max(1, millis) / 1000)
  }
  return report
})

const writeOutputs = (fs: FileSystem.FileSystem, outDir: string, image: Task.Success<typeof ProcessImage>) => {
  const stem = path.basename(image.file, ".png")
  return Effect.map(
    Effect.forEach(image.outputs, (output) => {
      const file = path.join(outDir, `${stem}.${output.kind}.png`)
      return Effect.as(fs.writeFile(file, output.png), {
        kind: output.kind,
        width: output.width,
        height: output.height,
        path: file,
        bytes: output.png.byteLength
      })
    }),
    (outputs): Outcome => ({ _tag: "Processed", file: image.file, width: image.width, height: image.height, outputs })
  )
}

// ---------------------------------------------------------------------------
// Sample images: deterministic, from a seeded PRNG (no shipped binaries).

/** mulberry32: a small seeded PRNG with uniform output in [0, 1). */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/**
 * `count` PNGs of random sizes within [minSide, maxSide]: a two-colour
 * gradient, a few translucent circles and rectangles, and per-pixel noise.
 * The same options give the same bytes.
 */
export const makeSamples = (options: {
  readonly count: number
  readonly seed?: number | undefined
  readonly minSide?: number | undefined
  readonly maxSide?: number | undefined
}): Array<Input> => {
  const random = prng(options.seed ?? 5)
  const minSide = options.minSide ?? 256
  const maxSide = options.maxSide ?? 640
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1))
  const color = () => [int(0, 255), int(0, 255), int(0, 255)]
  return Array.from({ length: options.count }, (_, n) => {
    const width = int(minSide, maxSide)
    const height = int(minSide, maxSide)
    const png = new PNG({ width, height })
    const data = png.data
    // gradient from c0 to c1 along a random direction
    const [c0, c1] = [color(), color()]
    const angle = random() * 2 * Math.PI
    const [dx, dy] = [Math.cos(angle), Math.sin(angle)]
    const span = Math.abs(dx) * width + Math.abs(dy) * height
    const offset = Math.min(0, dx * width) + Math.min(0, dy * height)
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const t = (x * dx + y * dy - offset) / span
        const i = (y * width + x) * 4
        for (let ch = 0; ch < 3; ch++) data[i + ch] = c0[ch] + (c1[ch] - c0[ch]) * t
        data[i + 3] = 255
      }
    }
    // translucent shapes
    for (let s = int(3, 8); s > 0; s--) {
      const c = color()
      const alpha = 0.4 + random() * 0.6
      const circle = random() < 0.5
      const cx = int(0, width - 1)
      const cy = int(0, height - 1)
      const rx = int(8, width / 3)
      const ry = circle ? rx : int(8, height / 3)
      for (let y = Math.max(0, cy - ry); y < Math.min(height, cy + ry); y++) {
        for (let x = Math.max(0, cx - rx); x < Math.min(width, cx + rx); x++) {
          if (circle && (x - cx) ** 2 + (y - cy) ** 2 > rx * rx) continue
          const i = (y * width + x) * 4
          for (let ch = 0; ch < 3; ch++) data[i + ch] = data[i + ch] * (1 - alpha) + c[ch] * alpha
        }
      }
    }
    // noise
    const amplitude = int(0, 24)
    for (let i = 0; i < data.length; i++) {
      if ((i & 3) !== 3) data[i] = Math.max(0, Math.min(255, data[i] + (random() * 2 - 1) * amplitude))
    }
    return { file: `sample-${String(n).padStart(2, "0")}.png`, png: ownedBytes(PNG.sync.write(png)) }
  })
}

// ---------------------------------------------------------------------------
// The program: the same images on one worker, then on every core.

const measure = (inputs: ReadonlyArray<Input>, outDir: string, workers: number) =>
  Effect.gen(function* () {
    const cpu = yield* CpuExecutor.CpuExecutor
    // warm up: each worker loads pngjs and JIT-compiles the pixel loops once
    yield* Effect.forEach(
      makeSamples({ count: workers, seed: 99, minSide: 64, maxSide: 96 }),
      (input) =>
        Effect.flatMap(
          cpu.submit(ProcessImage, { ...input, thumbnail: 16, filters: filterNames }, { transfer: [input.png.buffer] }),
          Future.await
        ),
      { concurrency: "unbounded" }
    )
    // fresh copies: processImages moves the bytes away
    const copies = inputs.map((input) => ({ file: input.file, png: input.png.slice() }))
    return yield* processImages({ inputs: copies, outDir })
  }).pipe(Effect.provide(layer(workers)))

const program = Effect.gen(function* () {
  const { values } = parseArgs({
    options: { out: { type: "string" }, count: { type: "string", default: "36" } }
  })
  const count = Number(values.count)
  if (!Number.isInteger(count) || count < 1) return yield* Effect.fail(new Error("--count: a positive integer"))
  const fs = yield* FileSystem.FileSystem
  const outDir = values.out ?? (yield* fs.makeTempDirectory({ prefix: "effect-futures-images-" }))

  const samples = makeSamples({ count })
  // one corrupt input among them: the first sample cut in half
  const corrupt = { file: "corrupt.png", png: samples[0].png.slice(0, samples[0].png.length >> 1) }
  const inputs = [...samples.slice(0, count >> 1), corrupt, ...samples.slice(count >> 1)]
  // a PNG's width and height are the first fields of its IHDR chunk, at bytes 16 and 20
  const pixels = samples.reduce((sum, s) => {
    const view = new DataView(s.png.buffer)
    return sum + view.getUint32(16) * view.getUint32(20)
  }, 0)
  yield* Console.log(
    `${samples.length} sample PNGs (${(pixels / 1e6).toFixed(1)} Mpixel) + 1 truncated; ` +
      `each → gray, thumbnail (128 px), ${filterNames.join(", ")}`
  )

  const cores = os.availableParallelism()
  const runs: Array<{ workers: number; report: Report }> = []
  for (const workers of cores > 1 ? [1, cores] : [1]) {
    runs.push({ workers, report: yield* measure(inputs, outDir, workers) })
  }

  const row = (cells: ReadonlyArray<string | number>) => cells.map((c) => String(c).padStart(9)).join(" ")
  yield* Console.log(row(["workers", "images", "failed", "seconds", "images/s"]))
  for (const { report, workers } of runs) {
    yield* Console.log(
      row([
        workers,
        report.processed,
        report.failed,
        (report.millis / 1000).toFixed(2),
        report.imagesPerSecond.toFixed(1)
      ])
    )
  }
  const [one, all] = runs
  if (all !== undefined) {
    yield* Console.log(
      `speed-up: ${(all.report.imagesPerSecond / one.report.imagesPerSecond).toFixed(2)}x with ${all.workers} workers`
    )
  }

  for (const outcome of one.report.outcomes) {
    if (outcome._tag === "Failed") {
      yield* Console.log(`${outcome.file}: ${outcome.error._tag} (${outcome.error.message}); the others went on`)
    }
  }
  const files = one.report.outcomes.reduce((n, o) => n + (o._tag === "Processed" ? o.outputs.length : 0), 0)
  yield* Console.log(`${files} PNGs written to ${outDir}`)
})

if (import.meta.main) {
  Effect.runPromise(program.pipe(Effect.provide(NodeFileSystem.layer))).catch((error) => {
    console.error(error)
    process.exitCode = 1
  })
}
