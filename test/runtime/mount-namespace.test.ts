import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { inMountNamespace } from '../../src/runtime/bundled/mount-namespace.js'

const asRoot = process.getuid?.() === 0 && process.platform === 'linux'

describe.skipIf(!asRoot)('a service mount namespace (root on Linux)', () => {
  // Spaces and a backslash: the fstab the namespace is built from must carry them escaped.
  const base = mkdtempSync(path.join(tmpdir(), 'devenv mount ns\\'))
  afterAll(() => rmSync(base, { recursive: true, force: true }))

  it('binds each mount at its target, read-only where asked, whatever the paths hold, and keeps the host visible', () => {
    const source = path.join(base, 'my app')
    mkdirSync(source)
    writeFileSync(path.join(source, 'hello.txt'), 'hello')
    const launch = inMountNamespace(
      {
        command: '/bin/sh',
        args: [
          '-c',
          'cat /app/hello.txt; echo; cat /docs/hello.txt; echo; (echo x > /docs/new) 2>/dev/null && echo writable || echo read-only; pwd; test -d /proc/self && echo proc; (echo x > /at-the-root) 2>/dev/null && echo root-writable || echo root-read-only',
        ],
        env: {},
        cwd: source,
      },
      [
        { source, target: '/app', readonly: false, watch: { kind: 'none' }, ignore: [] },
        { source, target: '/docs', readonly: true, watch: { kind: 'none' }, ignore: [] },
      ],
      path.join(base, 'root'),
    )
    expect(launch).toBeDefined()
    const result = spawnSync(launch!.command, launch!.args, { encoding: 'utf8' })
    expect(result.stderr).toBe('')
    expect(result.stdout.split('\n')).toEqual(['hello', 'hello', 'read-only', '/app', 'proc', 'root-read-only', ''])
    expect(result.status).toBe(0)
    // The root's skeleton, seen from the host: the host's links, and nothing bound onto its folders.
    const skeleton = path.join(base, 'root')
    expect(readdirSync(path.join(skeleton, 'etc'))).toEqual([])
    expect(readdirSync(path.join(skeleton, 'app'))).toEqual([])
    for (const entry of readdirSync('/', { withFileTypes: true }).filter((entry) => entry.isSymbolicLink()))
      expect(readlinkSync(path.join(skeleton, entry.name))).toBe(readlinkSync(path.join('/', entry.name)))
    // A second start finds the skeleton made and works the same.
    const again = spawnSync(launch!.command, launch!.args, { encoding: 'utf8' })
    expect(again.stdout).toBe(result.stdout)
  })
})
