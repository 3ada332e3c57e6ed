/**
 * The file processor: walks a directory on the I/O executor and counts,
 * validates or transforms its files on the CPU executor, keeping a report that
 * is complete at any moment (so an interrupted run still has its partial
 * summary).
 *
 * Analyze never moves a file's bytes through the main thread: small and
 * medium files go to the workers as batches of paths, which a worker opens,
 * reads and counts itself (`batch.ts`); a file of more than 8 chunks is cut
 * into ranges that the workers read and count at once, merged in order; only
 * named pipes are read here. Validate and transform read each file here in
 * chunks and send them to the workers.
 *
 * Memory is bounded by design: the walk hands files over through a bounded
 * queue while it lists the tree (transform lists it all first), holding at
 * most `ioWorkers` directories' files; a worker reads into one buffer of a
 * chunk it keeps; a file read here is read in chunks of `chunkSize` bytes
 * (longer only for a line that does not fit, up to `maxLineBytes`, when whole
 * lines are needed), with at most `chunksInFlight` chunks of it on the CPU
 * executor, and at most `2 × ioWorkers` files open at once.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Queue from "effect/Queue"
import * as Semaphore from "effect/Semaphore"
import * as Schedule from "effect/Schedule"
import { constants } from "node:fs"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import * as CpuExecutor from "../CpuExecutor.ts"
import * as Future from "../Future.ts"
import * as IoExecutor from "../IoExecutor.ts"
import * as batch_ from "./batch.ts"
import * as scan from "./scan.ts"
import {
  Count,
  CountFiles,
  CountRange,
  FileError,
  InvalidUtf8Error,
  LineTooLongError,
  Transform,
  Validate
} from "./tasks.ts"

/** What the processor does to each file. */
export type Mode = "analyze" | "transform" | "validate"

/** The modes, for the command line. */
export const modes = ["analyze", "transform", "validate"] as const

/** The transforms, for the command line. */
export const ops = ["upper", "lower", "reverse"] as const

/** Options of a run (the command line's, resolved). */
export interface RunOptions {
  readonly dir: string
  readonly mode: Mode
  readonly op: scan.Op
  /** Output directory of `transform`. */
  readonly out: string | undefined
  /** Extensions to keep (with their dot; a file's name must end with one), or every file. */
  readonly ext: ReadonlyArray<string> | undefined
  /** Match `ext` with case (by default `.txt` also takes `A.TXT`). */
  readonly extCaseSensitive?: boolean | undefined
  readonly timeout: Duration.Duration
  readonly retries: number
  readonly maxLineLength: number
  readonly chunkSize: number
  readonly maxLineBytes: number
  readonly ioWorkers: number
}

/** A file found by the walk. */
export interface Entry {
  readonly path: string
  /** Relative to the root, with `/` separators. */
  readonly rel: string
  /** Its size when listed, or -1 if the walk did not ask (analyze: the worker that reads it does). */
  readonly size: number
  /** A named pipe (or a link to one): read only on the per-file path, which never blocks on it. */
  readonly fifo?: boolean | undefined
}

/** What became of one file. */
export type Outcome =
  | {
      readonly status: "ok"
      readonly file: string
      readonly bytes: number
      readonly attempts: number
      readonly ms: number
      readonly counts?: Omit<scan.Totals, "inWord">
      readonly findings?: scan.Findings & { readonly bom: boolean }
      readonly written?: string
      /** Something worth saying that is not a failure (invalid UTF-8 when counting). */
      readonly warning?: string
    }
  | {
      readonly status: "error" | "timeout"
      readonly file: string
      readonly bytes: number
      readonly attempts: number
      readonly ms: number
      readonly error: { readonly tag: string; readonly message: string }
    }

/** The run's state: read by the progress display, complete at every moment. */
export interface Report {
  readonly mode: Mode
  readonly dir: string
  /** The directory is still being listed: `total` is what was found so far. */
  scanning: boolean
  total: number
  /** The size of the files found, as far as the walk knows it (see `sizesKnown`). */
  totalBytes: number
  /** Whether the walk asked every file's size (analyze leaves it to the workers): else ETAs count files. */
  sizesKnown: boolean
  readonly outcomes: Array<Outcome>
  bytesDone: number
  failed: number
  startedAt: number
  endedAt: number
  /** The run was interrupted before every file was done. */
  interrupted: boolean
}

