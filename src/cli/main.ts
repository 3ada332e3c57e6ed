/**
 * `effect-futures files [dir] [options]`: the concurrent file processor.
 *
 * Without a directory it runs on the embedded sample corpus (see corpus.ts).
 * Exit codes: 0 all good, 1 some files failed (or, with `--mode validate`,
 * have findings), 2 bad usage (one line on stderr, nothing on stdout), 130
 * interrupted (Ctrl-C: outstanding work is cancelled and the partial summary
 * printed). The process entry is bin.ts, which checks the Node.js version
 * and the optional peer `@effect/platform-node` before loading this module.
 *
 * @internal
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import * as Schema from "effect/Schema"
import { Argument, CliError, CliOutput, Command, Flag } from "effect/cli"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import * as CpuExecutor from "../CpuExecutor.ts"
import * as IoExecutor from "../IoExecutor.ts"
import * as corpus from "./corpus.ts"
import * as Files from "./files.ts"
import * as Report from "./report.ts"
import * as Runner from "./runner.ts"

/** Bad usage: the message names the option; exit code 2. */
export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", { message: Schema.String }) {}

const parseDuration = (option: string, input: string): Effect.Effect<Duration.Duration, UsageError> => {
  const short = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/.exec(input.trim())
  const duration = short
    ? Option.some(
        Duration.millis(
          Number(short[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[short[2] as "ms" | "s" | "m" | "h"]
        )
      )
    : Duration.fromInput(input as Duration.Input)
  return Option.isSome(duration) && Duration.isPositive(duration.value) && Duration.isFinite(duration.value)
    ? Effect.succeed(duration.value)
    : Effect.fail(
        new UsageError({
          message: `--${option}: expected a positive duration such as 2s, 500ms or "1 minute", got "${input}"`
        })
      )
}

/** The smallest value of each integer option. */
const minimums: Record<string, number> = {
  workers: 1,
  "io-workers": 1,
  retries: 0,
  "max-line-length": 1,
  "chunk-size": 64
}

const expectedInteger = (option: string) => `expected an integer ≥ ${minimums[option] ?? 0}`

const atLeast = (option: string, value: number) =>
  Number.isInteger(value) && value >= (minimums[option] ?? 0)
    ? Effect.void
    : Effect.fail(new UsageError({ message: `--${option}: ${expectedInteger(option)}, got "${value}"` }))

/** Flags that mean something in one mode only: given in another, they are an error rather than ignored. */
const onlyIn: ReadonlyArray<readonly [flag: string, mode: Files.Mode, given: (flags: Flags) => boolean]> = [
  ["--op", "transform", (f) => Option.isSome(f.op)],
  ["--out", "transform", (f) => Option.isSome(f.out)],
  ["--force", "transform", (f) => f.force],
  ["--max-line-length", "validate", (f) => Option.isSome(f.maxLineLength)]
]

/**
 * The extensions of `--ext`: a comma-separated list, each with or without its
 * leading dot, matched against the end of a file's name (`tar.gz` takes
 * `a.tar.gz`), ignoring case unless `--ext-case-sensitive`.
 */
export const parseExt = (input: string): Effect.Effect<ReadonlyArray<string>, UsageError> => {
  const exts = input
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e.length > 0)
    .map((e) => (e.startsWith(".") ? e : `.${e}`))
  return exts.length === 0 || exts.some((e) => e === "." || e.includes("/"))
    ? Effect.fail(new UsageError({ message: `--ext: expected extensions such as txt,md or .txt, got "${input}"` }))
    : Effect.succeed(exts)
}

/** The worker entry next to this module, as .ts from source or .js from dist/. */
const workerUrl = new URL(`./worker${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url)

/** The young generation of each worker's heap, in MB (see `resourceLimits` below). */
const workerYoungGenerationMb = 4

const write = (stream: NodeJS.WriteStream, text: string) => Effect.sync(() => void stream.write(text))

/**
 * Writes pieces one after another, waiting for the stream to drain when it
 * says so: a pipe read slowly never holds the whole output in memory. A
 * reader that goes away (`| head`) ends the writing, not the process.
 */
const writePieces = (stream: NodeJS.WriteStream, pieces: Iterable<string>, end: string) => {
  let failed = false
  const onError = () => {
    failed = true
  }
  return Effect.gen(function* () {
    stream.on("error", onError)
    for (const piece of pieces) {
      if (failed || stream.destroyed) return
      if (!stream.write(piece)) yield* drained(stream)
    }
    if (!failed && !stream.destroyed) stream.write(end)
  }).pipe(Effect.ensuring(Effect.sync(() => void stream.off("error", onError))))
}

/** Waits for a stream to drain, or to fail or close (a reader gone: nothing more to wait for). */
const drained = (stream: NodeJS.WriteStream) =>
  Effect.callback<void>((resume) => {
    const done = () => {
      stream.off("drain", done).off("error", done).off("close", done)
      resume(Effect.void)
    }
    stream.on("drain", done).on("error", done).on("close", done)
    return Effect.sync(() => void stream.off("drain", done).off("error", done).off("close", done))
  })

/** Draws progress on stderr until interrupted: a bar on a terminal, a plain line a second otherwise. */
const showProgress = (report: Files.Report, mode: "bar" | "lines") =>
  Effect.gen(function* () {
    const width = Math.max(10, Math.min(30, (process.stderr.columns ?? 100) - 80))
    for (;;) {
      yield* Effect.sleep(mode === "bar" ? "100 millis" : "1 second")
      const now = yield* Clock.currentTimeMillis
      yield* mode === "bar"
        ? write(process.stderr, `\r\x1b[2K${Report.progressLine(report, now, width)}`)
        : write(process.stderr, `progress: ${Report.progressLine(report, now)}\n`)
    }
  }).pipe(Effect.onInterrupt(() => (mode === "bar" ? write(process.stderr, "\r\x1b[2K") : Effect.void)))

interface Flags {
  readonly dir: Option.Option<string>
  readonly mode: Files.Mode
  readonly op: Option.Option<(typeof Files.ops)[number]>
  readonly out: Option.Option<string>
  readonly force: boolean
  readonly ext: Option.Option<string>
  readonly extCaseSensitive: boolean
  readonly workers: number
  readonly ioWorkers: number
  readonly timeout: Option.Option<string>
  readonly retries: number
  readonly json: boolean
  readonly report: Option.Option<string>
  readonly maxLineLength: Option.Option<number>
  readonly chunkSize: number
  readonly progress: "auto" | "bar" | "lines" | "none"
}

/** Runs the processor with parsed flags; returns the exit code. */
export const files = (flags: Flags) =>
  Effect.gen(function* () {
    for (const [flag, mode, given] of onlyIn)
      if (given(flags) && flags.mode !== mode)
        return yield* new UsageError({ message: `${flag}: only meaningful with --mode ${mode}` })
    if (flags.extCaseSensitive && Option.isNone(flags.ext))
      return yield* new UsageError({ message: "--ext-case-sensitive: only meaningful with --ext" })
    const maxLineLength = Option.getOrElse(flags.maxLineLength, () => 120)
    yield* atLeast("workers", flags.workers)
    yield* atLeast("io-workers", flags.ioWorkers)
    yield* atLeast("retries", flags.retries)
    yield* atLeast("max-line-length", maxLineLength)
    yield* atLeast("chunk-size", flags.chunkSize)
    const demo = Option.isNone(flags.dir)
    const timeout = yield* parseDuration(
      "timeout",
      Option.getOrElse(flags.timeout, () => (demo ? "2s" : "30s"))
    )
    const dir = demo ? yield* corpus.scoped : path.resolve(flags.dir.value)
    const stat = yield* Effect.promise(() => fs.stat(dir).catch(() => undefined))
    if (stat === undefined || !stat.isDirectory())
      return yield* new UsageError({ message: `not a directory: ${flags.dir.pipe(Option.getOrElse(() => dir))}` })
    const out = Option.getOrUndefined(flags.out)
    if (flags.mode === "transform") {
      if (out === undefined) return yield* new UsageError({ message: "--out <dir> is required with --mode transform" })
      if (path.resolve(out) === dir)
        return yield* new UsageError({ message: "--out must not be the input directory: inputs are never overwritten" })
      // an existing output tree is not written into (and its files replaced) unless asked to
      const existing = yield* Effect.promise(() =>
        fs.readdir(out).then(
          (entries): string | undefined => (entries.length > 0 ? "full" : undefined),
          (e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? undefined : e.code === "ENOTDIR" ? "file" : e.message)
        )
      )
      if (existing === "file") return yield* new UsageError({ message: `--out: ${out} is a file, not a directory` })
      if (existing === "full" && !flags.force)
        return yield* new UsageError({
          message: `--out: ${out} already exists and is not empty; pass --force to write into it`
        })
      if (existing !== undefined && existing !== "full")
        return yield* new UsageError({ message: `--out: ${out}: ${existing}` })
    }
    const ext = Option.isSome(flags.ext) ? yield* parseExt(flags.ext.value) : undefined

    const options: Files.RunOptions = {
      dir,
      mode: flags.mode,
      op: Option.getOrElse(flags.op, () => "upper" as const),
      out,
      ext,
      extCaseSensitive: flags.extCaseSensitive,
      timeout,
      retries: flags.retries,
      maxLineLength,
      chunkSize: flags.chunkSize,
      maxLineBytes: 64 << 20,
      ioWorkers: flags.ioWorkers
    }
    const report = Files.makeReport(flags.mode, demo ? "(embedded sample corpus)" : dir, yield* Clock.currentTimeMillis)
    if (demo && !flags.json)
      yield* write(
        process.stdout,
        "No directory given: processing the embedded sample corpus, a few hundred generated files that include\n" +
          "invalid UTF-8, a broken link and a pipe that never ends (to show errors and a timeout).\n" +
          "Try also: npm start -- <dir> [--mode analyze|transform|validate] [--help]\n\n"
      )
    const progress = flags.progress === "auto" ? (process.stderr.isTTY ? "bar" : "lines") : flags.progress
    const clock = yield* Clock.Clock
    const now = () => clock.currentTimeMillisUnsafe()
    const finish = Effect.gen(function* () {
      report.endedAt = yield* Clock.currentTimeMillis
      yield* flags.json
        ? writePieces(process.stdout, Report.jsonPieces(report), "\n")
        : write(process.stdout, `${Report.summary(report)}\n`)
      if (Option.isSome(flags.report)) {
        const file = flags.report.value
        yield* Effect.promise(() => fs.writeFile(file, Report.markdown(report)))
        if (!flags.json) yield* write(process.stdout, `Report written to ${file}\n`)
      }
    })
    const executors = Layer.mergeAll(
      IoExecutor.layer({ maxWorkers: flags.ioWorkers, name: "files-io" }),
      CpuExecutor.layer({
        worker: workerUrl,
        maxWorkers: flags.workers,
        minWorkers: flags.workers,
        name: "files-cpu",
        // a worker keeps nothing between tasks but its buffer and tables (and a chunk it is
        // sent is an ArrayBuffer, outside the V8 heap): a young generation of V8's default
        // size (up to 64 MB per semi-space here) only costs resident memory
        resourceLimits: { maxYoungGenerationSizeMb: workerYoungGenerationMb }
      })
    )
    const work = Files.run(options, report, now).pipe(Effect.provide(executors))
    const exit = yield* (
      progress === "none"
        ? work
        : Effect.scoped(Effect.andThen(Effect.forkScoped(showProgress(report, progress)), work))
    ).pipe(
      Effect.onInterrupt(() => finish),
      Effect.exit
    )
    if (Exit.isFailure(exit)) return yield* Effect.failCause(exit.cause)
    yield* finish
    if (demo && !flags.json && Files.exitCode(report) !== Files.exitCode(report, corpus.deliberate))
      yield* write(
        process.stdout,
        "The failures above are the sample corpus's deliberate ones, so the exit code is 0 (on a directory of yours, 1).\n"
      )
    return Files.exitCode(report, demo ? corpus.deliberate : undefined)
  }).pipe(Effect.scoped)

const cores = os.availableParallelism()

const filesCommand = Command.make(
  "files",
  {
    dir: Argument.String("dir").pipe(
      Argument.withDescription("The directory to process (recursive). Default: the embedded sample corpus."),
      Argument.optional
    ),
    mode: Flag.Literals("mode", Files.modes).pipe(
      Flag.withDescription(
        "analyze: counts like wc -lwcm; transform: --op into --out; validate: UTF-8, BOM, line endings, long lines, trailing whitespace"
      ),
      Flag.withDefault("analyze" as const)
    ),
    op: Flag.Literals("op", Files.ops).pipe(
      Flag.withDescription("transform: the transform (default upper)"),
      Flag.optional
    ),
    out: Flag.String("out").pipe(
      Flag.withDescription("transform: the output directory (the tree is kept); it must not exist or be empty"),
      Flag.optional
    ),
    force: Flag.Boolean("force").pipe(
      Flag.withDescription("transform: write into an --out directory that is not empty (overwriting same-named files)"),
      Flag.withDefault(false)
    ),
    ext: Flag.String("ext").pipe(
      Flag.withDescription(
        "Only files whose name ends with one of these extensions, e.g. txt,md or .txt (case-insensitive)"
      ),
      Flag.optional
    ),
    extCaseSensitive: Flag.Boolean("ext-case-sensitive").pipe(
      Flag.withDescription("Match --ext with case (TXT no longer takes a.txt)"),
      Flag.withDefault(false)
    ),
    workers: Flag.Int("workers").pipe(Flag.withDescription("CPU worker threads"), Flag.withDefault(cores)),
    ioWorkers: Flag.Int("io-workers").pipe(Flag.withDescription("Files read at once"), Flag.withDefault(8)),
    timeout: Flag.String("timeout").pipe(
      Flag.withDescription("Per-file time limit, e.g. 2s, 500ms (default 30s; 2s on the sample corpus)"),
      Flag.optional
    ),
    retries: Flag.Int("retries").pipe(
      Flag.withDescription("Retries of a file that failed to read, with exponential backoff"),
      Flag.withDefault(2)
    ),
    json: Flag.Boolean("json").pipe(
      Flag.withDescription("Print the report as JSON on stdout"),
      Flag.withDefault(false)
    ),
    report: Flag.String("report").pipe(
      Flag.withDescription("Also write a Markdown report to this file"),
      Flag.optional
    ),
    maxLineLength: Flag.Int("max-line-length").pipe(
      Flag.withDescription("validate: longest line allowed, in characters (default 120)"),
      Flag.optional
    ),
    chunkSize: Flag.Int("chunk-size").pipe(
      Flag.withDescription("Bytes a worker reads and counts at a time, or is sent per message (validate, transform)"),
      Flag.withDefault(1 << 20)
    ),
    progress: Flag.Literals("progress", ["auto", "bar", "lines", "none"]).pipe(
      Flag.withDescription("Progress on stderr: a bar on a terminal, lines otherwise (auto)"),
      Flag.withDefault("auto" as const)
    )
  },
  (flags) => Effect.flatMap(files(flags), (code) => Effect.sync(() => (exitCode = code)))
).pipe(Command.withDescription("Analyze, transform or validate every file of a directory, concurrently"))

let exitCode = 0

/** The `effect-futures` command: `files` (the file processor) and `runner` (a cluster runner). */
export const cli = Command.make("effect-futures").pipe(
  Command.withDescription("Python's concurrent.futures for Effect: demos and tools"),
  Command.withSubcommands([filesCommand, Runner.runnerCommand])
)

/**
 * One line for an argument error of the parser, in the command's own style
 * (`--workers: expected an integer ≥ 1, got "abc"`).
 */
export const describeCliError = (error: CliError.CliError): string => {
  switch (error._tag) {
    case "InvalidValue": {
      if (error.kind === "argument") return `<${error.option}>: expected ${lower(error.expected)}, got "${error.value}"`
      const expected = error.option in minimums ? expectedInteger(error.option) : `expected ${lower(error.expected)}`
      return error.value.length === 0
        ? `--${error.option}: missing value, ${expected}`
        : `--${error.option}: ${expected}, got "${error.value}"`
    }
    case "UnrecognizedOption":
      return (
        `unknown option ${error.option}` +
        (error.suggestions.length > 0 ? ` (did you mean ${error.suggestions.join(" or ")}?)` : "")
      )
    case "UnknownSubcommand":
      return (
        `unknown command "${error.subcommand}"` +
        (error.suggestions.length > 0 ? ` (did you mean ${error.suggestions.join(" or ")}?)` : "")
      )
    case "MissingOption":
      return `missing required option --${error.option}`
    case "MissingArgument":
      return `missing argument <${error.argument}>`
    case "UnexpectedArgument":
      return `unexpected argument${error.arguments.length === 1 ? "" : "s"} ${error.arguments.map((a) => JSON.stringify(a)).join(", ")}`
    default:
      return error.message.split("\n")[0]
  }
}

const lower = (expected: string) => {
  const text = expected.replace(/^Expected:?\s*/i, "").replace(/\.$/, "")
  // a choice, as effect/cli spells it: "a" | "b" | "c"
  if (/^"[^"]*"( \| "[^"]*")+$/.test(text)) return `one of ${text.replaceAll('"', "").split(" | ").join(", ")}`
  return text.charAt(0).toLowerCase() + text.slice(1)
}

/**
 * The parser's help and version output as effect/cli presents them, but an
 * invalid invocation prints nothing here: `main` reports it as one line on
 * stderr (the full help on stdout would corrupt `--json` output).
 */
const presenter = CliOutput.layerPresenter({
  present: (event) => (event._tag === "InvalidInvocation" ? Effect.void : CliOutput.defaultPresenter.present(event))
})

/** Runs the command line `args` (without the node and script paths); resolves to the exit code. */
export const main = (args: ReadonlyArray<string>) =>
  Command.runWith(cli, { version: "0.1.0" })(args).pipe(
    Effect.as(undefined),
    Effect.catch((e) => {
      if (e instanceof UsageError) return usage(e.message, args)
      if (CliError.isCliError(e) && e._tag === "ShowHelp")
        return e.errors.length > 0 ? usage(describeCliError(e.errors[0]), args) : Effect.succeed(0) // the help, as asked
      return usage(CliError.isCliError(e) ? describeCliError(e) : String(e), args)
    }),
    Effect.map((code) => code ?? (Runner.state.failed ? 1 : exitCode)),
    Effect.provide([NodeServices.layer, presenter])
  )

/** Bad usage: one line on stderr naming the problem, a hint to the help, exit code 2. */
const usage = (message: string, args: ReadonlyArray<string>) =>
  write(
    process.stderr,
    `effect-futures: ${message} (see: effect-futures ${args[0] === "files" || args[0] === "runner" ? `${args[0]} ` : ""}--help)\n`
  ).pipe(Effect.as(2))

/** Runs the command line `args` as the process: exits with its code (bin.ts, the package's `bin`, calls it). */
export const runMain = (args: ReadonlyArray<string>): void =>
  NodeRuntime.runMain(main(args), {
    teardown: (exit, onExit) =>
      Exit.isSuccess(exit)
        ? onExit(exit.value as number)
        : // a runner stopped by SIGTERM/SIGINT after it served has drained: a normal end
          Runner.state.serving && Cause.hasInterruptsOnly(exit.cause)
          ? onExit(0)
          : Runtime.defaultTeardown(exit, onExit)
  })
