// Task definitions shared by the parent (main.ts) and the worker (worker.ts).
//
// One task runs the whole pipeline for one image, so the PNG is decoded once:
//
//   PNG bytes ──► decode ──┬─► grayscale ────────────► encode ──► PNG bytes
//   (moved in)             ├─► thumbnail (box) ──────► encode ──► PNG bytes
//                          └─► 3×3 filter, each ─────► encode ──► PNG bytes
//                                                                 (moved back)
//
// The bytes are `Uint8Array`s: `Schema.Uint8Array` checks the class and keeps
// the instance (no base64 or copy at the boundary), so the `ArrayBuffer`s named
// in `transfer` (parent → worker) and `CpuWorker.transfer` (worker → parent)
// are moved, not copied.
import * as Schema from "effect/Schema"
import * as Task from "effect-futures/Task"
import { filterNames } from "./imaging.ts"

/**
 * The input is not a PNG that can be read (truncated, corrupt, another
 * format). It crosses the thread boundary as this class, with its fields.
 * (The file is in `file`, not `name`: an Error's `name` is its class name.)
 */
export class DecodeError extends Schema.TaggedError<DecodeError>()("DecodeError", {
  file: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `${this.file} is not a readable PNG: ${this.reason}`
  }
}

const Side = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))

/** What an image becomes: its grayscale, its thumbnail, and one image per filter. */
export const OutputKind = Schema.Literals(["gray", "thumbnail", ...filterNames])
export type OutputKind = typeof OutputKind.Type

export const ProcessImage = Task.make("ProcessImage", {
  payload: Schema.Struct({
    file: Schema.String,
    png: Schema.Uint8Array,
    /** The thumbnail's longer side, in pixels. */
    thumbnail: Side,
    filters: Schema.Array(Schema.Literals(filterNames))
  }),
  success: Schema.Struct({
    file: Schema.String,
    width: Side,
    height: Side,
    outputs: Schema.Array(Schema.Struct({ kind: OutputKind, width: Side, height: Side, png: Schema.Uint8Array }))
  }),
  error: DecodeError
})

/**
 * The bytes as a `Uint8Array` that owns its whole `ArrayBuffer`, so moving the
 * buffer moves exactly these bytes. Node's small `Buffer`s are slices of a
 * shared pool (which must not be transferred): those are copied once here.
 */
export const ownedBytes = (bytes: Uint8Array): Uint8Array<ArrayBuffer> =>
  bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
    ? new Uint8Array(bytes.buffer)
    : new Uint8Array(bytes)
