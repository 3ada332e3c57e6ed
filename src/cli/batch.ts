/**
 * Files that a worker reads and counts itself: batches, the file processor's
 * path for the many small and medium files of a real tree, and ranges of
 * large files (`countRange`), which every worker reads at once.
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
 * timeout and retries); a large one as `LARGE`, for the ranges path; the files
 * after the batch's budget of bytes as `LEFT`, for another batch (the walk
 * does not ask sizes, so a batch learns them as it opens its files). A read
 * error comes back with its code and message.
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
/** A regular file of more than `largeChunks` chunks, not read: its size is figure 3. */
export const LARGE = 3
/** Not opened: the batch had read its budget of bytes before it. */
export const LEFT = 4

/** A file of more chunks than this is counted in ranges, on every worker, not in a batch. */
export const largeChunks = 8

/** A batch stops after the file that takes it past this many chunks' worth of bytes. */
export const budgetChunks = 4

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

// the worker's read buffer: room for a chunk and the few bytes of a character cut by the previous read
let buffer = new Uint8Array(0)

const { O_RDONLY, O_NONBLOCK } = fs.constants

/**
 * Reads and counts the files of `paths` in order (in this thread,
 * synchronously), in chunks of at most `chunkSize` bytes: a file of more than
 * `largeChunks` chunks is left for the ranges path (`LARGE`), and once the
 * batch has read `budgetChunks` chunks' worth, the files after are `LEFT`, so
 * that a batch takes a bounded time whatever the sizes of its files (which
 * the walk does not ask for).
 */
export const countFiles = (
  paths: ReadonlyArray<string>,
  chunkSize: number
): { readonly figures: Figures; readonly errors: Array<BatchError> } => {
  const figures = new Float64Array(paths.length * STRIDE)
  const errors: Array<BatchError> = []
  let bytes = 0
  for (let i = 0; i < paths.length; i++) {
    const at = i * STRIDE
    if (bytes >= budgetChunks * chunkSize) {
      for (let j = i; j < paths.length; j++) figures[j * STRIDE] = LEFT
      break
    }
    const started = performance.now()
    let fd = -1
    try {
      // O_NONBLOCK: a file that became a named pipe since the walk never blocks the open
      fd = fs.openSync(paths[i], O_RDONLY | O_NONBLOCK)
      const stat = fs.fstatSync(fd)
      if (!stat.isFile()) {
        figures[at] = REDO
        continue
      }
      if (stat.size > largeChunks * chunkSize) {
        figures[at] = LARGE
        figures[at + 3] = stat.size
        continue
      }
      countInto(fd, chunkSize, figures, at)
      bytes += figures[at + 3]
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
  const totals = countSpan(fd, 0, -1, chunkSize)
  figures[at + 1] = totals.lines
  figures[at + 2] = totals.words
  figures[at + 3] = totals.bytes
  figures[at + 4] = totals.chars
  figures[at + 5] = totals.invalid
  figures[at + 6] = totals.firstInvalid
}

/**
 * Counts bytes `from` to `to` (-1: to the end) of an open file, reading at
 * most `chunkSize` bytes at a time and cutting between characters.
 */
const countSpan = (fd: number, from: number, to: number, chunkSize: number): scan.Totals => {
  if (buffer.length !== chunkSize + 8) buffer = new Uint8Array(chunkSize + 8)
  const totals = scan.emptyTotals()
  let lead = 0
  let position = from
  let carry = 0
  for (;;) {
    let filled = carry
    let eof = false
    // fill the chunk (a read may return less than asked without being at the end)
    while (filled < chunkSize + carry) {
      const want = to < 0 ? chunkSize + carry - filled : Math.min(chunkSize + carry - filled, to - position)
      const read = want === 0 ? 0 : fs.readSync(fd, buffer, filled, want, position)
      if (read === 0) {
        eof = true
        break
      }
      filled += read
      position += read
    }
    const data = buffer.subarray(0, filled)
    // cut after the last whole character: the rest starts the next chunk
    const cut = eof ? filled : scan.boundary(data, filled)
    if (cut > 0) {
      const counts = scan.count(data.subarray(0, cut))
      if (lead === 0) lead = counts.lead
      scan.mergeCounts(totals, counts)
    }
    carry = filled - cut
    if (eof) break
    buffer.copyWithin(0, cut, filled)
  }
  spanLead = lead
  return totals
}

/** The class of the first character of the last span counted that is not neutral (see `scan.Counts.lead`). */
let spanLead = 0

/**
 * Where the range of a file that starts at `offset` begins: `offset`, or the
 * start of the character that `offset` falls inside. Both ranges that meet
 * there find the same cut, from the same bytes.
 */
const rangeStart = (fd: number, offset: number): number => {
  if (offset === 0) return 0
  const back = Math.min(offset, 6)
  const bytes = new Uint8Array(back)
  const read = fs.readSync(fd, bytes, 0, back, offset - back)
  // a file cut short since it was listed: the range starts at its end
  if (read < back) return offset
  return offset - back + scan.boundary(bytes, back)
}

/**
 * Counts the range `[start, end)` of a file (`end` -1: to the end of the
 * file), moved back to character boundaries (see `rangeStart`), so that a
 * file's ranges, counted on any threads, merge in order into its counts
 * exactly as its whole bytes would count.
 */
export const countRange = (path: string, start: number, end: number, chunkSize: number): scan.Counts => {
  const fd = fs.openSync(path, O_RDONLY | O_NONBLOCK)
  try {
    if (!fs.fstatSync(fd).isFile()) throw Object.assign(new Error(`${path}: not a regular file`), { code: "EINVAL" })
    const from = rangeStart(fd, start)
    const to = end < 0 ? -1 : rangeStart(fd, end)
    const totals = countSpan(fd, from, to, chunkSize)
    const { inWord, ...counts } = totals
    return { ...counts, lead: spanLead, end: spanLead === 0 ? -1 : inWord ? 1 : 0 }
  } finally {
    fs.closeSync(fd)
  }
}
