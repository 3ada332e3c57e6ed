// The file processor's worker entry: the kernels of scan.ts behind the tasks of
// tasks.ts. Direct module imports keep the worker's start-up short.
import * as Effect from "effect/Effect"
import * as CpuWorker from "../CpuWorker.ts"
import { countFiles, countRange } from "./batch.ts"
import { count, transform, validate } from "./scan.ts"
import { Count, CountFiles, CountRange, FileError, InvalidUtf8Error, Transform, Validate } from "./tasks.ts"

CpuWorker.serve([
  CpuWorker.handler(Count, (bytes) => Effect.sync(() => count(bytes))),
  CpuWorker.handler(CountFiles, ({ paths, chunkSize }) =>
    Effect.sync(() => {
      const { figures, errors } = countFiles(paths.split("\0"), chunkSize)
      return CpuWorker.transfer({ figures: new Uint8Array(figures.buffer), errors }, [figures.buffer as ArrayBuffer])
    })
  ),
  CpuWorker.handler(CountRange, ({ path, start, end, chunkSize }) => {
    try {
      return Effect.succeed(countRange(path, start, end, chunkSize))
    } catch (e) {
      const error = e as { code?: unknown; message?: unknown }
      const code = typeof error?.code === "string" ? error.code : "ERROR"
      const message = typeof error?.message === "string" ? error.message : String(e)
      return Effect.fail(
        new FileError({
          path,
          code,
          reason: message.startsWith(`${code}: `) ? message.slice(code.length + 2) : message
        })
      )
    }
  }),
  CpuWorker.handler(Validate, ({ bytes, maxLineLength }) => Effect.sync(() => validate(bytes, maxLineLength))),
  CpuWorker.handler(Transform, ({ bytes, op }) =>
    Effect.suspend(() => {
      const out = transform(bytes, op)
      return out instanceof Uint8Array
        ? Effect.succeed(CpuWorker.transfer(out, [out.buffer as ArrayBuffer]))
        : Effect.fail(new InvalidUtf8Error({ offset: out.invalidAt }))
    })
  )
])
