import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { freePort, waitFor } from '../support/net.js'

/** Debian's docker-registry, started for one test file on 127.0.0.1 with its own storage folder. */
export interface LocalRegistry {
  host: string
  storage: string
  stop(): Promise<void>
}

/** The Debian tools the image tests build and serve images with (.ci/run installs them). */
export const HAVE_IMAGE_TOOLS = ['docker-registry', 'umoci', 'skopeo', 'busybox'].every((tool) =>
  ['/usr/bin', '/bin', '/usr/sbin'].some((folder) => existsSync(path.join(folder, tool))),
)

export async function startRegistry(extraConfig = ''): Promise<LocalRegistry> {
  const folder = mkdtempSync(path.join(tmpdir(), 'devenv-registry-'))
  const storage = path.join(folder, 'storage')
  const port = await freePort()
  const config = path.join(folder, 'config.yml')
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${storage}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      extraConfig,
    ].join('\n'),
  )
  const child: ChildProcess = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] })
  let errors = ''
  child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()))
  const host = `127.0.0.1:${port}`
  await waitFor('the local registry', async () => {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${errors}`)
    const response = await fetch(`http://${host}/v2/`).catch(() => undefined)
    return response && (response.status === 200 || response.status === 401) ? true : undefined
  })
  return {
    host,
    storage,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        await new Promise((resolve) => child.once('exit', resolve))
      }
      rmSync(folder, { recursive: true, force: true })
    },
  }
}
