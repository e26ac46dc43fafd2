import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DevenvError } from '../../src/errors.js'
import { applyHostsBlock, readHostsBlock, removeHostsBlock, renderBlock } from '../../src/hosts/index.js'

let folder: string
let file: string
const alpha = { project: 'alpha', root: '/home/dev/alpha' }
const beta = { project: 'beta', root: '/home/dev/beta (copy)' }
const alphaEntries = [
  { address: '127.64.1.2', hostnames: ['www.alpha.test', 'lb.alpha.test'] },
  { address: '127.64.1.3', hostnames: ['psql.alpha.test'] },
]
const betaEntries = [{ address: '127.64.2.2', hostnames: ['www.beta.test'] }]

beforeEach(() => {
  folder = mkdtempSync(path.join(os.tmpdir(), 'devenv-hosts-'))
  file = path.join(folder, 'hosts')
})
afterEach(() => rmSync(folder, { recursive: true, force: true }))

const originals: Record<string, Buffer> = {
  'LF with a final newline': Buffer.from(
    '127.0.0.1\tlocalhost\n\n# keep   this   spacing\n::1 localhost ip6-localhost\n',
  ),
  'CRLF line endings': Buffer.from('127.0.0.1 localhost\r\n# Windows style\r\n\r\n10.0.0.1   intranet\r\n'),
  'no final newline': Buffer.from('127.0.0.1 localhost\n10.0.0.1 intranet'),
  'CRLF without final newline': Buffer.from('127.0.0.1 localhost\r\n10.0.0.1 intranet'),
  'an empty file': Buffer.alloc(0),
  'bytes that are not UTF-8': Buffer.concat([
    Buffer.from('# caf'),
    Buffer.from([0xe9, 0xff, 0xfe]),
    Buffer.from('\n127.0.0.1 localhost\n'),
  ]),
}

describe('hosts block', () => {
  for (const [name, original] of Object.entries(originals)) {
    it(`is added and removed leaving ${name} byte-identical`, async () => {
      writeFileSync(file, original)
      const applied = await applyHostsBlock(alpha, alphaEntries, { file, sudo: false })
      expect(applied).toMatchObject({ applied: true, changed: true, method: 'rename' })
      const withBlock = readFileSync(file)
      expect(withBlock.subarray(0, original.length).equals(original)).toBe(true)
      expect(readHostsBlock(alpha, { file })?.entries).toEqual(alphaEntries)
      const crlf = original.includes('\r\n')
      const added = withBlock.subarray(original.length).toString('latin1')
      // the block uses the file's own line ending, and only that one
      expect(added.includes('\r\n')).toBe(crlf)
      if (crlf) expect(added.replace(/\r\n/g, '')).not.toContain('\n')

      const removed = await removeHostsBlock(alpha, { file, sudo: false })
      expect(removed).toMatchObject({ applied: true, changed: true })
      expect(readFileSync(file).equals(original)).toBe(true)
    })
  }

  it("leaves other projects' blocks alone, in any order of removal", async () => {
    const original = originals['no final newline']!
    writeFileSync(file, original)
    await applyHostsBlock(alpha, alphaEntries, { file })
    const afterAlpha = readFileSync(file)
    await applyHostsBlock(beta, betaEntries, { file })
    expect(readHostsBlock(alpha, { file })?.entries).toEqual(alphaEntries)
    expect(readHostsBlock(beta, { file })?.entries).toEqual(betaEntries)
    await removeHostsBlock(beta, { file })
    expect(readFileSync(file).equals(afterAlpha)).toBe(true)
    await applyHostsBlock(beta, betaEntries, { file })
    await removeHostsBlock(alpha, { file })
    expect(readHostsBlock(alpha, { file })).toBeUndefined()
    expect(readHostsBlock(beta, { file })?.entries).toEqual(betaEntries)
    await removeHostsBlock(beta, { file })
    expect(readFileSync(file).equals(original)).toBe(true)
  })

  it('replaces its block where it stands, keeping the lines after it', async () => {
    writeFileSync(file, 'top\n')
    await applyHostsBlock(alpha, alphaEntries, { file })
    writeFileSync(file, `${readFileSync(file, 'utf8')}# added by a person after the block\n`)
    const moved = [{ address: '127.64.1.9', hostnames: ['www.alpha.test'] }]
    await applyHostsBlock(alpha, moved, { file })
    expect(readFileSync(file, 'utf8')).toBe(`top\n${renderBlock(alpha, moved)}\n# added by a person after the block\n`)
    const again = await applyHostsBlock(alpha, moved, { file })
    expect(again).toMatchObject({ applied: true, changed: false })
  })

  it('marks the block with the project and its folder', () => {
    const block = renderBlock(alpha, alphaEntries)
    expect(block.split('\n')[0]).toBe('# >>> devenv alpha (/home/dev/alpha) >>>')
    expect(block.split('\n').at(-1)).toBe('# <<< devenv alpha <<<')
  })

  it('refuses a block whose end marker was deleted, changing nothing', async () => {
    writeFileSync(file, '127.0.0.1 localhost\n# >>> devenv alpha (/home/dev/alpha) >>>\n127.64.1.2 www.alpha.test\n')
    const before = readFileSync(file)
    await expect(applyHostsBlock(alpha, alphaEntries, { file })).rejects.toThrow(
      /start of alpha's devenv block but not its end/,
    )
    expect(readFileSync(file).equals(before)).toBe(true)
  })

  it('refuses hostnames and addresses that would corrupt the file', async () => {
    writeFileSync(file, '')
    await expect(
      applyHostsBlock(alpha, [{ address: '127.0.0.1', hostnames: ['evil\n0.0.0.0 bank.com'] }], { file }),
    ).rejects.toThrow(DevenvError)
    await expect(applyHostsBlock(alpha, [{ address: 'localhost', hostnames: ['a.test'] }], { file })).rejects.toThrow(
      /not an IP address/,
    )
    expect(readFileSync(file, 'utf8')).toBe('')
  })

  it('leaves the previous file intact when the write fails, and no file aside', async () => {
    const original = originals['CRLF line endings']!
    writeFileSync(file, original)
    const failingRename = () => {
      throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })
    }
    const attempt = applyHostsBlock(alpha, alphaEntries, { file, io: { rename: failingRename } })
    await expect(attempt).rejects.toMatchObject({
      code: 'HOSTS',
      message: expect.stringContaining('no space left on device'),
    })
    expect(readFileSync(file).equals(original)).toBe(true)
    expect(readdirSync(folder)).toEqual(['hosts'])
  })

  it('writes in place when the rename is refused (EXDEV, as for a bind-mounted file)', async () => {
    const original = originals['LF with a final newline']!
    writeFileSync(file, original)
    const crossDevice = () => {
      throw Object.assign(new Error('cross-device link'), { code: 'EXDEV' })
    }
    const result = await applyHostsBlock(alpha, alphaEntries, { file, io: { rename: crossDevice } })
    expect(result).toMatchObject({ applied: true, method: 'in-place' })
    expect(readHostsBlock(alpha, { file })?.entries).toEqual(alphaEntries)
    expect(readdirSync(folder)).toEqual(['hosts'])
    await removeHostsBlock(alpha, { file, io: { rename: crossDevice } })
    expect(readFileSync(file).equals(original)).toBe(true)
  })
})
