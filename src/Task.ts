/**
 * Typed task definitions for the CPU executor, imported by both sides of the
 * thread boundary.
 *
 * A task has a name (how the worker finds its handler), a payload schema, a
 * success schema and an optional error schema. Payloads and results are
 * encoded with their schemas before they cross the thread and decoded after,
 * so a `Schema.TaggedError` declared as the error arrives as the same class
 * with its fields, and a `Date` or a branded value arrives as itself.
 *
 * **Example** (A task shared by the parent and the worker)
 *
 * ```ts
 * import { Schema } from "effect"
 * import { Task } from "effect-futures"
 *
 * export class NegativeInput extends Schema.TaggedError<NegativeInput>()("NegativeInput", {
 *   value: Schema.Number
 * }) {}
 *
 * export const SquareRoot = Task.make("SquareRoot", {
 *   payload: Schema.Number,
 *   success: Schema.Number,
 *   error: NegativeInput
 * })
 * ```
 *
 * @since 0.1.0
 */
import { hasProperty } from "effect/Predicate"
import * as Schema from "effect/Schema"

const TypeId = "~effect-futures/Task" as const

/**
 * A schema usable at the thread boundary: it needs no services to encode or decode.
 *
 * @category models
 * @since 0.1.0
 */
export type Any = Schema.Codec<any, any, never, never>

/**
 * A task definition.
 *
 * @category models
 * @since 0.1.0
 */
export interface Task<
  out Name extends string,
  out Payload extends Any,
  out Success extends Any,
  out Error extends Any = typeof Schema.Never
> {
  readonly [TypeId]: typeof TypeId
  readonly name: Name
  readonly payload: Payload
  readonly success: Success
  readonly error: Error
}

/**
 * Any task definition.
 *
 * @category models
 * @since 0.1.0
 */
export interface AnyTask extends Task<string, Any, Any, Any> {}

/**
 * The decoded payload type of a task.
 *
 * @category type-level
 * @since 0.1.0
 */
export type Payload<T extends AnyTask> = T["payload"]["Type"]

/**
 * The decoded success type of a task.
 *
 * @category type-level
 * @since 0.1.0
 */
export type Success<T extends AnyTask> = T["success"]["Type"]

/**
 * The decoded error type of a task.
 *
 * @category type-level
 * @since 0.1.0
 */
export type Error<T extends AnyTask> = T["error"]["Type"]

/**
 * Defines a task. The name must be unique among the tasks one worker serves.
 *
 * **Example** (A task with a typed error)
 *
 * ```ts
 * import * as Schema from "effect/Schema"
 * import * as Task from "effect-futures/Task"
 *
 * class NotFound extends Schema.TaggedError<NotFound>()("NotFound", { key: Schema.String }) {}
 * const Lookup = Task.make("Lookup", { payload: Schema.String, success: Schema.Number, error: NotFound })
 * type Result = Task.Success<typeof Lookup> // number
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = <
  const Name extends string,
  Payload extends Any,
  Success extends Any,
  Error extends Any = typeof Schema.Never
>(
  name: Name,
  options: { readonly payload: Payload; readonly success: Success; readonly error?: Error | undefined }
): Task<Name, Payload, Success, Error> => ({
  [TypeId]: TypeId,
  name,
  payload: options.payload,
  success: options.success,
  error: (options.error ?? Schema.Never) as Error
})

/**
 * Tells whether a value is a task definition.
 *
 * **Example** (Validating a registry of tasks)
 *
 * ```ts
 * import * as Task from "effect-futures/Task"
 *
 * declare const exported: Record<string, unknown>
 * const tasks = Object.values(exported).filter(Task.isTask)
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isTask = (u: unknown): u is AnyTask => hasProperty(u, TypeId)
