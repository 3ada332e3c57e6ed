// Canned futures in every state, built from the internal state machine
// (CPython's test util). Only tests import internal modules.
import * as Exit from "effect/Exit"
import type * as Future from "../../src/Future.ts"
import * as internal from "../../src/internal/future.ts"

export const pending = <A = number, E = string>(): Future.Future<A, E> => internal.makeUnsafe<A, E>() as any

export const running = <A = number, E = string>(): Future.Future<A, E> => {
  const f = internal.makeUnsafe<A, E>()
  internal.markRunning(f)
  return f as any
}

export const succeeded = <A>(value: A): Future.Future<A, never> => {
  const f = internal.makeUnsafe<A, never>()
  internal.settle(f, Exit.succeed(value))
  return f as any
}

export const failed = <E>(error: E): Future.Future<never, E> => {
  const f = internal.makeUnsafe<never, E>()
  internal.settle(f, Exit.fail(error))
  return f as any
}

export const cancelled = <A = number, E = string>(): Future.Future<A, E> => {
  const f = internal.makeUnsafe<A, E>()
  internal.settle(f, internal.cancelledExit)
  return f as any
}

/** Completes a canned future as its executor would. */
export const complete = <A, E>(future: Future.Future<A, E>, exit: Exit.Exit<A, E>): boolean =>
  internal.settle(future as any, exit)