/** A fresh report. */
export const makeReport = (mode: Mode, dir: string, startedAt: number): Report => ({
  mode,
  dir,
  scanning: true,
  total: 0,
  totalBytes: 0,
  sizesKnown: mode !== "analyze",
  outcomes: [],
  bytesDone: 0,
  failed: 0,
  startedAt,
  endedAt: startedAt,
  interrupted: false
})

/** Codes of errors that retrying cannot mend. */
const permanent = new Set(["ENOENT", "EACCES", "EPERM", "EISDIR", "ENOTDIR", "ELOOP", "ENAMETOOLONG", "EEXIST"])

/** Whether a failed file is worth another attempt: an I/O error that may be transient (EIO, EMFILE, EBUSY, …). */
export const retryable = (e: unknown): boolean => e instanceof FileError && !permanent.has(e.code)

/** The backoff between attempts: 100 ms, 200 ms, 400 ms, … */
export const backoff = Schedule.exponential("100 millis")

const fileError = (file: string, e: unknown): FileError => {
  const code = typeof (e as { code?: unknown })?.code === "string" ? (e as { code: string }).code : "ERROR"
  const message =
    typeof (e as { message?: unknown })?.message === "string" ? (e as { message: string }).message : String(e)
  return new FileError({
    path: file,
    code,
    reason: message.startsWith(`${code}: `) ? message.slice(code.length + 2) : message
  })
}

const io = <A>(file: string, f: () => Promise<A>) => Effect.tryPromise({ try: f, catch: (e) => fileError(file, e) })

/** Awaits a future; if the awaiting fiber is interrupted, the future is cancelled (its work stops). */
const awaitOrCancel = <A, E>(future: Future.Future<A, E>) =>
  Future.await(future).pipe(Effect.onInterrupt(() => Future.cancel(future)))

/** What the walk selects, and what it reports. */
interface WalkOptions {
  readonly ext: ReadonlyArray<string> | undefined
  readonly extCaseSensitive?: boolean | undefined
  /** A directory not to enter (transform's output inside the input tree). */
  readonly exclude: string | undefined
  /** Directories listed at once. Default 8. */
  readonly listing?: number | undefined
  /** Ask the size of every regular file (one `lstat` each); else it is -1. Default true. */
  readonly sizes?: boolean | undefined
}

/**
 * Walks the tree under `root`, handing each directory's selected files to
 * `emit` as soon as it is listed (each directory read as a task on the I/O
 * executor), and each directory that cannot be read, as a failed outcome, to
 * `unreadable`. What is selected (see the README's "Which files"):
 * - regular files, and named pipes;
 * - symbolic links to either (followed: the link is listed under its own
 *   name); a broken link, or a loop of links, is listed too, so that it is
 *   reported as failing, as `wc` reports it;
 * - not symbolic links to directories (so no directory is entered twice and
 *   no loop can form), nor devices or sockets;
 * - a file with several hard links is listed once per path, as `find` does.
 */
