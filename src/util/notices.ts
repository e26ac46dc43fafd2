/**
 * Notices for the person running devenv from code below the CLI (the runtime telling why it
 * restarted a supervisor). The CLI decides where they go: stderr for people, the `warnings` of
 * the --json envelope for scripts.
 */
let sink: (message: string) => void = (message) => process.stderr.write(`devenv: ${message}\n`)

export function notice(message: string): void {
  sink(message)
}

export function setNoticeSink(next: (message: string) => void): void {
  sink = next
}
