/**
 * The file processor's kernels: pure functions over one chunk of bytes, run in
 * the CPU workers. Chunks always end on a character boundary (see `split`), so
 * a file's figures are the merge of its chunks' figures, in order.
 *
 * Counting follows GNU `wc` (coreutils 9.1) under a UTF-8 locale:
 * - bytes: every byte; lines: every `\n`;
 * - characters: every UTF-8 sequence that glibc's decoder accepts (no overlong
 *   forms or surrogates; like glibc, sequences of up to 6 bytes above U+10FFFF
 *   are accepted). A byte that does not begin such a sequence counts as no
 *   character and is skipped on its own, as `wc` does;
 * - words: maximal runs of printable, non-space characters. Separators are
 *   ASCII whitespace, printable Unicode spaces, and U+00A0, U+2007, U+202F,
 *   U+2060; characters that are not printable (controls, unassigned code points,
 *   invalid bytes) neither start nor end a word. The classes come from glibc's
 *   C.UTF-8 tables (`wcTable.ts`).
 *
 * @internal
 */
import { runs } from "./wcTable.ts"

const NEUTRAL = 0
const WORD = 1
const SEP = 2

const ascii = new Uint8Array(128)
for (let c = 0x21; c < 0x7f; c++) ascii[c] = WORD
for (const c of [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20]) ascii[c] = SEP

let table: Uint8Array | undefined
/** The class of every code point, built once per thread on first use (1.1 MB). */
const classes = (): Uint8Array => {
  if (table !== undefined) return table
  const t = new Uint8Array(0x110000)
  t.set(ascii)
  const parts = runs.split(",")
  for (let i = 0; i < parts.length; i++) {
    const start = parseInt(parts[i].slice(0, -1), 16)
    const end = i + 1 < parts.length ? parseInt(parts[i + 1].slice(0, -1), 16) : 0x110000
    t.fill(Number(parts[i].slice(-1)), start, end)
  }
  return (table = t)
}

/**
 * Decodes the UTF-8 sequence at `i`: returns `codePoint * 8 + length`, or -1
 * for an invalid byte (skipped on its own). A sequence cut off by the end of
 * `b` is invalid too. Overlong forms and surrogates are always invalid; with
 * `glibc`, sequences of 4 to 6 bytes up to U+7FFFFFFF are accepted as glibc's
 * `mbrtowc` (and so `wc`) does, else anything above U+10FFFF is invalid
 * (RFC 3629).
 */
const decode = (b: Uint8Array, i: number, n: number, glibc: boolean): number => {
  const c = b[i]
  if (c < 0xc2 || c > (glibc ? 0xfd : 0xf4)) return -1
  const length = c < 0xe0 ? 2 : c < 0xf0 ? 3 : c < 0xf8 ? 4 : c < 0xfc ? 5 : 6
  if (i + length > n) return -1
  let cp = c & (0x7f >> length)
  for (let k = 1; k < length; k++) {
    const ck = b[i + k]
    if ((ck & 0xc0) !== 0x80) return -1
    cp = cp * 64 + (ck & 0x3f)
  }
  // shortest form only, no surrogates
  if (cp < minimum[length] || (cp >= 0xd800 && cp <= 0xdfff) || (!glibc && cp > 0x10ffff)) return -1
  return cp * 8 + length
}
const minimum = [0, 0, 0x80, 0x800, 0x10000, 0x200000, 0x4000000]

/** Counts of one chunk, merged in order by {@link mergeCounts}. */
export interface Counts {
  readonly lines: number
  readonly words: number
  readonly bytes: number
  readonly chars: number
  /** Bytes that begin no valid UTF-8 sequence. */
  readonly invalid: number
  /** Offset of the first such byte in the chunk, or -1. */
  readonly firstInvalid: number
  /** The class of the chunk's first character that is not neutral (0 if none). */
  readonly lead: number
  /** Whether the chunk ends inside a word (-1 if it holds no character that is not neutral). */
  readonly end: number
}

/** The class of `b`'s first character that is not neutral, or NEUTRAL if it has none. */
const leadOf = (b: Uint8Array, t: Uint8Array): number => {
  const n = b.length
  for (let i = 0; i < n;) {
    const c = b[i]
    let cls: number
    if (c < 0x80) {
      cls = ascii[c]
      i++
    } else {
      const d = decode(b, i, n, true)
      if (d < 0) {
        i++
        continue
      }
      const cp = Math.floor(d / 8)
      cls = cp < 0x110000 ? t[cp] : NEUTRAL
      i += d % 8
    }
    if (cls !== NEUTRAL) return cls
  }
  return NEUTRAL
}

// The class of each ASCII byte as bits, so that the loop over ASCII text has no branch but
// its exit test: bit 0 a word character, bit 1 a separator, bit 2 a `\n`.
const asciiBits = new Uint8Array(128)
for (let c = 0; c < 128; c++) asciiBits[c] = (ascii[c] === WORD ? 1 : ascii[c] === SEP ? 2 : 0) | (c === 0x0a ? 4 : 0)