const walkInto = (
  root: string,
  options: WalkOptions,
  emit: (files: Array<Entry>) => Effect.Effect<void>,
  unreadable: (outcome: Outcome) => void
) =>
  Effect.gen(function* () {
    const executor = yield* IoExecutor.IoExecutor
    const exts = options.extCaseSensitive ? options.ext : options.ext?.map((e) => e.toLowerCase())
    const sizes = options.sizes ?? true
    const keep = (name: string) => {
      if (exts === undefined) return true
      const n = options.extCaseSensitive ? name : name.toLowerCase()
      return exts.some((e) => n.endsWith(e) && n.length > e.length)
    }
    const list = async (dir: string, rel: string) => {
      const entries = await fs.readdir(dir, { withFileTypes: true })
      const prefix = dir.endsWith(path.sep) ? dir : dir + path.sep
      const known: Array<Entry> = []
      const found: Array<Promise<Entry | undefined>> = []
      const dirs: Array<readonly [string, string]> = []
      for (const d of entries) {
        const p = prefix + d.name
        const r = rel === "" ? d.name : `${rel}/${d.name}`
        if (d.isDirectory()) {
          if (p !== options.exclude) dirs.push([p, r])
          continue
        }
        if (!keep(d.name) || !(d.isFile() || d.isFIFO() || d.isSymbolicLink())) continue
        if (d.isFile() && !sizes) {
          known.push({ path: p, rel: r, size: -1 })
          continue
        }
        found.push(
          (d.isSymbolicLink() ? fs.stat(p).catch(() => undefined) : fs.lstat(p)).then((st) =>
            st !== undefined && !st.isFile() && !st.isFIFO()
              ? undefined
              : { path: p, rel: r, size: st?.size ?? 0, fifo: st?.isFIFO() === true }
          )
        )
      }
      if (found.length === 0) return { found: known, dirs }
      for (const e of await Promise.all(found)) if (e !== undefined) known.push(e)
      return { found: known, dirs }
    }
    // a directory holds a permit from its listing until `emit` has taken its files (which
    // waits while the consumer is behind), so that at most `listing` directories' files
    // are held here, however wide the tree
    const permits = yield* Semaphore.make(options.listing ?? 8)
    const listOne = (dir: string, rel: string) =>
      Effect.gen(function* () {
        const listed = yield* executor
          .submit(io(dir, () => list(dir, rel)))
          .pipe(Effect.flatMap(awaitOrCancel), Effect.exit)
        if (Exit.isFailure(listed)) {
          const error = Exit.findErrorOption(listed)
          unreadable({
            status: "error",
            file: `${rel || "."}/`,
            bytes: 0,
            attempts: 1,
            ms: 0,
            error: { tag: "FileError", message: error._tag === "Some" ? String(error.value) : "unreadable" }
          })
          return []
        }
        if (listed.value.found.length > 0) yield* emit(listed.value.found)
        return listed.value.dirs
      }).pipe(Semaphore.withPermit(permits))
    const visit = (dir: string, rel: string): Effect.Effect<void> =>
      Effect.flatMap(listOne(dir, rel), (dirs) =>
        Effect.forEach(dirs, ([d, r]) => visit(d, r), { concurrency: "unbounded", discard: true })
      ).pipe(Effect.orDie)
    yield* visit(root, "")
  })

/**
 * Lists the files under `root` that the processor selects (see `walkInto`),
 * sorted by their path relative to `root`; directories that cannot be read
 * come back as failed outcomes.
 */
export const walk = (
  root: string,
  options: WalkOptions & {
    /** Called as files are found, with how many so far. */
    readonly onFound?: ((count: number) => void) | undefined
  }
) =>
  Effect.gen(function* () {
    const files: Array<Entry> = []
    const unreadable: Array<Outcome> = []
    yield* walkInto(
      root,
      options,
      (found) =>
        Effect.sync(() => {
          for (const f of found) files.push(f)
          options.onFound?.(files.length)
        }),
      (u) => unreadable.push(u)
    )
    files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0))
    return { files, unreadable }
  })

/** Reads a file chunk by chunk, yielding each to `onChunk`; see the module's note on memory. */
const readChunks = (
  file: Entry,
  options: Chunking,
  onChunk: (chunk: Uint8Array, offset: number) => Effect.Effect<void, unknown>
) =>
  Effect.acquireUseRelease(
    // O_NONBLOCK: opening or reading a named pipe never blocks a thread of the pool
    io(file.path, () => fs.open(file.path, constants.O_RDONLY | constants.O_NONBLOCK)),
    (handle) =>
      Effect.gen(function* () {
        let carry = new Uint8Array(0)
        let offset = 0
        let eof = false
        let size = options.chunkSize
        while (!eof || carry.length > 0) {
          // no bigger than what is left of a regular file (plus a byte to see its end)
          const left = file.size > 0 ? Math.max(4096, file.size - offset + 1) : size
          const buffer = new Uint8Array(new ArrayBuffer(Math.max(Math.min(size, left), carry.length + 4)))
          buffer.set(carry)
          let filled = carry.length
          while (filled < buffer.length && !eof) {
            const read = yield* io(file.path, () =>
              handle.read(buffer, filled, buffer.length - filled, null).then(
                (r) => r.bytesRead,
                (e) => (e?.code === "EAGAIN" ? -1 : Promise.reject(e))
              )
            )
            if (read === -1)
              yield* Effect.sleep("20 millis") // a pipe with nothing to read yet
            else if (read === 0) eof = true
            else filled += read
          }
          const data = buffer.subarray(0, filled)
          const cut = eof ? filled : scan.split(data, options.wholeLines)
          if (cut <= 0) {
            // no line end (or character boundary) in the buffer: read on into a larger one
            if (filled >= options.maxLineBytes)
              return yield* new LineTooLongError({ path: file.rel, limit: options.maxLineBytes })
            carry = data
            size = Math.min(filled * 2, options.maxLineBytes + 4)
            continue
          }
          carry = data.slice(cut)
          size = options.chunkSize
          yield* onChunk(data.subarray(0, cut), offset)
          offset += cut
        }
      }),
    (handle) => Effect.promise(() => handle.close())
  )

