/**
 * One line per notable event on stdout (the runtime keeps it in the service's log). Bursts are
 * capped, so a flood of failing requests cannot turn logging into the bottleneck.
 */
export class EventLog {
  private windowStart = 0
  private inWindow = 0
  private suppressed = 0

  constructor(
    private readonly write: (line: string) => void = (line) => process.stdout.write(line),
    private readonly perSecond = 20,
  ) {}

  info(message: string): void {
    this.write(`${new Date().toISOString()} ${message}\n`)
  }

  /** For events that can repeat per request (timeouts, backend errors). */
  event(message: string): void {
    const now = Date.now()
    if (now - this.windowStart >= 1000) {
      if (this.suppressed) this.info(`(${this.suppressed} similar lines left out)`)
      this.windowStart = now
      this.inWindow = 0
      this.suppressed = 0
    }
    if (this.inWindow >= this.perSecond) {
      this.suppressed += 1
      return
    }
    this.inWindow += 1
    this.info(message)
  }
}
