// Encoding at the thread boundary, shared by the parent and the worker.
//
// Payloads, successes and typed errors go through their task's schemas.
// Defects (anything thrown, or `Effect.die`) are not schema-typed: an Error
// is sent as { name, message, stack, cause?, ...own cloneable properties } and
// rebuilt as the same built-in class (TypeError, RangeError, …) or as an Error
// whose `name` says what it was; its stack is the worker's stack.
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type * as Task from "../Task.ts"

/** A value that failed to encode or decode, with the schema's message. @internal */
export class Invalid {
  readonly message: string
  constructor(message: string) {
    this.message = message
  }
}

/**
 * A schema's boundary codec: each function returns the converted value, or an
 * `Invalid` (no allocation on the success path).
 * @internal
 */
export interface Codec {
  readonly encode: (value: unknown) => unknown
  readonly decode: (value: unknown) => unknown
  /**
   * The schema is the bare `Number` keyword: its values are numbers as they
   * are, so a chunk of them crosses the thread as one `Float64Array` (a copy
   * of its bytes instead of a value-by-value clone; exact for every number,
   * -0 and NaN included).
   */
  readonly numbers?: true
}

const codecs = new WeakMap<Task.Any, Codec>()

/** The (cached) encoder/decoder pair of a schema. @internal */
export const of = (schema: Task.Any): Codec => {
  let codec = codecs.get(schema)
  if (codec === undefined) {
    codec = keywordCodec(schema) ?? schemaCodec(schema)
    codecs.set(schema, codec)
  }
  return codec
}

const schemaCodec = (schema: Task.Any): Codec => {
  const encode = Schema.encodeUnknownResult(schema)
  const decode = Schema.decodeUnknownResult(schema)
  return {
    encode: (value) => unwrap(encode(value)),
    decode: (value) => unwrap(decode(value))
  }
}

const unwrap = (result: Result.Result<unknown, { readonly message: string }>): unknown =>
  Result.isSuccess(result) ? result.success : new Invalid(result.failure.message)

// Schemas that are a bare keyword (no refinement, no encoding) encode to
// themselves and decode by a type test: they skip the schema interpreter,
// which is most of the per-item cost of tiny tasks.
const keywordCodec = (schema: Task.Any): Codec | undefined => {
  const ast = schema.ast as {
    readonly _tag: string
    readonly checks?: ReadonlyArray<unknown>
    readonly encoding?: unknown
  }
  if ((ast.checks !== undefined && ast.checks.length > 0) || ast.encoding !== undefined) return undefined
  const test = keywordTests[ast._tag]
  if (test === undefined) return undefined
  const check = (value: unknown) =>
    test(value) ? value : new Invalid(`Expected ${expected[ast._tag]}, got ${show(value)}`)
  return ast._tag === "Number" ? { encode: check, decode: check, numbers: true } : { encode: check, decode: check }
}

const keywordTests: Record<string, (u: unknown) => boolean> = {
  Number: (u) => typeof u === "number",
  String: (u) => typeof u === "string",
  Boolean: (u) => typeof u === "boolean",
  Null: (u) => u === null,
  Unknown: () => true,
  Any: () => true
}

const expected: Record<string, string> = {
  Number: "number",
  String: "string",
  Boolean: "boolean",
  Null: "null",
  Unknown: "unknown",
  Any: "any"
}

const show = (value: unknown): string => {
  try {
    return typeof value === "string" ? JSON.stringify(value) : String(value)
  } catch {
    return typeof value
  }
}

/** @internal */
export interface EncodedDefect {
  readonly $defect: 1
  readonly name: string
  readonly message: string
  readonly stack: string | undefined
  readonly cause: unknown
  readonly props: Record<string, unknown> | undefined
}

const builtins: Record<string, new (message?: string) => Error> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError
}

/** @internal */
export const encodeDefect = (defect: unknown, depth = 0): unknown => {
  if (!(defect instanceof Error)) {
    try {
      return structuredClone(defect)
    } catch {
      return String(defect)
    }
  }
  let props: Record<string, unknown> | undefined
  for (const key of Object.keys(defect)) {
    if (key === "stack" || key === "message" || key === "cause") continue
    try {
      const value = structuredClone((defect as any)[key])
      props ??= {}
      props[key] = value
    } catch {
      // a property that cannot cross the thread is dropped
    }
  }
  return {
    $defect: 1,
    name: defect.name,
    message: defect.message,
    stack: defect.stack,
    cause: defect.cause === undefined || depth > 4 ? undefined : encodeDefect(defect.cause, depth + 1),
    props
  } satisfies EncodedDefect
}

/** @internal */
export const decodeDefect = (encoded: unknown): unknown => {
  if (typeof encoded !== "object" || encoded === null || (encoded as EncodedDefect).$defect !== 1) return encoded
  const e = encoded as EncodedDefect
  const Ctor = builtins[e.name] ?? Error
  const error = new Ctor(e.message)
  if (error.name !== e.name) Object.defineProperty(error, "name", { value: e.name, configurable: true, writable: true })
  if (e.stack !== undefined)
    Object.defineProperty(error, "stack", { value: e.stack, configurable: true, writable: true })
  if (e.cause !== undefined) {
    Object.defineProperty(error, "cause", { value: decodeDefect(e.cause), configurable: true, writable: true })
  }
  if (e.props !== undefined) Object.assign(error, e.props)
  return error
}
