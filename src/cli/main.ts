import { flush, handle, run as runOclif } from '@oclif/core'

/** Entry point of bin/devenv. Errors inside commands are rendered by BaseCommand.catch. */
export async function run(argv: string[], binUrl: string): Promise<void> {
  try {
    await runOclif(takeLeadingFile(argv), binUrl)
    await flush()
  } catch (error) {
    await handle(error as Error)
  }
}

/**
 * `devenv -f PATH <command> ...`, as `docker compose -f PATH <command>`: a -f/--file before the
 * command names the envfile for whatever command follows (even `logs`, whose own -f follows).
 */
export function takeLeadingFile(argv: string[]): string[] {
  const [first, second] = argv
  if ((first === '-f' || first === '--file') && second !== undefined) {
    process.env.DEVENV_FILE = second
    return takeLeadingFile(argv.slice(2))
  }
  const inline = first?.match(/^(?:--file=|-f=?)(.+)$/)
  if (inline) {
    process.env.DEVENV_FILE = inline[1]
    return takeLeadingFile(argv.slice(1))
  }
  return argv
}
