/**
 * The embedded sample corpus of `npm start`: a few hundred files generated
 * deterministically (a seeded generator, so every run and every machine sees
 * the same bytes) into a temporary directory that is removed afterwards.
 *
 * Besides plain text in several languages, Markdown, CSV, logs and code of
 * mixed sizes in nested folders, it holds the cases a real tree has:
 * - `broken/latin1.txt` and `broken/truncated.txt`: invalid UTF-8;
 * - `broken/missing-target.txt`: a symbolic link whose target does not exist
 *   (unreadable whoever runs it), and `broken/no-permission.txt` (mode 000:
 *   unreadable unless run as root);
 * - `slow/live-feed.log`: a named pipe that the demo keeps feeding a line every
 *   100 ms and never closes, like a log still being written, so reading it
 *   never ends and the per-file timeout stops it;
 * - files with CRLF and mixed line endings, a BOM, trailing whitespace and
 *   long lines, for `validate`.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { execFileSync } from "node:child_process"
import { constants } from "node:fs"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"

/** Whether a file of the corpus is one of those made to fail, warn or be flagged. */
export const deliberate = (file: string): boolean =>
  file.startsWith("broken/") || file.startsWith("slow/") || file.startsWith("quirks/")

/** A small, fast, seeded generator (mulberry32). */
const generator = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const vocabulary = {
  en: "the quick brown fox jumps over lazy dog executor future task worker queue pool thread fiber cancel result".split(
    " "
  ),
  fr: "le renard brun rapide saute par-dessus chien paresseux tâche résultat file d’attente été où naïve".split(" "),
  de: "der schnelle braune Fuchs springt über den faulen Hund Straße Größe Übung Ärger".split(" "),
  ja: "日本語 の テキスト を 数える 並行 処理 未来 タスク 労働者".split(" "),
  el: "γρήγορη καφέ αλεπού πηδάει πάνω από τεμπέλικο σκύλο".split(" "),
  emoji: "🚀 ✅ ❌ ⏱️ 🧵 📦 👩‍💻 🎉".split(" ")
}

