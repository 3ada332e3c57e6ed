// The corpora of `npm run bench:files`, generated from a seed so that every run and every
// machine sees the same bytes.
//
// - big: one file of half the size and 200 files sharing the rest (the original corpus);
// - small: "many small files", shaped like a real tree (a /usr/share or a source checkout):
//   tens of thousands of files in nested folders, log-normal sizes (median a few KB, a long
//   tail up to several MB), mostly UTF-8 text in several languages, some binary files (which
//   count invalid bytes as wc does), empty files, symbolic links to files (followed), links to
//   folders (not followed) and hard links (counted once per path, as wc counts them).
//
// A generated corpus is kept in the system's temporary folder under a name that holds its
// parameters and a version, and reused by later runs (a marker file is written last).
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

/** Bump when the generator changes, so that a kept corpus is not reused. */
const version = 2

/** A small, fast, seeded generator (mulberry32). */
const generator = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const kept = (name: string, make: (dir: string) => void): string => {
  const dir = path.join(os.tmpdir(), `effect-futures-bench-${name}-v${version}`)
  const marker = `${dir}.complete`
  if (fs.existsSync(marker)) return dir
  fs.rmSync(marker, { force: true })
  fs.rmSync(dir, { recursive: true, force: true })
  fs.mkdirSync(dir, { recursive: true })
  make(dir)
  fs.writeFileSync(marker, "")
  return dir
}

/** The big-file corpus: `mb` MB of UTF-8 text, half in one file, the rest in 200 files. */
export const big = (mb: number): string =>
  kept(`big-${mb}mb`, (dir) => {
    const line = Buffer.from("The quick brown fox jumps over the lazy dog. Größe, naïve café: 日本語のテキスト 🚀\n")
    const fill = (bytes: number) => {
      const b = Buffer.alloc(bytes)
      for (let i = 0; i < bytes; i += line.length) line.copy(b, i)
      // end on a whole line so every file is valid UTF-8
      return b.subarray(0, bytes - (bytes % line.length))
    }
    fs.writeFileSync(path.join(dir, "big.txt"), fill((mb / 2) << 20))
    const small = fill(Math.floor(((mb / 2) << 20) / 200))
    for (let i = 0; i < 200; i++) {
      fs.mkdirSync(path.join(dir, `d${i % 10}`), { recursive: true })
      fs.writeFileSync(path.join(dir, `d${i % 10}`, `f${i}.txt`), small)
    }
  })

const vocabulary = [
  "the quick brown fox jumps over lazy dog executor future task worker queue pool thread fiber cancel result",
  "le renard brun rapide saute par-dessus chien paresseux tâche résultat file d’attente été où naïve",
  "der schnelle braune Fuchs springt über den faulen Hund Straße Größe Übung Ärger",
  "日本語 の テキスト を 数える 並行 処理 未来 タスク 労働者",
  "γρήγορη καφέ αλεπού πηδάει πάνω από τεμπέλικο σκύλο",
  "#include <stdio.h> int main(void) { return 0; } /* comment */ if else for while",
  "🚀 ✅ ❌ ⏱️ 🧵 📦 👩‍💻 🎉 naïve déjà vu"
].map((s) => s.split(" "))

const extensions = [".txt", ".md", ".html", ".json", ".py", ".ts", ".c", ".h", ".xml", ".css", ".desktop", ""]

/**
 * The many-small-files corpus: `files` files (and a few links) in nested folders.
 * Sizes are log-normal with a median of 3 KB, capped at 8 MB; 1% of files are empty
 * and 4% binary (random bytes).
 */
export const small = (files: number, seed = 20261207): string =>
  kept(`small-${files}-${seed}`, (dir) => {
    const random = generator(seed)
    const pick = <A>(xs: ReadonlyArray<A>) => xs[Math.floor(random() * xs.length)]
    // a pool of text to take files from: lines of words, 16 MB
    const lines: Array<string> = []
    let poolChars = 0
    while (poolChars < 8 << 20) {
      const words = pick(vocabulary)
      const line = Array.from({ length: 2 + Math.floor(random() * 14) }, () => pick(words)).join(
        random() < 0.1 ? "  " : " "
      )
      lines.push(random() < 0.05 ? `\t${line}\r` : line)
      poolChars += line.length + 1
    }
    const pool = Buffer.from(lines.join("\n") + "\n")
    const binary = Buffer.alloc(1 << 20)
    for (let i = 0; i < binary.length; i++) binary[i] = Math.floor(random() * 256)
    // folders: a tree of depth 1-4, about 25 files per folder
    const folders: Array<string> = [""]
    const folderCount = Math.max(1, Math.round(files / 25))
    while (folders.length < folderCount) {
      const parent = pick(folders)
      if (parent.split("/").length > 4) continue
      folders.push(
        `${parent}${parent === "" ? "" : "/"}${pick(["doc", "lib", "src", "share", "po", "icons", "man", "data"])}${folders.length}`
      )
    }
    for (const f of folders) fs.mkdirSync(path.join(dir, f), { recursive: true })
    // log-normal sizes: median 3 KB, sigma 1.6 (so about 1 file in 60 is over 100 KB)
    const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
    const written: Array<string> = []
    for (let i = 0; i < files; i++) {
      const rel = path.join(pick(folders), `file${i}${pick(extensions)}`)
      const roll = random()
      const size = roll < 0.01 ? 0 : Math.min(8 << 20, Math.round(3000 * Math.exp(1.6 * normal())))
      let data: Uint8Array
      if (size === 0) data = new Uint8Array(0)
      else if (roll > 0.96) {
        const start = Math.floor(random() * binary.length)
        data = size <= binary.length - start ? binary.subarray(start, start + size) : Buffer.alloc(size, binary)
      } else if (size <= pool.length - (1 << 20)) {
        // whole lines from a random place in the pool (a UTF-8 character is never cut)
        const from = pool.indexOf(10, Math.floor(random() * (pool.length - size - (1 << 20)))) + 1
        const to = pool.indexOf(10, from + size)
        data = pool.subarray(from, to + 1)
      } else {
        data = Buffer.alloc(size, pool)
        data = data.subarray(0, data.lastIndexOf(10) + 1)
      }
      fs.writeFileSync(path.join(dir, rel), data)
      written.push(rel)
    }
    // links: 1% symbolic links to files (relative, followed), a few to folders (not
    // followed), and 0.2% hard links
    const relLink = (from: string, to: string) => path.relative(path.dirname(path.join(dir, from)), path.join(dir, to))
    for (let i = 0; i < files / 100; i++) {
      const target = pick(written)
      const link = path.join(pick(folders), `link${i}${path.extname(target)}`)
      fs.symlinkSync(relLink(link, target), path.join(dir, link))
    }
    for (let i = 0; i < 10; i++) {
      const target = pick(folders.slice(1))
      const link = path.join(pick(folders), `dirlink${i}`)
      if (!`${link}/`.startsWith(`${target}/`)) fs.symlinkSync(relLink(link, target), path.join(dir, link))
    }
    for (let i = 0; i < files / 500; i++) {
      const target = pick(written)
      fs.linkSync(path.join(dir, target), path.join(dir, pick(folders), `hard${i}${path.extname(target)}`))
    }
  })
