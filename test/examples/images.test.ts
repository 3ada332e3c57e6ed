// Smoke test of the image processor example (examples/images): real PNGs through
// real worker threads, results checked against values worked out by hand.
import { assert, describe, it } from "@effect/vitest"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as path from "node:path"
import { PNG } from "pngjs"
import * as CpuExecutor from "../../src/CpuExecutor.ts"
import { convolve, kernels, sobel, thumbnail } from "../../examples/images/imaging.ts"
import { layer, makeSamples, type Outcome, processImages } from "../../examples/images/main.ts"
import { DecodeError } from "../../examples/images/tasks.ts"

type Pixel = readonly [number, number, number, number]

const rgba = (width: number, height: number, pixel: (x: number, y: number) => Pixel) => {
  const data = new Uint8Array(width * height * 4)
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(pixel(x, y), (y * width + x) * 4)
  return { width, height, data }
}

const encode = (image: ReturnType<typeof rgba>) => {
  const png = new PNG({ width: image.width, height: image.height })
  png.data = Buffer.from(image.data)
  return new Uint8Array(PNG.sync.write(png))
}

/** One channel of an image, row by row. */
const channel = (data: Uint8Array, ch: number) => Array.from(data.filter((_, i) => i % 4 === ch))

describe("examples/images", () => {
  it("imaging - box thumbnail, blur and Sobel of tiny images equal hand-computed values", () => {
    // 4×2 gray image; the 2×1 thumbnail averages each 2×2 block
    const gray = [10, 20, 30, 40, 50, 60, 70, 80]
    const small = thumbnail(
      rgba(4, 2, (x, y) => [gray[y * 4 + x], gray[y * 4 + x], gray[y * 4 + x], 255]),
      2
    )
    assert.deepStrictEqual([small.width, small.height], [2, 1])
    assert.deepStrictEqual(channel(small.data, 0), [(10 + 20 + 50 + 60) / 4, (30 + 40 + 70 + 80) / 4])

    // a 160 dot in a 3×3 black image, Gaussian 1-2-1/16 with repeated edges:
    // the centre gets 4/16 of it, an edge pixel 2/16, a corner 1/16
    const dot = rgba(3, 3, (x, y) => (x === 1 && y === 1 ? [160, 160, 160, 255] : [0, 0, 0, 255]))
    assert.deepStrictEqual(channel(convolve(dot, kernels.blur).data, 0), [10, 20, 10, 20, 40, 20, 10, 20, 10])

    // a vertical step 0 → 200: gx = 4 × 200 next to the step, / 4 = 200; 0 elsewhere
    const step = rgba(4, 2, (x) => (x < 2 ? [0, 0, 0, 255] : [200, 200, 200, 255]))
    assert.deepStrictEqual(channel(sobel(step).data, 0), [0, 200, 200, 0, 0, 200, 200, 0])
  })

  it.live(
    "processImages - writes real PNGs from worker threads; a corrupt input is a DecodeError and the rest go on",
    () =>
      Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        const outDir = yield* fs.makeTempDirectoryScoped({ prefix: "images-test-" })
        const read = (file: string) => Effect.map(fs.readFile(file), (bytes) => PNG.sync.read(Buffer.from(bytes)))

        const [photo] = makeSamples({ count: 1, seed: 7, minSide: 60, maxSide: 100 })
        const original = PNG.sync.read(Buffer.from(photo.png))
        const photoBytes = photo.png.slice()
        const inputs = [
          { file: "constant.png", png: encode(rgba(20, 10, () => [120, 60, 200, 255])) },
          {
            file: "dot.png",
            png: encode(rgba(3, 3, (x, y) => (x === 1 && y === 1 ? [160, 160, 160, 255] : [0, 0, 0, 255])))
          },
          { file: "step.png", png: encode(rgba(4, 2, (x) => (x < 2 ? [0, 0, 0, 255] : [200, 200, 200, 255]))) },
          { file: "corrupt.png", png: photoBytes.slice(0, photoBytes.length >> 1) },
          photo
        ]

        const { cpu, report } = yield* Effect.gen(function* () {
          const cpu = yield* CpuExecutor.CpuExecutor
          const report = yield* processImages({ inputs, outDir, thumbnail: 16 })
          return { cpu, report }
        }).pipe(Effect.provide(layer(2)))
        // the layer is released: its worker threads are gone
        assert.strictEqual((yield* cpu.stats).threads, 0)

        // the input bytes were moved to the workers, not copied
        for (const input of inputs) assert.strictEqual(input.png.byteLength, 0)

        assert.strictEqual(report.processed, 4)
        assert.strictEqual(report.failed, 1)
        assert.deepStrictEqual(
          report.outcomes.map((o) => o.file),
          inputs.map((i) => i.file)
        )

        // the corrupt input: the typed error, as its own class, with its fields
        const failed = report.outcomes[3]
        assert.strictEqual(failed._tag, "Failed")
        const error = (failed as Extract<Outcome, { _tag: "Failed" }>).error
        assert.instanceOf(error, DecodeError)
        assert.strictEqual((error as DecodeError).file, "corrupt.png")
        assert.include((error as DecodeError).reason, "truncated")

        const files = (yield* fs.readDirectory(outDir)).sort()
        assert.strictEqual(files.length, 4 * 5)
        const outputs = (o: Outcome) => (o._tag === "Processed" ? o.outputs : [])
        assert.deepStrictEqual(
          files,
          report.outcomes.flatMap((o) => outputs(o).map((out) => path.basename(out.path))).sort()
        )
        const png = (stem: string, kind: string) => read(path.join(outDir, `${stem}.${kind}.png`))

        // constant (120, 60, 200): gray is round(0.299·120 + 0.587·60 + 0.114·200) = round(93.9) = 94;
        // the thumbnail (20×10 → 16×8), blur and sharpen stay the same constant; Sobel is 0
        const constGray = yield* png("constant", "gray")
        assert.deepStrictEqual(new Set(channel(constGray.data, 0)), new Set([94]))
        const constThumb = yield* png("constant", "thumbnail")
        assert.deepStrictEqual([constThumb.width, constThumb.height], [16, 8])
        for (const kind of ["thumbnail", "blur", "sharpen"]) {
          const image = yield* png("constant", kind)
          for (const [ch, value] of [120, 60, 200, 255].entries()) {
            assert.deepStrictEqual(new Set(channel(image.data, ch)), new Set([value]), `${kind} channel ${ch}`)
          }
        }
        assert.deepStrictEqual(new Set(channel((yield* png("constant", "sobel")).data, 0)), new Set([0]))

        // the 160 dot: blur is 1/16, 2/16, 4/16 of it; sharpen is 5·160 clamped to 255 in the centre,
        // -160 clamped to 0 beside it
        assert.deepStrictEqual(channel((yield* png("dot", "blur")).data, 0), [10, 20, 10, 20, 40, 20, 10, 20, 10])
        assert.deepStrictEqual(channel((yield* png("dot", "sharpen")).data, 0), [0, 0, 0, 0, 255, 0, 0, 0, 0])
        // the step 0 → 200: Sobel is 200 on both sides of it, 0 at the flat ends
        assert.deepStrictEqual(channel((yield* png("step", "sobel")).data, 0), [0, 200, 200, 0, 0, 200, 200, 0])

        // the generated photo: the thumbnail's longer side is 16, the aspect ratio kept;
        // the gray image has r = g = b = the luma of the original pixel
        const { width, height } = original
        const long = Math.max(width, height)
        const expected =
          width >= height ? [16, Math.round((height * 16) / long)] : [Math.round((width * 16) / long), 16]
        const thumb = yield* png("sample-00", "thumbnail")
        assert.deepStrictEqual([thumb.width, thumb.height], expected)
        const gray = yield* png("sample-00", "gray")
        assert.deepStrictEqual([gray.width, gray.height], [width, height])
        for (let i = 0; i < gray.data.length; i += 4) {
          const [r, g, b] = original.data.subarray(i, i + 3)
          const y = Math.round(0.299 * r + 0.587 * g + 0.114 * b)
          if (gray.data[i] !== y || gray.data[i + 1] !== y || gray.data[i + 2] !== y) {
            assert.fail(`gray pixel ${i / 4} is ${Array.from(gray.data.subarray(i, i + 3))}, expected ${y}`)
          }
        }
        for (const kind of ["sharpen", "blur", "sobel"]) {
          const image = yield* png("sample-00", kind)
          assert.deepStrictEqual([image.width, image.height], [width, height])
        }
      }).pipe(Effect.scoped, Effect.provide(NodeFileSystem.layer)),
    10_000
  )
})