/** Counts lines, words, bytes and characters of a chunk as `wc -lwcm` does. */
export const count = (b: Uint8Array): Counts => {
  const t = classes()
  const n = b.length
  let lines = 0
  let words = 0
  let invalid = 0
  let firstInvalid = -1
  // bytes after the first of each valid multi-byte character: chars = n - invalid - extra
  let extra = 0
  let inWord = 0
  let i = 0
  for (;;) {
    // a run of ASCII: the common case, kept tight
    let c = 0
    while (i < n) {
      c = b[i]
      if (c >= 0x80) break
      const v = asciiBits[c]
      const word = v & 1
      // a word character starts a word unless in one; a separator ends it; others change nothing
      words += word & (inWord ^ 1)
      inWord = word | (inWord & ~(v >> 1))
      lines += v >> 2
      i++
    }
    if (i >= n) break
    // a 2-, 3- or 4-byte sequence in shortest form (no surrogate), decoded here; anything
    // else (5 or 6 bytes, invalid bytes) by `decode`
    let cp = -1
    let length = 0
    if (c < 0xe0) {
      if (c >= 0xc2 && i + 1 < n) {
        const c1 = b[i + 1]
        if ((c1 & 0xc0) === 0x80) {
          cp = ((c & 0x1f) << 6) | (c1 & 0x3f)
          length = 2
        }
      }
    } else if (c < 0xf0) {
      if (i + 2 < n) {
        const c1 = b[i + 1]
        const c2 = b[i + 2]
        if ((c1 & 0xc0) === 0x80 && (c2 & 0xc0) === 0x80) {
          const x = ((c & 0x0f) << 12) | ((c1 & 0x3f) << 6) | (c2 & 0x3f)
          if (x >= 0x800 && (x < 0xd800 || x > 0xdfff)) {
            cp = x
            length = 3
          }
        }
      }
    } else if (c < 0xf8) {
      // 4 bytes; like glibc, above U+10FFFF too (up to U+1FFFFF: a character of no class)
      if (i + 3 < n) {
        const c1 = b[i + 1]
        const c2 = b[i + 2]
        const c3 = b[i + 3]
        if ((c1 & 0xc0) === 0x80 && (c2 & 0xc0) === 0x80 && (c3 & 0xc0) === 0x80) {
          const x = ((c & 0x07) << 18) | ((c1 & 0x3f) << 12) | ((c2 & 0x3f) << 6) | (c3 & 0x3f)
          if (x >= 0x10000) {
            cp = x
            length = 4
          }
        }
      }
    } else {
      const d = decode(b, i, n, true)
      if (d >= 0) {
        cp = Math.floor(d / 8)
        length = d % 8
      }
    }
    if (length === 0) {
      if (firstInvalid < 0) firstInvalid = i
      invalid++
      i++
      continue
    }
    i += length
    extra += length - 1
    const cls = cp < 0x110000 ? t[cp] : NEUTRAL
    if (cls === WORD) {
      words += inWord ^ 1
      inWord = 1
    } else if (cls === SEP) inWord = 0
  }
  const lead = leadOf(b, t)
  return {
    lines,
    words,
    bytes: n,
    chars: n - invalid - extra,
    invalid,
    firstInvalid,
    lead,
    end: lead === NEUTRAL ? -1 : inWord
  }
}

/** A file's running totals while its chunks' counts arrive in order. */
export interface Totals {
  lines: number
  words: number
  bytes: number
  chars: number
  invalid: number
  firstInvalid: number
  inWord: boolean
}

/** Fresh totals for a file. */
export const emptyTotals = (): Totals => ({
  lines: 0,
  words: 0,
  bytes: 0,
  chars: 0,
  invalid: 0,
  firstInvalid: -1,
  inWord: false
})

/** Adds the next chunk's counts; a word that runs across the boundary counts once. */
export const mergeCounts = (totals: Totals, c: Counts): void => {
  if (c.firstInvalid >= 0 && totals.firstInvalid < 0) totals.firstInvalid = totals.bytes + c.firstInvalid
  totals.words += c.words - (totals.inWord && c.lead === WORD ? 1 : 0)
  if (c.end >= 0) totals.inWord = c.end === 1
  totals.lines += c.lines
  totals.bytes += c.bytes
  totals.chars += c.chars
  totals.invalid += c.invalid
}

/** Findings of one chunk of whole lines, merged by {@link mergeFindings}. */
export interface Findings {
  invalid: number
  firstInvalid: number
  lf: number
  crlf: number
  cr: number
  /** Lines longer than the limit, in characters. */
  longLines: number
  /** The longest line, in characters. */
  maxLine: number
  /** Lines ending in a space or a tab. */
  trailingWhitespace: number
  /** 1-based number (within the chunk) of the first long line and of the first line with trailing whitespace, or 0. */
  firstLongLine: number
  firstTrailing: number
  lines: number
}

