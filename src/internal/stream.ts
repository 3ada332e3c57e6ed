import type * as Arr from "effect/Array"
import * as Channel from "effect/Channel"
import type * as Effect from "effect/Effect"
import type * as Pull from "effect/Pull"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"

/**
 * A stream built from a pull function, with the stream's scope available to
 * register finalizers that run however the stream ends.
 * @internal
 */
export const fromPullScoped = <A, E, R, EX, RX>(
  make: (scope: Scope.Scope) => Effect.Effect<Pull.Pull<Arr.NonEmptyReadonlyArray<A>, E, void, R>, EX, RX>
): Stream.Stream<A, Pull.ExcludeDone<E> | EX, R | RX> =>
  Stream.fromChannel(Channel.fromTransform((_, scope) => make(scope)))
