import { existsSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cleanSandboxes, devenv, sandbox, STACK_LINE } from '../cli/run-cli.js'
import { pushRawImage, type RawEntry } from './raw-push.js'
import { HAVE_IMAGE_TOOLS, startRegistry, type LocalRegistry } from './registry.js'

/** Layers that try to write outside the image; each is refused before anything is written. */
const HOSTILE: Array<[what: string, layers: RawEntry[][], says: RegExp]> = [
  [
    'a ../ path',
    [
      [
        { name: 'ok', content: 'fine' },
        { name: '../../../escaped', content: 'out' },
      ],
    ],
    /climbs out/,
  ],
  ['an absolute path', [[{ name: '/escaped-absolute', content: 'out' }]], /absolute path/],
  [
    'a file written through a symbolic link',
    [
      [
        { name: 'evil', type: 'symlink', linkname: '/tmp' },
        { name: 'evil/escaped-through-link', content: 'out' },
      ],
    ],
    /through the symbolic link evil/,
  ],
  [
    'a link written in one layer and followed in the next',
    [[{ name: 'up', type: 'symlink', linkname: '../../..' }], [{ name: 'up/escaped-later', content: 'out' }]],
    /points out of the image/,
  ],
  ['a hard link out', [[{ name: 'passwd', type: 'link', linkname: '../../../../etc/passwd' }]], /climbs out/],
  [
    'a hard link to nothing of the image',
    [[{ name: 'passwd', type: 'link', linkname: 'etc/shadow' }]],
    /not a file of the image/,
  ],
]

describe.skipIf(!HAVE_IMAGE_TOOLS)('hostile layers are refused and write nothing', () => {
  let registry: LocalRegistry
  let home: string

  beforeAll(async () => {
    registry = await startRegistry()
    home = sandbox('devenv-images-hostile-')
  })

  afterAll(async () => {
    await registry?.stop()
    cleanSandboxes()
  })

  it.each(HOSTILE)('refuses %s', async (what, layers, says) => {
    const tag = what
      .replace(/[^a-z0-9]+/gi, '-')
      .replace(/^-|-$/g, '')
      .toLowerCase()
    await pushRawImage(registry.host, 'hostile/layer', tag, layers)
    const pulled = await devenv(['image', 'pull', `${registry.host}/hostile/layer:${tag}`], {
      env: { DEVENV_HOME: home },
      timeout: 30_000,
    })
    expect(pulled.exitCode).toBe(1)
    expect(pulled.stderr).toMatch(says)
    expect(pulled.stderr).toContain('refused image layer')
    expect(pulled.stderr).not.toMatch(STACK_LINE)
    // Nothing unpacked, nothing left in work/, nothing named "escaped" anywhere in the sandbox or /tmp.
    expect(readdirSync(path.join(home, 'images/rootfs'))).toEqual([])
    expect(readdirSync(path.join(home, 'images/work'))).toEqual([])
    const everywhere = (folder: string): string[] =>
      readdirSync(folder, { recursive: true, encoding: 'utf8' }).filter((name) => name.includes('escaped'))
    expect(everywhere(home)).toEqual([])
    expect(existsSync('/tmp/escaped-through-link')).toBe(false)
    expect(existsSync('/escaped-absolute')).toBe(false)
    const list = await devenv(['image', 'ls', '--json'], { env: { DEVENV_HOME: home } })
    expect((JSON.parse(list.stdout) as { result: { images: unknown[] } }).result.images).toEqual([])
  })
})
