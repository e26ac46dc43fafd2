import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  lstatSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'

export function tempDir(prefix = 'devenv-snap-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix))
}

/** A data folder shaped like a small database cluster: nested folders, binary files, an empty file, a link, odd modes. */
export function makeDataFolder(root: string, seed: string, options: { bigBytes?: number } = {}): void {
  mkdirSync(path.join(root, 'pgdata', 'base', '16384'), { recursive: true })
  mkdirSync(path.join(root, 'pgdata', 'pg_wal'), { recursive: true })
  mkdirSync(path.join(root, 'empty-dir'), { recursive: true })
  writeFileSync(path.join(root, 'pgdata', 'PG_VERSION'), '17\n')
  writeFileSync(
    path.join(root, 'pgdata', 'base', '16384', '1259'),
    Buffer.concat([Buffer.from(seed), randomBytes(options.bigBytes ?? 200_000)]),
  )
  writeFileSync(path.join(root, 'pgdata', 'pg_wal', '000000010000000000000001'), `${seed}-wal`.repeat(1000))
  writeFileSync(path.join(root, 'pgdata', 'empty'), '')
  writeFileSync(path.join(root, 'marker.txt'), seed)
  chmodSync(path.join(root, 'pgdata'), 0o700)
  chmodSync(path.join(root, 'marker.txt'), 0o600)
  symlinkSync('pgdata/PG_VERSION', path.join(root, 'version-link'))
}

/** Everything about a folder that a restore must reproduce: paths, types, modes, contents, link targets. */
export function describeFolder(root: string): Record<string, string> {
  const found: Record<string, string> = {}
  const visit = (relative: string): void => {
    for (const name of readdirSync(path.join(root, relative)).sort()) {
      const child = relative ? `${relative}/${name}` : name
      const full = path.join(root, child)
      const stats = lstatSync(full)
      const mode = (stats.mode & 0o7777).toString(8)
      if (stats.isSymbolicLink()) found[child] = `link:${readlinkSync(full)}`
      else if (stats.isDirectory()) {
        found[child] = `dir:${mode}`
        visit(child)
      } else found[child] = `file:${mode}:${readFileSync(full).toString('base64')}`
    }
  }
  visit('')
  return found
}

export function cleanup(folder: string): void {
  rmSync(folder, { recursive: true, force: true })
}
