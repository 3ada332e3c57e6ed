/**
 * effect-futures: Python's `concurrent.futures` for Effect.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Executor from "./Executor.ts"

/** @since 0.1.0 */
export * as ExecutorError from "./ExecutorError.ts"

/** @since 0.1.0 */
export * as ExecutorMetrics from "./ExecutorMetrics.ts"

/** @since 0.1.0 */
export * as Future from "./Future.ts"

/** @since 0.1.0 */
export * as IoExecutor from "./IoExecutor.ts"

/** @since 0.1.0 */
export * as CpuExecutor from "./CpuExecutor.ts"

/** @since 0.1.0 */
export * as CpuWorker from "./CpuWorker.ts"

/** @since 0.1.0 */
export * as Task from "./Task.ts"

/** @since 0.3.0 */
export * as ClusterExecutor from "./ClusterExecutor.ts"

/** @since 0.3.0 */
export * as ClusterRunner from "./ClusterRunner.ts"

/** @since 0.3.0 */
export * as TaskExecutor from "./TaskExecutor.ts"
