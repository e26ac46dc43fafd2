/**
 * Where a command's words go, the same whether oclif runs it or the direct route does: `log` to
 * stdout for people (nothing with --json), `note` and `warning` to stderr (a warning joins the
 * --json envelope's `warnings` instead).
 */
export interface CommandOutput {
  readonly json: boolean
  log(text: string): void
  note(text: string): void
  warning(text: string): void
}
