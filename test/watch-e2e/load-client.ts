import http from 'node:http'

export interface LoadReport {
  requests: number
  /** Answers other than 200 and requests that got no answer, each with what went wrong. */
  failures: string[]
}

/**
 * A client that keeps `concurrency` keep-alive connections busy with GETs to `url` until stopped,
 * the way a browser tab and a few API callers would hit a site while its developer saves a file.
 * `onBody` sees every 200's body (to tell when a new version is live).
 */
export class LoadClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 16 })
  private running = true
  private readonly loops: Promise<void>[]
  readonly report: LoadReport = { requests: 0, failures: [] }

  constructor(
    private readonly url: string,
    private readonly onBody: (body: string, at: number) => void = () => {},
    concurrency = 4,
  ) {
    this.loops = Array.from({ length: concurrency }, () => this.loop())
  }

  async stop(): Promise<LoadReport> {
    this.running = false
    await Promise.all(this.loops)
    this.agent.destroy()
    return this.report
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const outcome = await this.once()
      this.report.requests += 1
      if (outcome.failure) this.report.failures.push(`${new Date().toISOString()} ${outcome.failure}`)
      else this.onBody(outcome.body!, performance.now())
      // A little room for the rest of the machine: ~200 requests a second over 4 loops.
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  private once(): Promise<{ body?: string; failure?: string }> {
    return new Promise((resolve) => {
      const request = http.get(this.url, { agent: this.agent, timeout: 5000 }, (response) => {
        let body = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => (body += chunk))
        response.on('end', () =>
          resolve(response.statusCode === 200 ? { body } : { failure: `${response.statusCode}: ${body.trim()}` }),
        )
        response.on('error', (error) => resolve({ failure: `response cut: ${error.message}` }))
      })
      request.on('timeout', () => request.destroy(new Error('no answer within 5 s')))
      request.on('error', (error) => resolve({ failure: `request failed: ${error.message}` }))
    })
  }
}
