import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { afterAll, describe, expect, it } from 'vitest'
import { BIN, STACK_LINE } from '../cli/run-cli.js'

const NOBODY = 65534
const folders: string[] = []

/** A project and a DEVENV_HOME that `nobody` owns, and the CLI run as nobody, as on a laptop. */
async function upAsNobody(yaml: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const base = mkdtempSync(path.join(tmpdir(), 'devenv-image-nonroot-'))
  folders.push(base)
  const root = path.join(base, 'project')
  const home = path.join(base, 'home')
  await execa('mkdir', ['-p', root, home])
  writeFileSync(path.join(root, 'devenv.yaml'), yaml)
  for (const folder of [base, root, home, path.join(root, 'devenv.yaml')]) chownSync(folder, NOBODY, NOBODY)
  const result = await execa(
    'setpriv',
    [
      '--reuid',
      String(NOBODY),
      '--regid',
      String(NOBODY),
      '--clear-groups',
      'env',
      `HOME=${home}`,
      `DEVENV_HOME=${home}`,
      `PATH=${process.env.PATH}`,
      BIN,
      'up',
      '--no-hosts',
    ],
    { cwd: root, reject: false, timeout: 60_000 },
  )
  await execa(
    'setpriv',
    [
      '--reuid',
      String(NOBODY),
      '--regid',
      String(NOBODY),
      '--clear-groups',
      'env',
      `HOME=${home}`,
      `DEVENV_HOME=${home}`,
      BIN,
      'down',
      '--no-hosts',
    ],
    { cwd: root, reject: false },
  )
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr }
}

describe.skipIf(process.getuid?.() !== 0 || process.platform !== 'linux')(
  'without root, what cannot work is refused with the reason',
  () => {
    afterAll(() => {
      for (const folder of folders) rmSync(folder, { recursive: true, force: true })
    })

    it('an image service: it needs root on the bundled runtime, and nothing is pulled', async () => {
      const up = await upAsNobody('name: rootless\nservices:\n  web:\n    image: 127.0.0.1:1/tools/web:1\n')
      expect(up.exitCode).toBe(1)
      expect(up.stderr).toContain('service web: image services need root on the bundled runtime')
      expect(up.stderr).not.toMatch(STACK_LINE)
      expect(up.stderr).not.toContain('cannot reach registry')
    })

    it('resources: it needs root to make cgroups', async () => {
      const up = await upAsNobody(
        'name: rootlimits\nservices:\n  web:\n    command: sleep 100\n    resources: { memory: 64m }\n',
      )
      expect(up.exitCode).toBe(1)
      expect(up.stderr).toContain('service web: resources: needs root to make cgroups')
    })
  },
)
