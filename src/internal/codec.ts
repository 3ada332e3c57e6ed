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

/** @internal */
export interface Codec {
  readonly encode: (value: unknown) => Result.Result<unknown, string>
  readonly decode: (value: unknown) => Result.Result<unknown, string>
}

const codecs = new WeakMap<Task.Any, Codec>()

/** The (cached) encoder/decoder pair of a schema. @internal */
export const of = (schema: Task.Any): Codec => {
  let codec = codecs.get(schema)
  if (codec === undefined) {
    const encode = Schema.encodeUnknownResult(schema)
    const decode = Schema.decodeUnknownResult(schema)
    codec = {
      encode: (value) => Result.mapError(encode(value), (e) => e.message),
      decode: (value) => Result.mapError(decode(value), (e) => e.message)
    }
    codecs.set(schema, codec)
  }
  return codec
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
