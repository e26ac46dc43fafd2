import { DevenvError } from '../errors.js'
import { parseChecksums, type Checksums } from './lockfile.js'

const TIMEOUT_MS = Number(process.env.DEVENV_MANIFEST_TIMEOUT_MS) || 10_000

/** Expected checksums kept outside the repository: a URL serving devenv.lock's format. */
export async function fetchManifest(url: string): Promise<Checksums> {
  let text: string
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'follow' })
    if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`)
    text = await response.text()
  } catch (error) {
    const reason =
      (error as Error).name === 'TimeoutError' ? `no answer within ${TIMEOUT_MS / 1000} s` : describe(error)
    throw new DevenvError('INTEGRITY', `cannot fetch the integrity manifest ${url}: ${reason}`, {
      hint: 'Check the URL in integrity.manifest of devenv.yaml and that the server is reachable; nothing was started.',
      cause: error,
    })
  }
  return parseChecksums(text, url)
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`
  return cause?.message ?? (error as Error).message
}
