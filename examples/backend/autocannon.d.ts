// The part of autocannon's API the load test and the smoke test use (it ships no types).
declare module "autocannon" {
  export interface Request {
    readonly method?: string
    readonly path?: string
    readonly body?: string
    readonly headers?: Record<string, string>
    readonly setupRequest?: (request: Request, context: Record<string, unknown>) => Request
    readonly onResponse?: (status: number, body: string, context: Record<string, unknown>) => void
  }
  export interface Options {
    readonly url: string
    readonly connections?: number
    readonly duration?: number
    readonly timeout?: number
    readonly overallRate?: number
    readonly ignoreCoordinatedOmission?: boolean
    readonly requests?: ReadonlyArray<Request>
  }
  export interface Histogram {
    readonly average: number
    readonly p50: number
    readonly p99: number
    readonly max: number
  }
  export interface Result {
    readonly requests: Histogram & { readonly total: number }
    readonly latency: Histogram
    readonly errors: number
    readonly timeouts: number
    readonly non2xx: number
    readonly "2xx": number
    readonly statusCodeStats: Record<string, { readonly count: number }>
    readonly duration: number
  }
  export interface Instance extends PromiseLike<Result> {
    on(event: "response", f: (client: unknown, status: number, bytes: number, ms: number) => void): this
    on(event: "reqError", f: (error: Error & { code?: string }) => void): this
    stop(): void
  }
  function autocannon(options: Options): Instance
  export default autocannon
}