/** How `readChunks` cuts a file. */
interface Chunking {
  readonly chunkSize: number
  readonly maxLineBytes: number
  readonly wholeLines: boolean
}

/** Chunks of one file on the CPU executor at once: reading the next overlaps counting this one. */
const chunksInFlight = 2

/**
 * Reads a file chunk by chunk and runs each chunk through `submit`, with at
 * most `chunksInFlight` outstanding, handing each result to `merge` in order.
 * Outstanding futures are cancelled if this ends early (a failure, a timeout,
 * an interruption).
 */
const pipelined = <A, E>(
  file: Entry,
  chunking: Chunking,
  submit: (chunk: Uint8Array, offset: number) => Effect.Effect<Future.Future<A, E>, unknown>,
  merge: (result: A, offset: number) => Effect.Effect<void, unknown>
) => {
  const pending: Array<{ readonly future: Future.Future<A, E>; readonly offset: number }> = []
  const drainOne = Effect.suspend(() => {
    const next = pending[0]
    return Future.await(next.future).pipe(
      // a chunk's offsets become the file's
      Effect.mapError((e) =>
        e instanceof InvalidUtf8Error ? new InvalidUtf8Error({ offset: next.offset + e.offset }) : e
      ),
      Effect.flatMap((a) => {
        pending.shift()
        return merge(a, next.offset)
      })
    )
  })
  const onChunk = (chunk: Uint8Array, offset: number) =>
    Effect.gen(function* () {
      if (pending.length >= chunksInFlight) yield* drainOne
      pending.push({ future: yield* submit(chunk, offset), offset })
    })
  return readChunks(file, chunking, onChunk).pipe(
    Effect.andThen(Effect.whileLoop({ while: () => pending.length > 0, body: () => drainOne, step: () => {} })),
    Effect.onExit(() => Future.cancelAll(pending.splice(0).map((p) => p.future)))
  )
}

/** Ranges of one file on the CPU executor at once: enough for every worker and one sent ahead to each. */
const rangesInFlight = 4

/**
 * Submits a task per item, at most `inFlight` outstanding, handing each
 * result to `merge` in order. Outstanding futures are cancelled if this ends
 * early (a failure, a timeout, an interruption).
 */
const inOrder = <I, A, E>(
  items: ReadonlyArray<I>,
  inFlight: number,
  submit: (item: I) => Effect.Effect<Future.Future<A, E>, unknown>,
  merge: (result: A) => Effect.Effect<void, unknown>
) => {
  const pending: Array<Future.Future<A, E>> = []
  let next = 0
  return Effect.whileLoop({
    while: () => next < items.length || pending.length > 0,
    body: () =>
      next < items.length && pending.length < inFlight
        ? Effect.map(submit(items[next++]), (future) => void pending.push(future))
        : Effect.flatMap(Future.await(pending[0]), (a) => {
            pending.shift()
            return merge(a)
          }),
    step: () => {}
  }).pipe(Effect.onExit(() => Future.cancelAll(pending.splice(0))))
}

