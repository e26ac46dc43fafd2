import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Ajv } from 'ajv'
import { execa } from 'execa'
import { describeBox } from '../../src/envfile/box-catalog.js'
import { loadEnvfile, type EnvSpec } from '../../src/envfile/index.js'
import type { BoxContainerPlanner } from '../../src/exporting/index.js'
import { REPO } from '../support/cli.js'

/**
 * How a box runs as a container, fixed here: the docker provider supplies the real planner. It
 * is a parameter of the export, so the mapping around it is tested for real.
 */
export const FIXED_PLANNER: BoxContainerPlanner = (_spec, service) => ({
  image: `devenvtest-export-box-${service.kind}:1`,
  command: ['/usr/local/bin/devenv-box', service.kind, service.name],
  env: {
    BOX: service.kind,
    ...(service.postgres ? { POSTGRES_PASSWORD: service.postgres.databases[0]?.password ?? 'postgres' } : {}),
    ...(service.command ? { BOX_COMMAND: service.command } : {}),
  },
  ...(service.kind === 'postgres' ? { user: '999' } : {}),
  mounts: [
    ...service.mounts.map((mount) => ({ source: mount.source, target: mount.target, readonly: mount.readonly })),
    ...(service.postgres?.databases.flatMap((database) =>
      database.seed.map((seed, index) => ({
        source: seed,
        target: `/seed/${database.name}/${index}-${path.basename(seed)}`,
        readonly: true,
      })),
    ) ?? []),
    ...(describeBox(service.kind).stateful
      ? [{ source: `${service.name}-data`, target: '/data', readonly: false }]
      : []),
  ],
  buildHint: `devenv image build ${service.kind}`,
})

/** A copy of a folder of the repository (a template or a fixture) in a temp folder. */
export function copyOf(relative: string, prefix: string): string {
  const folder = mkdtempSync(path.join(tmpdir(), `devenvtest-export-${prefix}-`))
  cpSync(path.join(REPO, relative), folder, { recursive: true })
  return folder
}

export function removeFolder(folder: string | undefined): void {
  if (folder) rmSync(folder, { recursive: true, force: true })
}

export function loadProject(folder: string, variables: Record<string, string> = {}): EnvSpec {
  return loadEnvfile({ cwd: folder, variables, allowedHostnames: [], checkProviderSupport: false })
}

/** The compose-spec schema as vendored, compiled here on its own (not through devenv's code). */
export function composeSpecErrors(file: unknown): unknown[] {
  const schema = JSON.parse(readFileSync(path.join(REPO, 'schema', 'vendor', 'compose-spec.json'), 'utf8')) as Record<
    string,
    unknown
  >
  delete schema.$schema
  const validate = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(schema)
  return validate(file) ? [] : (validate.errors ?? [])
}

/** Why Docker cannot be used here, or undefined when the engine answers. */
export async function dockerUnavailable(): Promise<string | undefined> {
  const info = await execa('docker', ['info', '--format', '{{.ServerVersion}}'], { reject: false })
  if (info.exitCode !== 0) return `the Docker engine does not answer (${info.stderr.split('\n')[0] ?? ''})`
  const compose = await execa('docker-compose', ['version', '--short'], { reject: false })
  if (compose.exitCode !== 0) return 'docker-compose is not installed'
  return undefined
}

/**
 * The base image the exported images build FROM, made without a registry: busybox-static's one
 * binary and its applets, imported as a root filesystem.
 */
export async function importBusyboxBase(tag: string): Promise<void> {
  const root = mkdtempSync(path.join(tmpdir(), 'devenvtest-export-rootfs-'))
  try {
    await execa('sh', [
      '-c',
      'mkdir -p "$1/bin" "$1/tmp" && cp /bin/busybox "$1/bin/" && for applet in $("$1/bin/busybox" --list); do [ -e "$1/bin/$applet" ] || ln -s busybox "$1/bin/$applet"; done',
      'sh',
      root,
    ])
    await execa('sh', ['-c', 'tar -C "$1" -c . | docker import - "$2"', 'sh', root, tag])
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}
