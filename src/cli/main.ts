import { flush, handle, run as runOclif } from '@oclif/core'

/** Entry point of bin/devenv. Errors inside commands are rendered by BaseCommand.catch. */
export async function run(argv: string[], binUrl: string): Promise<void> {
  try {
    await runOclif(argv, binUrl)
    await flush()
  } catch (error) {
    await handle(error as Error)
  }
}
