import { execa } from 'execa'

/**
 * Why the docker suites cannot run here, or undefined when an engine answers. CI installs docker.io
 * and starts dockerd; on a machine without an engine each suite says so in one line and is skipped.
 */
export async function dockerUnavailable(): Promise<string | undefined> {
  try {
    await execa('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 10_000 })
    return undefined
  } catch (error) {
    const text = (error as { stderr?: string; message: string }).stderr || (error as Error).message
    return `no Docker engine answers (${text.trim().split('\n')[0]}); start one with \`dockerd &\` to run this suite`
  }
}
