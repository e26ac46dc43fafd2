import { flush, handle, run } from '@oclif/core'

/** Every command that the direct route does not take, through oclif. */
export async function runWithOclif(argv: string[], binUrl: string): Promise<void> {
  try {
    await run(argv, binUrl)
    await flush()
  } catch (error) {
    await handle(error as Error)
  }
}
