import { createWriteStream, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGzip, gzipSync } from 'node:zlib'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { boxDir, importBox, seedServiceData } from '../../src/boxes/store/index.js'
import type { TreeEntry } from '../../src/util/tree.js'
import { cleanSandboxes, devenv, sandbox, STACK_LINE } from '../cli/run-cli.js'
import { cleanup, tempDir } from '../snapshots/helpers.js'
import { archive, good, goodEntries, header, manifestFor, pad, sha } from './archives.js'

let work: string
let home: string

beforeEach(() => {
  work = tempDir('devenv-damaged-')
  home = path.join(work, 'home')
  process.env.DEVENV_HOME = home
})
afterEach(() => {
  delete process.env.DEVENV_HOME
  cleanup(work)
})
afterAll(cleanSandboxes)

/** Writes a gzip archive of `declared` bytes of zeros behind a manifest that declares them (with a made-up sha256). */
async function writeBomb(file: string, declared: number): Promise<void> {
  const entries: TreeEntry[] = [{ type: 'file', path: 'zeros', mode: 0o644, size: declared, sha256: 'a'.repeat(64) }]
  const manifest = manifestFor(entries)
  async function* tar(): AsyncGenerator<Buffer> {
    yield Buffer.concat([
      header('devenv-box.json', '0', manifest.length),
      manifest,
      pad(manifest.length),
      header('data/', '5', 0),
      header('data/zeros', '0', declared),
    ])
    const chunk = Buffer.alloc(1 << 20)
    for (let sent = 0; sent < declared; sent += chunk.length)
      yield chunk.subarray(0, Math.min(chunk.length, declared - sent))
    yield Buffer.concat([pad(declared), Buffer.alloc(1024)])
  }
  await pipeline(Readable.from(tar()), createGzip({ level: 9 }), createWriteStream(file))
}

describe('a box archive whose gzip unpacks far beyond its size', () => {
  it('is refused from its declared sizes before any data is unpacked', async () => {
    const file = path.join(work, 'bomb.box.tgz')
    await writeBomb(file, 512 * 1024 ** 2)
    const compressed = statSync(file).size
    expect(compressed).toBeLessThan(1024 ** 2)
    const started = performance.now()
    await expect(importBox(file)).rejects.toMatchObject({
      code: 'ARCHIVE',
      message: expect.stringMatching(/declares 536870912 bytes of data in \d+ bytes of gzip.*decompression bomb/),
    })
    // Unpacking 512 MiB takes seconds; refusing from the manifest, a few milliseconds.
    expect(performance.now() - started).toBeLessThan(500)
    expect(existsSync(home)).toBe(false)
  })

  it('never unpacks more than the manifest declares, whatever the tar holds (here: 120 MB of pax headers)', async () => {
    const value = 'a'.repeat(60_000)
    const record = (length: number): string => `${length} comment=${value}\n`
    let length = record(0).length
    while (record(length).length !== length) length = record(length).length
    const pax = Buffer.from(record(length))
    const flood = Array.from({ length: 2000 }, () =>
      Buffer.concat([header('PaxHeader', 'x', pax.length), pax, pad(pax.length)]),
    )
    const manifest = manifestFor(goodEntries)
    const tar = Buffer.concat([
      header('devenv-box.json', '0', manifest.length),
      manifest,
      pad(manifest.length),
      header('data/', '5', 0),
      ...flood,
      header('data/ok.txt', '0', good.length),
      good,
      pad(good.length),
      Buffer.alloc(1024),
    ])
    const file = path.join(work, 'flood.box.tgz')
    writeFileSync(file, gzipSync(tar))
    await expect(importBox(file)).rejects.toMatchObject({
      code: 'ARCHIVE',
      message: expect.stringMatching(/unpacks to more than the 19 bytes of data its manifest declares/),
    })
    expect(existsSync(home)).toBe(false)
  })

  it('a plain tar whose manifest declares more than the file holds is refused before reading on', async () => {
    const entries: TreeEntry[] = [
      { type: 'file', path: 'big', mode: 0o644, size: 10 * 1024 ** 2, sha256: 'b'.repeat(64) },
    ]
    const file = path.join(work, 'liar.box.tar')
    writeFileSync(file, archive(entries, []))
    await expect(importBox(file)).rejects.toMatchObject({
      message: expect.stringMatching(/declares 10485760 bytes of data, but the file holds only \d+/),
    })
  })
})

describe('box import of a cut gzip archive, through the CLI', () => {
  it('names the archive and says it is truncated: exit 1, no stack trace, nothing written', async () => {
    const folder = sandbox()
    const whole = gzipSync(archive(goodEntries, [{ name: 'data/ok.txt', body: good }]))
    const file = path.join(folder, 'cut.box.tgz')
    writeFileSync(file, whole.subarray(0, Math.floor(whole.length / 2)))
    const boxHome = path.join(folder, 'home')
    const result = await devenv(['box', 'import', file], { env: { DEVENV_HOME: boxHome } })
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain(`${file} is truncated`)
    expect(result.stderr).not.toMatch(/unexpected/)
    expect(result.stderr).not.toMatch(STACK_LINE)
    expect(existsSync(path.join(boxHome, 'boxes', 'evil'))).toBe(false)
    expect(readdirSync(folder).sort()).toEqual(['cut.box.tgz'].concat(existsSync(boxHome) ? ['home'] : []).sort())
  })
})

describe('modes of imported files', () => {
  it('are normalised: no group or other write, no setuid, at most 0755/0644, secrets 0600; the box still seeds', async () => {
    const body = Buffer.from('x\n')
    const file = (name: string, mode: number): TreeEntry => ({
      type: 'file',
      path: name,
      mode,
      size: body.length,
      sha256: sha(body),
    })
    const entries: TreeEntry[] = [
      { type: 'dir', path: 'open', mode: 0o777 },
      file('open/world-writable-program', 0o777),
      file('open/shared.txt', 0o666),
      file('setuid', 0o4755),
      file('superuser.json', 0o644),
      file('private.txt', 0o600),
    ]
    const raws = [
      { name: 'data/open/', type: '5' },
      ...entries.filter((entry) => entry.type === 'file').map((entry) => ({ name: `data/${entry.path}`, body })),
    ]
    const archiveFile = path.join(work, 'modes.box.tar')
    writeFileSync(archiveFile, archive(entries, raws))
    await importBox(archiveFile)
    const data = path.join(boxDir({ name: 'evil', tag: 'v1' }), 'data')
    const mode = (relative: string): string => (statSync(path.join(data, relative)).mode & 0o7777).toString(8)
    expect({
      open: mode('open'),
      program: mode('open/world-writable-program'),
      shared: mode('open/shared.txt'),
      setuid: mode('setuid'),
      superuser: mode('superuser.json'),
      private: mode('private.txt'),
    }).toEqual({ open: '755', program: '755', shared: '644', setuid: '755', superuser: '600', private: '600' })
    const seeded = path.join(work, 'project', '.devenv', 'services', 'db', 'data')
    mkdirSync(path.dirname(seeded), { recursive: true })
    expect(await seedServiceData({ name: 'evil', tag: 'v1' }, seeded)).toBe(true)
    expect((statSync(path.join(seeded, 'superuser.json')).mode & 0o777).toString(8)).toBe('600')
  })
})
