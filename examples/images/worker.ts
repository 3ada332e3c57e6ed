// The worker entry: serves ProcessImage. Direct module imports keep boot fast.
import * as Effect from "effect/Effect"
import { PNG } from "pngjs"
import * as CpuWorker from "effect-futures/CpuWorker"
import { applyFilter, grayscale, type Rgba, thumbnail } from "./imaging.ts"
import { DecodeError, ownedBytes, ProcessImage } from "./tasks.ts"

// pngjs reads and writes Buffers; these views share memory with the bytes (no copy).
const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)

const decode = (file: string, bytes: Uint8Array): Effect.Effect<Rgba, DecodeError> =>
  Effect.try({
    // decodes to 8-bit RGBA whatever the PNG's colour type and depth
    try: () => {
      const png = PNG.sync.read(asBuffer(bytes))
      return { width: png.width, height: png.height, data: png.data }
    },
    catch: (error) => new DecodeError({ file, reason: reason(error) })
  })

// pngjs reports data that ends before the image does as a stream error: say what it means
const reason = (error: unknown) => {
  const message = error instanceof Error ? error.message : String(error)
  return message.includes("read requests waitng on finished stream") ? `truncated (pngjs: ${message})` : message
}

const encode = (image: Rgba) => {
  const png = new PNG({ width: image.width, height: image.height })
  png.data = asBuffer(image.data)
  return { width: image.width, height: image.height, png: ownedBytes(PNG.sync.write(png)) }
}

CpuWorker.serve([
  CpuWorker.handler(ProcessImage, ({ file, png, thumbnail: maxSide, filters }) =>
    Effect.map(decode(file, png), (image) => {
      const outputs = [
        { kind: "gray" as const, ...encode(grayscale(image)) },
        { kind: "thumbnail" as const, ...encode(thumbnail(image, maxSide)) },
        ...filters.map((filter) => ({ kind: filter, ...encode(applyFilter(image, filter)) }))
      ]
      // the encoded PNGs are moved to the parent, not copied
      return CpuWorker.transfer(
        { file, width: image.width, height: image.height, outputs },
        outputs.map((output) => output.png.buffer)
      )
    })
  )
])
