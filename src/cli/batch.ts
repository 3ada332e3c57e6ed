/**
 * Batches of files that a worker reads and counts itself: the file
 * processor's path for the many small and medium files of a real tree.
 *
 * Sending each small file's bytes from the main thread costs more than
 * counting them (an open, a read and a close as promises, an I/O task, a CPU
 * task and a message each way, per file). Here the main thread sends only
 * paths, a few hundred per message, and the worker opens, reads (with
 * synchronous calls into one buffer it keeps) and counts each file, returning
 * every file's figures in one transferred array. A file larger than the
 * worker's buffer is read and counted chunk by chunk, so memory does not grow
 * with it.
 *
 * A file the worker cannot handle is handed back rather than failed: one that
 * is not a regular file when opened (a named pipe, a device) comes back as
 * `REDO`, and the main thread runs it through the per-file path (with its
 * timeout and retries). A read error comes back with its code and message.
 *
 * @internal
 */
import * as fs from "node:fs"
import * as scan from "./scan.ts"

/** Figures per file in a batch's result. */
export const STRIDE = 8

/** Status of a file (figure 0 of its stride). */
export const OK = 0
export const ERROR = 1
export const REDO = 2

/**
 * Figures of file `i` of a batch, at `i * STRIDE`: status, lines, words,
 * bytes, chars, invalid bytes, offset of the first invalid byte (-1 if none),
 * milliseconds spent on the file.
 */
export type Figures = Float64Array

/** A read error of one file of a batch. */
export interface BatchError {
  readonly index: number
  readonly code: string
  readonly message: string
}

let buffer = new Uint8Array(0)

const { O_RDONLY, O_NONBLOCK } = fs.constants

/**
 * Reads and counts every file of `paths` (in this thread, synchronously),
 * in chunks of at most `chunkSize` bytes.
 */
export const countFiles = (
  paths: ReadonlyArray<string>,
  chunkSize: number
): { readonly figures: Figures; readonly errors: Array<BatchError> } => {
  // room for a chunk and the few bytes of a character cut by the previous read
  if (buffer.length !== chunkSize + 8) buffer = new Uint8Array(chunkSize + 8)
  const figures = new Float64Array(paths.length * STRIDE)
  const errors: Array<BatchError> = []
  for (let i = 0; i < paths.length; i++) {
    const at = i * STRIDE
    const started = performance.now()
    let fd = -1
    try {
      // O_NONBLOCK: a file that became a named pipe since the walk never blocks the open
      fd = fs.openSync(paths[i], O_RDONLY | O_NONBLOCK)
      if (!fs.fstatSync(fd).isFile()) {
        figures[at] = REDO
        continue
      }
      countInto(fd, chunkSize, figures, at)
      figures[at] = OK
    } catch (e) {
      figures[at] = ERROR
      const error = e as { code?: unknown; message?: unknown }
      errors.push({
        index: i,
        code: typeof error?.code === "string" ? error.code : "ERROR",
        message: typeof error?.message === "string" ? error.message : String(e)
      })
    } finally {
      if (fd >= 0) fs.closeSync(fd)
      figures[at + 7] = performance.now() - started
    }
  }
  return { figures, errors }
}

/** Counts an open regular file chunk by chunk into `figures` at `at`. */
const countInto = (fd: number, chunkSize: number, figures: Figures, at: number): void => {
  const totals = scan.emptyTotals()
  let carry = 0
  for (;;) {
    let filled = carry
    let eof = false
    // fill the chunk (a read may return less than asked without being at the end)
    while (filled < chunkSize + carry) {
      const read = fs.readSync(fd, buffer, filled, chunkSize + carry - filled, null)
      if (read === 0) {
        eof = true
        break
      }
      filled += read
    }
    const data = buffer.subarray(0, filled)
    // cut after the last whole character: the rest starts the next chunk
    const cut = eof ? filled : scan.boundary(data, filled)
    if (cut > 0) scan.mergeCounts(totals, scan.count(data.subarray(0, cut)))
    carry = filled - cut
    if (eof) break
    buffer.copyWithin(0, cut, filled)
  }
  figures[at + 1] = totals.lines
  figures[at + 2] = totals.words
  figures[at + 3] = totals.bytes
  figures[at + 4] = totals.chars
  figures[at + 5] = totals.invalid
  figures[at + 6] = totals.firstInvalid
}