/** Writes the corpus under `root`; returns the named pipe's path, if the platform has `mkfifo`. */
export const generate = async (root: string): Promise<string | undefined> => {
  const random = generator(20261122)
  const pick = <A>(xs: ReadonlyArray<A>) => xs[Math.floor(random() * xs.length)]
  const sentence = (words: ReadonlyArray<string>, n: number) =>
    Array.from({ length: n }, () => pick(words)).join(random() < 0.1 ? "  " : " ")
  const write = async (rel: string, data: string | Uint8Array) => {
    const p = path.join(root, rel)
    await fs.mkdir(path.dirname(p), { recursive: true })
    await fs.writeFile(p, data)
  }
  const languages = Object.keys(vocabulary) as Array<keyof typeof vocabulary>
  const text = (lines: number, lang = pick(languages)) =>
    Array.from({ length: lines }, () => sentence(vocabulary[lang], 3 + Math.floor(random() * 12))).join("\n") + "\n"

  for (let i = 0; i < 120; i++) {
    const lang = pick(languages)
    await write(`texts/${lang}/part-${String(i).padStart(3, "0")}.txt`, text(5 + Math.floor(random() * 400), lang))
  }
  for (let i = 0; i < 60; i++) {
    const sections = Array.from(
      { length: 2 + Math.floor(random() * 6) },
      (_, s) => `## Section ${s + 1}\n\n${text(3 + Math.floor(random() * 20))}\n- ${sentence(vocabulary.en, 5)}\n`
    )
    await write(`docs/guide-${i}/README.md`, `# Guide ${i}\n\n${sections.join("\n")}`)
  }
  for (let i = 0; i < 40; i++) {
    const rows = Array.from(
      { length: 20 + Math.floor(random() * 2000) },
      (_, r) => `${r},${pick(vocabulary.en)},${(random() * 1000).toFixed(2)},${pick(vocabulary.fr)}`
    )
    await write(`data/${2020 + (i % 6)}/table-${i}.csv`, `id,name,value,label\n${rows.join("\n")}\n`)
  }
  for (let i = 0; i < 40; i++) {
    const lines = Array.from(
      { length: 50 + Math.floor(random() * 3000) },
      (_, l) =>
        `2026-11-22T06:${String(l % 60).padStart(2, "0")}:00Z ${pick(["INFO", "WARN", "ERROR"])} ${sentence(vocabulary.en, 6)}`
    )
    await write(`logs/app-${i}.log`, lines.join("\n") + "\n")
  }
  for (let i = 0; i < 30; i++) {
    const body = Array.from(
      { length: 10 + Math.floor(random() * 200) },
      (_, l) => `  const ${pick(vocabulary.en)}${l} = ${Math.floor(random() * 100)} // ${pick(vocabulary.de)}`
    )
    await write(`code/src/module${i}.ts`, `export function f${i}() {\n${body.join("\n")}\n}\n`)
  }
  // a few large files (1-3 MB): several chunks each
  for (let i = 0; i < 3; i++) await write(`big/corpus-${i}.txt`, text(12_000 * (i + 1)))

  // what validate flags
  await write("quirks/crlf.txt", text(40).replaceAll("\n", "\r\n"))
  await write("quirks/mixed-endings.txt", "one\r\ntwo\nthree\rfour\n")
  await write("quirks/bom.md", "\uFEFF# Title with a byte-order mark\n\nBody.\n")
  await write("quirks/trailing-space.txt", "clean line\ntrailing space \ntrailing tab\t\nclean\n")
  await write("quirks/long-lines.txt", `${sentence(vocabulary.en, 80)}\nshort\n`)
  // what fails or warns
  await write(
    "broken/latin1.txt",
    Uint8Array.from([...Buffer.from("caf"), 0xe9, 0x20, ...Buffer.from("cr"), 0xe8, 0x6d, 0x65, 0x0a])
  )
  await write("broken/truncated.txt", Uint8Array.from([...Buffer.from("ok 日本"), 0xe8, 0xaa]))
  await fs.symlink("does-not-exist.txt", path.join(root, "broken/missing-target.txt"))
  await write("broken/no-permission.txt", "secret\n")
  await fs.chmod(path.join(root, "broken/no-permission.txt"), 0o000)
  try {
    const fifo = path.join(root, "slow/live-feed.log")
    await fs.mkdir(path.dirname(fifo), { recursive: true })
    execFileSync("mkfifo", [fifo])
    return fifo
  } catch {
    return undefined
  }
}

/**
 * The corpus in a temporary directory for the scope's lifetime, with its
 * named pipe fed a line every 100 ms (by a fiber of the scope) and never
 * closed until the scope ends.
 */
export const scoped: Effect.Effect<string, never, Scope.Scope> = Effect.gen(function* () {
  const root = yield* Effect.acquireRelease(
    Effect.promise(() => fs.mkdtemp(path.join(os.tmpdir(), "effect-futures-corpus-"))),
    (root) => Effect.promise(() => fs.rm(root, { recursive: true, force: true }))
  )
  const fifo = yield* Effect.promise(() => generate(root))
  if (fifo !== undefined) {
    // read-write: opening never blocks, and the pipe has a writer for as long as the scope lives
    const handle = yield* Effect.acquireRelease(
      Effect.promise(() => fs.open(fifo, constants.O_RDWR | constants.O_NONBLOCK)),
      (h) => Effect.promise(() => h.close())
    )
    let n = 0
    yield* Effect.promise(() => handle.write(`feed line ${n++}\n`).catch(() => undefined)).pipe(
      Effect.andThen(Effect.sleep("100 millis")),
      Effect.forever,
      Effect.forkScoped
    )
  }
  return root
})