/** Processes one file in the given mode (one attempt, no timeout: the caller adds both). */
export const processFile = (file: Entry, options: RunOptions, target: string | undefined) =>
  Effect.gen(function* () {
    const cpu = yield* CpuExecutor.CpuExecutor
    const transfer = (chunk: Uint8Array) => ({ transfer: [chunk.buffer as ArrayBuffer] })
    const chunking: Chunking = {
      chunkSize: options.chunkSize,
      maxLineBytes: options.maxLineBytes,
      wholeLines: options.mode !== "analyze"
    }
    switch (options.mode) {
      case "analyze": {
        const totals = scan.emptyTotals()
        const merge = (counts: scan.Counts) => Effect.sync(() => scan.mergeCounts(totals, counts))
        if (file.fifo) yield* pipelined(file, chunking, (chunk) => cpu.submit(Count, chunk, transfer(chunk)), merge)
        else {
          // a regular file: the workers read its ranges themselves, several at once
          const ranges: Array<{ readonly start: number; readonly end: number }> = []
          for (let start = 0; ; start += options.chunkSize) {
            const last = start + options.chunkSize >= file.size
            ranges.push({ start, end: last ? -1 : start + options.chunkSize })
            if (last) break
          }
          yield* inOrder(
            ranges,
            rangesInFlight,
            (range) => cpu.submit(CountRange, { path: file.path, ...range, chunkSize: options.chunkSize }),
            merge
          )
        }
        const { inWord: _, ...counts } = totals
        return analyzed(counts)
      }
      case "validate": {
        const findings = scan.emptyFindings()
        let bom = false
        yield* pipelined(
          file,
          chunking,
          (chunk, offset) => {
            if (offset === 0) bom = chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf
            return cpu.submit(Validate, { bytes: chunk, maxLineLength: options.maxLineLength }, transfer(chunk))
          },
          (f, offset) => Effect.sync(() => scan.mergeFindings(findings, f, offset))
        )
        return { findings: { ...findings, bom } }
      }
      case "transform": {
        const out = target!
        const temp = `${out}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
        yield* io(out, () => fs.mkdir(path.dirname(out), { recursive: true }))
        yield* Effect.acquireUseRelease(
          io(temp, () => fs.open(temp, "wx")),
          (handle) =>
            pipelined(
              file,
              chunking,
              (chunk) => cpu.submit(Transform, { bytes: chunk, op: options.op }, transfer(chunk)),
              (bytes) => io(temp, () => handle.write(bytes).then(() => {}))
            ),
          (handle, exit) =>
            Effect.promise(async () => {
              await handle.close()
              if (Exit.isSuccess(exit)) await fs.rename(temp, out)
              else await fs.rm(temp, { force: true })
            })
        )
        return { written: path.relative(options.out!, out).split(path.sep).join("/") }
      }
    }
  })

/** What analyze reports of a file's counts: the counts, and a warning if it has invalid UTF-8. */
const analyzed = (counts: Omit<scan.Totals, "inWord">) => ({
  counts,
  ...(counts.invalid > 0
    ? {
        warning: `invalid UTF-8 (${counts.invalid} bytes, first at byte ${counts.firstInvalid}): counted as bytes but not characters, as wc does`
      }
    : {})
})

const describe = (e: unknown): { readonly tag: string; readonly message: string } => {
  if (typeof e === "object" && e !== null && "_tag" in e) {
    const tagged = e as { _tag: string; message?: string; code?: string }
    return { tag: tagged._tag, message: tagged.code ? `${tagged.code}: ${tagged.message}` : String(tagged.message) }
  }
  return { tag: "Error", message: String(e) }
}

/**
 * Processes every file of the report's walk: each as a task on the I/O
 * executor with the run's timeout (the task is stopped and reported as a
 * timeout; the run goes on) and retried with exponential backoff while it
 * fails with an error that retrying may mend.
 */
export const run = (options: RunOptions, report: Report, now: () => number) =>
  Effect.gen(function* () {
    const executor = yield* IoExecutor.IoExecutor
    const cpu = yield* CpuExecutor.CpuExecutor
    const outDir = options.mode === "transform" ? path.resolve(options.out!) : undefined
    // every worker starts (loads its modules) while the directory is listed, so that a
    // file's time limit is spent on the file and not on a worker's start-up
    const { maxWorkers } = yield* cpu.stats
    const warm = yield* Effect.forEach(
      Array.from({ length: maxWorkers }, () => new Uint8Array(0)),
      (empty) => Effect.flatMap(cpu.submit(Count, empty), awaitOrCancel),
      { concurrency: "unbounded", discard: true }
    ).pipe(Effect.forkChild)
    const walkOptions = { ext: options.ext, extCaseSensitive: options.extCaseSensitive, exclude: outDir }
    // transform lists the whole tree first, so that no output can overwrite an input that
    // is not listed yet; analyze and validate process files while the tree is listed
    let inputs: Set<string> | undefined
    let files: ReadonlyArray<Entry> = []
    if (options.mode === "transform") {
      const walked = yield* walk(options.dir, { ...walkOptions, onFound: (count) => (report.total = count) })
      files = walked.files
      report.total = files.length + walked.unreadable.length
      report.scanning = false
      report.totalBytes = files.reduce((sum, f) => sum + f.size, 0)
      for (const u of walked.unreadable) record(report, u)
      inputs = new Set(files.map((f) => path.resolve(f.path)))
    }

    const one = (file: Entry) =>
      Effect.gen(function* () {
        const started = now()
        const target = outDir === undefined ? undefined : path.join(outDir, file.rel)
        let attempts = 0
        const exit = yield* Effect.exit(
          target !== undefined && inputs?.has(target) === true
            ? Effect.fail(
                new FileError({ path: file.rel, code: "EEXIST", reason: "the output would overwrite an input" })
              )
            : Effect.suspend(() => {
                attempts++
                return executor
                  .submit(processFile(file, options, target), { timeout: options.timeout })
                  .pipe(Effect.flatMap(awaitOrCancel))
              }).pipe(Effect.retry({ schedule: backoff, times: options.retries, while: retryable }))
        )
        const base = {
          file: file.rel,
          bytes: Math.max(file.size, 0),
          attempts: Math.max(attempts, 1),
          ms: now() - started
        }
        if (Exit.isSuccess(exit)) return record(report, { status: "ok", ...base, ...exit.value })
        if (Exit.hasInterrupts(exit)) return yield* Effect.interrupt
        const error = Exit.findErrorOption(exit)
        const failure = error._tag === "Some" ? error.value : Cause.squash(exit.cause)
        const tag = (failure as { _tag?: string })?._tag
        record(report, {
          status: tag === "TimeoutError" ? "timeout" : "error",
          ...base,
          error:
            tag === "TimeoutError"
              ? { tag, message: `timed out after ${Duration.format(options.timeout)}` }
              : describe(failure)
        })
      })

    const concurrency = options.ioWorkers * 2
    if (options.mode === "transform") {
      yield* Fiber.join(warm)
      yield* Effect.forEach(files, one, { concurrency, discard: true })
      report.endedAt = now()
      return report
    }

    // analyze: small and medium files go in batches that a worker reads and counts itself
    // (see batch.ts); large files one by one, in ranges that every worker reads and counts
    // at once; named pipes one by one, read here in chunks (see processFile)
    const runBatch = (batch: ReadonlyArray<Entry>): Effect.Effect<Array<Entry>, never, CpuExecutor.CpuExecutor> =>
      Effect.gen(function* () {
        const exit = yield* cpu
          .submit(
            CountFiles,
            { paths: batch.map((f) => f.path).join("\0"), chunkSize: options.chunkSize },
            { timeout: options.timeout }
          )
          .pipe(Effect.flatMap(awaitOrCancel), Effect.exit)
        if (Exit.isFailure(exit)) {
          if (Exit.hasInterrupts(exit)) return yield* Effect.interrupt
          // the batch failed as a whole (it timed out, its worker died): each file on its
          // own, with its own time limit and retries
          yield* Effect.forEach(batch, one, { concurrency, discard: true })
          return []
        }
        const { redo, left } = recordBatch(report, batch, exit.value)
        if (redo.length > 0) yield* Effect.forEach(redo, one, { concurrency, discard: true })
        return left
      })

    // the walk hands work over through a queue, as batches (analyze) and single files, and
    // waits while 64 of its items (16k files, a few MB) are not done: a tree of any size is
    // never held in memory at once, files are processed while the rest is listed, and the
    // progress has a total early on a tree of tens of thousands of files. What a batch left
    // (it had read its budget of bytes) goes back in the queue, for any consumer to take;
    // the queue ends once the walk is over and every item is done
    const analyze = options.mode === "analyze"
    // analyze: a consumer per batch in flight (two a worker: one running, one sent ahead);
    // validate: one per file being read
    const consumers = analyze ? maxWorkers * 2 : concurrency
    const queue = yield* Queue.unbounded<Work, Cause.Done>()
    const room = yield* Semaphore.make(64)
    const fromWalk = new WeakSet<object>()
    let outstanding = 0
    let walked = false
    const push = (items: ReadonlyArray<Work>) => {
      outstanding += items.length
      return Queue.offerAll(queue, items)
    }
    const endIfDone = Effect.suspend(() => (walked && outstanding === 0 ? Queue.end(queue) : Effect.void))
    const batcher = makeBatcher(options.chunkSize)
    const producer = walkInto(
      options.dir,
      // analyze: the worker that reads a file asks its size, not the walk
      { ...walkOptions, listing: options.ioWorkers, sizes: !analyze },
      (found) =>
        Effect.suspend(() => {
          report.total += found.length
          const work: Array<Work> = []
          for (const f of found) {
            if (f.size > 0) report.totalBytes += f.size
            if (analyze) batcher.add(f, work)
            else work.push(f)
          }
          return Effect.forEach(
            work,
            (item) => {
              fromWalk.add(item)
              return Effect.andThen(Semaphore.take(room, 1), push([item]))
            },
            { discard: true }
          )
        }),
      (u) => {
        report.total++
        record(report, u)
      }
    ).pipe(
      Effect.andThen(
        Effect.suspend(() => {
          const rest = batcher.flush()
          for (const item of rest) fromWalk.add(item)
          return push(rest)
        })
      ),
      Effect.ensuring(
        Effect.suspend(() => {
          report.scanning = false
          walked = true
          return endIfDone
        })
      )
    )
    const consumer = Effect.gen(function* () {
      for (;;) {
        const work = yield* Queue.take(queue).pipe(Effect.catchIf(Cause.isDone, () => Effect.succeed(undefined)))
        if (work === undefined) return
        if (isBatch(work)) {
          const left = yield* runBatch(work)
          // in two halves: as long as batches leave files, more consumers get some
          if (left.length > 1) yield* push([left.slice(0, left.length >> 1), left.slice(left.length >> 1)])
          else if (left.length > 0) yield* push([left])
        } else yield* one(work)
        if (fromWalk.has(work)) yield* Semaphore.release(room, 1)
        outstanding--
        yield* endIfDone
      }
    })
    const walking = yield* Effect.forkChild(producer)
    yield* Fiber.join(warm)
    yield* Effect.all([Fiber.join(walking), ...Array.from({ length: consumers }, () => consumer)], {
      concurrency: "unbounded",
      discard: true
    })
    report.endedAt = now()
    return report
  }).pipe(
    Effect.onInterrupt(() =>
      Effect.sync(() => {
        report.interrupted = true
        report.endedAt = now()
      })
    )
  )

/** Files per batch at most. */
const batchFiles = 256

/** Work for a consumer: a batch of files for a worker to read and count, or one file. */
type Work = ReadonlyArray<Entry> | Entry

const isBatch = (work: Work): work is ReadonlyArray<Entry> => Array.isArray(work)

/**
 * Groups the files of an analyze run as they are found: regular files of at
 * most 8 chunks in batches of at most `batchFiles` files and 4 chunks' worth
 * of bytes (a file larger than that is a batch of its own); larger files and
 * named pipes alone, read on the per-file path.
 */
export const makeBatcher = (chunkSize: number) => {
  let batch: Array<Entry> = []
  let bytes = 0
  const flush = (): Array<Work> => {
    if (batch.length === 0) return []
    const full = batch
    batch = []
    bytes = 0
    return [full]
  }
  return {
    /** Adds a file, pushing onto `work` whatever is ready. */
    add: (file: Entry, work: Array<Work>): void => {
      if (file.fifo || file.size > batch_.largeChunks * chunkSize) {
        work.push(file)
        return
      }
      const size = Math.max(file.size, 0)
      if (batch.length >= batchFiles || bytes + size > batch_.budgetChunks * chunkSize) work.push(...flush())
      batch.push(file)
      bytes += size
    },
    /** The batch being filled, if any. */
    flush
  }
}

/** A count from a worker's figures, as a small integer where it is one (a double otherwise). */
const int = (x: number) => (x <= 0x3fffffff && x >= -0x40000000 ? x | 0 : x)

/**
 * Records the outcome of every file of a batch a worker counted. Returns the
 * files to run again on their own (`redo`): those that were not regular files
 * when opened (as named pipes: read without blocking), large ones (with their
 * size, for the ranges path), and those whose read failed with an error that
 * retrying may mend; and the files the batch left for another (`left`).
 */
const recordBatch = (
  report: Report,
  batch: ReadonlyArray<Entry>,
  result: { readonly figures: Uint8Array; readonly errors: ReadonlyArray<batch_.BatchError> }
): { readonly redo: Array<Entry>; readonly left: Array<Entry> } => {
  const raw = result.figures
  const figures =
    raw.byteOffset % 8 === 0
      ? new Float64Array(raw.buffer, raw.byteOffset, raw.byteLength / 8)
      : new Float64Array(raw.slice().buffer)
  const errors = new Map(result.errors.map((e) => [e.index, e]))
  const redo: Array<Entry> = []
  const left: Array<Entry> = []
  for (let i = 0; i < batch.length; i++) {
    const file = batch[i]
    const at = i * batch_.STRIDE
    const ms = Math.round(figures[at + 7])
    switch (figures[at]) {
      case batch_.OK: {
        const counts = {
          lines: int(figures[at + 1]),
          words: int(figures[at + 2]),
          bytes: int(figures[at + 3]),
          chars: int(figures[at + 4]),
          invalid: int(figures[at + 5]),
          firstInvalid: int(figures[at + 6])
        }
        record(report, { status: "ok", file: file.rel, bytes: counts.bytes, attempts: 1, ms, ...analyzed(counts) })
        break
      }
      case batch_.ERROR: {
        const e = errors.get(i)
        const error = fileError(file.path, e ?? { code: "ERROR", message: "unreadable" })
        if (retryable(error)) redo.push(file)
        else
          record(report, {
            status: "error",
            file: file.rel,
            bytes: Math.max(file.size, 0),
            attempts: 1,
            ms,
            error: describe(error)
          })
        break
      }
      case batch_.LARGE:
        redo.push({ ...file, size: figures[at + 3] })
        break
      case batch_.LEFT:
        left.push(file)
        break
      default:
        redo.push({ ...file, fifo: true })
    }
  }
  return { redo, left }
}

const record = (report: Report, outcome: Outcome) => {
  report.outcomes.push(outcome)
  report.bytesDone += outcome.bytes
  if (outcome.status !== "ok") report.failed++
}

/** The kinds of line ending a file uses. */
export const lineEndings = (f: scan.Findings): Array<string> =>
  [f.lf > 0 && "LF", f.crlf > 0 && "CRLF", f.cr > 0 && "CR"].filter((e): e is string => e !== false)

/** Whether the report has validation findings (anything `validate` flags). */
export const hasFindings = (f: scan.Findings & { readonly bom: boolean }): boolean =>
  f.invalid > 0 || f.bom || f.longLines > 0 || f.trailingWhitespace > 0 || lineEndings(f).length > 1

/**
 * The process exit code of a finished run: 0 all good, 1 some files failed
 * (or, validating, have findings), leaving out files whose failure is
 * `expected` (the sample corpus's deliberate ones).
 */
export const exitCode = (report: Report, expected: (file: string) => boolean = () => false): number =>
  report.interrupted
    ? 130
    : report.outcomes.some(
          (o) => !expected(o.file) && (o.status !== "ok" || (o.findings !== undefined && hasFindings(o.findings)))
        )
      ? 1
      : 0
