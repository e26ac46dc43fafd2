import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { globSync } from 'tinyglobby'
import type { BuildSpec } from '../envfile/index.js'
import { DevenvError } from '../errors.js'
import { readJson, writeJsonAtomic } from '../state/index.js'
import { signalGroup } from '../util/process-group.js'

interface BuildRecord {
  checksum: string
  builtAt: string
}

/** sha256 over the build's input files (paths and contents), in a stable order. */
export function inputsChecksum(build: BuildSpec): string {
  const hash = createHash('sha256')
  hash.update(build.command)
  const files = build.inputs.length
    ? globSync(build.inputs, {
        cwd: build.workdir,
        dot: true,
        ignore: ['**/node_modules/**', '**/.git/**', '**/.devenv/**'],
      }).sort()
    : []
  for (const file of files) {
    hash.update(`\0${file}\0`)
    hash.update(readFileSync(path.join(build.workdir, file)))
  }
  return hash.digest('hex')
}

/** Does the build need to run: never built, or its inputs changed since? */
export function buildNeeded(build: BuildSpec, cacheFile: string): { needed: boolean; checksum: string } {
  const checksum = inputsChecksum(build)
  const record = readJson<BuildRecord>(cacheFile)
  return { needed: record?.checksum !== checksum, checksum }
}

/** Runs the build command; its output goes to `log`; a failure carries the last lines. */
export async function runBuild(
  service: string,
  build: BuildSpec,
  env: Record<string, string>,
  cacheFile: string,
  log: (stream: 'out' | 'err', data: Buffer) => void,
  signal?: AbortSignal,
): Promise<void> {
  const { checksum } = buildNeeded(build, cacheFile)
  const tail: string[] = []
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn('/bin/sh', ['-c', build.command], {
      cwd: build.workdir,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const keep = (stream: 'out' | 'err') => (data: Buffer) => {
      log(stream, data)
      tail.push(...data.toString().split('\n').filter(Boolean))
      tail.splice(0, Math.max(0, tail.length - 20))
    }
    child.stdout?.on('data', keep('out'))
    child.stderr?.on('data', keep('err'))
    const onAbort = (): void => {
      if (child.pid) signalGroup(child.pid, 'SIGKILL')
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    child.once('error', (error) => {
      tail.push(error.message)
      resolve(127)
    })
    child.once('close', (exitCode) => {
      signal?.removeEventListener('abort', onAbort)
      resolve(exitCode)
    })
  })
  if (code !== 0) {
    throw new DevenvError(
      'BUILD_FAILED',
      `service ${service}: build \`${build.command}\` failed (exit ${code ?? 'signal'})`,
      {
        details: tail.slice(-10),
        hint: `Fix the build, then run \`devenv build ${service}\` or \`devenv up\` again.`,
      },
    )
  }
  writeJsonAtomic(cacheFile, { checksum, builtAt: new Date().toISOString() } satisfies BuildRecord)
}