/**
 * Validates a chunk that holds whole lines (the last may lack its terminator at
 * the end of the file): UTF-8 validity, line endings, long lines and trailing
 * whitespace. Line length is in characters, not counting the terminator.
 */
export const validate = (b: Uint8Array, maxLineLength: number): Findings => {
  const n = b.length
  const f: Findings = {
    invalid: 0,
    firstInvalid: -1,
    lf: 0,
    crlf: 0,
    cr: 0,
    longLines: 0,
    maxLine: 0,
    trailingWhitespace: 0,
    firstLongLine: 0,
    firstTrailing: 0,
    lines: 0
  }
  let len = 0
  let last = -1
  const endLine = () => {
    f.lines++
    if (len > f.maxLine) f.maxLine = len
    if (len > maxLineLength) {
      f.longLines++
      if (f.firstLongLine === 0) f.firstLongLine = f.lines
    }
    if (last === 0x20 || last === 0x09) {
      f.trailingWhitespace++
      if (f.firstTrailing === 0) f.firstTrailing = f.lines
    }
    len = 0
    last = -1
  }
  let i = 0
  while (i < n) {
    const c = b[i]
    if (c === 0x0a) {
      f.lf++
      endLine()
      i++
    } else if (c === 0x0d) {
      if (i + 1 < n && b[i + 1] === 0x0a) {
        f.crlf++
        i += 2
      } else {
        f.cr++
        i++
      }
      endLine()
    } else if (c < 0x80) {
      len++
      last = c
      i++
    } else {
      const d = decode(b, i, n, false)
      if (d < 0) {
        if (f.firstInvalid < 0) f.firstInvalid = i
        f.invalid++
        last = -1
        i++
      } else {
        len++
        last = Math.floor(d / 8)
        i += d % 8
      }
    }
  }
  if (len > 0) endLine()
  return f
}

/** Merges a chunk's findings into a file's, keeping offsets and line numbers file-relative. */
export const mergeFindings = (into: Findings, f: Findings, offset: number): void => {
  if (f.firstInvalid >= 0 && into.firstInvalid < 0) into.firstInvalid = offset + f.firstInvalid
  if (f.firstLongLine > 0 && into.firstLongLine === 0) into.firstLongLine = into.lines + f.firstLongLine
  if (f.firstTrailing > 0 && into.firstTrailing === 0) into.firstTrailing = into.lines + f.firstTrailing
  into.invalid += f.invalid
  into.lf += f.lf
  into.crlf += f.crlf
  into.cr += f.cr
  into.longLines += f.longLines
  into.maxLine = Math.max(into.maxLine, f.maxLine)
  into.trailingWhitespace += f.trailingWhitespace
  into.lines += f.lines
}

/** Findings of an empty file. */
export const emptyFindings = (): Findings => validate(new Uint8Array(0), 0)

/** The transforms `--op` names. */
export type Op = "upper" | "lower" | "reverse"

const decoder = new TextDecoder("utf-8", { fatal: true })
const encoder = new TextEncoder()

/**
 * Transforms a chunk of whole lines: upper or lower case, or every line's
 * characters reversed (its terminator stays at its end). Returns the bytes, or
 * the offset of the first invalid byte: invalid UTF-8 is never transformed.
 */
export const transform = (b: Uint8Array, op: Op): Uint8Array | { readonly invalidAt: number } => {
  let text: string
  try {
    text = decoder.decode(b)
  } catch {
    const f = validate(b, Infinity)
    return { invalidAt: f.firstInvalid }
  }
  switch (op) {
    case "upper":
      return encoder.encode(text.toUpperCase())
    case "lower":
      return encoder.encode(text.toLowerCase())
    case "reverse":
      return encoder.encode(text.replace(/[^\r\n]+/g, (line) => Array.from(line).reverse().join("")))
  }
}

/**
 * Where to cut `b` so the chunk before the cut ends on a character boundary:
 * after the last line terminator if `wholeLines` (or -1 when `b` holds none:
 * the caller reads on), else after the last complete character. A `\r` at the
 * very end is never a cut, since a `\n` may follow it in the next read.
 */
export const split = (b: Uint8Array, wholeLines: boolean): number => {
  const n = b.length
  for (let i = n - 1; i >= 0; i--) {
    const c = b[i]
    if (c === 0x0a || (c === 0x0d && i < n - 1)) return i + 1
  }
  return wholeLines ? -1 : boundary(b, n)
}

/**
 * Where to cut the first `n` bytes of `b` so that no UTF-8 sequence is cut:
 * before an incomplete sequence at the end (at most 5 bytes), else at `n`.
 */
export const boundary = (b: Uint8Array, n: number): number => {
  // back up over at most 5 continuation bytes to the start of the last sequence
  let i = n - 1
  while (i > 0 && i > n - 6 && (b[i] & 0xc0) === 0x80) i--
  const c = b[i]
  const need = c >= 0xfc ? 6 : c >= 0xf8 ? 5 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2
  return c >= 0xc0 && n - i < need ? i : n
}
