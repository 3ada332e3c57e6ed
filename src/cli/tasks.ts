/**
 * The file processor's CPU tasks and typed errors, shared by the CLI and its
 * worker entry.
 *
 * @internal
 */
import * as Schema from "effect/Schema"
import * as Task from "../Task.ts"

const Int = Schema.Number

/** Counts one chunk (see `scan.count`). */
export const Count = Task.make("files/Count", {
  payload: Schema.Uint8Array,
  success: Schema.Struct({
    lines: Int,
    words: Int,
    bytes: Int,
    chars: Int,
    invalid: Int,
    firstInvalid: Int,
    lead: Int,
    end: Int
  })
})

/**
 * Reads and counts a batch of files in the worker (see `batch.ts`): their
 * paths joined with NUL (a string is passed as is, with no per-path encoding),
 * and the chunk size to read them in. The figures of every file come back in
 * one transferred array (`batch.STRIDE` numbers a file), and read errors apart.
 */
export const CountFiles = Task.make("files/CountFiles", {
  payload: Schema.Struct({ paths: Schema.String, chunkSize: Int }),
  success: Schema.Struct({
    figures: Schema.Uint8Array,
    errors: Schema.Array(Schema.Struct({ index: Int, code: Schema.String, message: Schema.String }))
  })
})

/** Validates one chunk of whole lines (see `scan.validate`). */
export const Validate = Task.make("files/Validate", {
  payload: Schema.Struct({ bytes: Schema.Uint8Array, maxLineLength: Int }),
  success: Schema.Struct({
    invalid: Int,
    firstInvalid: Int,
    lf: Int,
    crlf: Int,
    cr: Int,
    longLines: Int,
    maxLine: Int,
    trailingWhitespace: Int,
    firstLongLine: Int,
    firstTrailing: Int,
    lines: Int
  })
})

/** Invalid UTF-8 where a transform needs text: the file is left alone. */
export class InvalidUtf8Error extends Schema.TaggedError<InvalidUtf8Error>()("InvalidUtf8Error", {
  /** Byte offset of the first invalid byte, within the chunk (the CLI makes it file-relative). */
  offset: Schema.Number
}) {
  override get message() {
    return `invalid UTF-8 at byte ${this.offset}`
  }
}

/** Transforms one chunk of whole lines (see `scan.transform`); the result bytes are transferred back. */
export const Transform = Task.make("files/Transform", {
  payload: Schema.Struct({ bytes: Schema.Uint8Array, op: Schema.Literals(["upper", "lower", "reverse"]) }),
  success: Schema.Uint8Array,
  error: InvalidUtf8Error
})

/** A file that could not be read, listed or written. */
export class FileError extends Schema.TaggedError<FileError>()("FileError", {
  path: Schema.String,
  /** The system error code (`ENOENT`, `EACCES`, …), or `"ERROR"`. */
  code: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return this.reason
  }
}

/** A line longer than the processor holds in memory at once (transform and validate need whole lines). */
export class LineTooLongError extends Schema.TaggedError<LineTooLongError>()("LineTooLongError", {
  path: Schema.String,
  limit: Schema.Number
}) {
  override get message() {
    return `a line is longer than ${this.limit} bytes`
  }
}

/**
 * Reads and counts a range of bytes of a large file in the worker (see
 * `batch.countRange`): the ranges of a file go to every worker at once, and
 * merge in order as chunks do. `end` -1 is the end of the file.
 */
export const CountRange = Task.make("files/CountRange", {
  payload: Schema.Struct({ path: Schema.String, start: Int, end: Int, chunkSize: Int }),
  success: Count.success,
  error: FileError
})
