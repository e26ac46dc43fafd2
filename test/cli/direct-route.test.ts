import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { COMMANDS } from '../../src/cli/direct-route.js'
import { DIRECT_COMMANDS } from '../../src/cli/main.js'
import SnapshotRestore from '../../src/commands/snapshot/restore.js'
import SnapshotSave from '../../src/commands/snapshot/save.js'
import Down from '../../src/commands/down.js'
import Status from '../../src/commands/status.js'
import Up from '../../src/commands/up.js'
import { cleanSandboxes, devenv, sandbox } from './run-cli.js'

afterAll(cleanSandboxes)

/** A project with one process service, never started: status and down have a real envfile to read. */
function project(): string {
  const root = sandbox('devenv-direct-')
  writeFileSync(path.join(root, 'devenv.yaml'), 'name: direct\nservices:\n  web:\n    command: node -e 0\n')
  return root
}

/** A mail service's state as files, never started: something `snapshot save` and `restore` can hold. */
function mailProject(): string {
  const root = sandbox('devenv-direct-snap-')
  writeFileSync(path.join(root, 'devenv.yaml'), 'name: direct-snap\nservices:\n  inbox:\n    box: mail\n')
  const data = path.join(root, '.devenv', 'services', 'inbox', 'data')
  mkdirSync(data, { recursive: true })
  writeFileSync(path.join(data, 'marker.txt'), 'before\n')
  return root
}

/** The modules a run of the CLI loaded through require (oclif is CommonJS), written at exit by a preload. */
async function loadedModules(args: string[], cwd: string): Promise<string[]> {
  const dir = sandbox('devenv-direct-trace-')
  const preload = path.join(dir, 'trace.cjs')
  const out = path.join(dir, 'loaded.json')
  writeFileSync(
    preload,
    `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(Object.keys(require.cache))))\n`,
  )
  const run = await devenv(args, { cwd, env: { NODE_OPTIONS: `--require ${preload}` } })
  expect(run.exitCode, run.stderr).toBe(0)
  return JSON.parse(readFileSync(out, 'utf8')) as string[]
}

type FlagTable = Record<string, { char?: string; type: string }>

/** name → [short, kind] of an oclif command's flags with the base ones (--json, --debug). */
function oclifFlags(command: { flags: FlagTable; baseFlags: FlagTable }): Record<string, [string?, string?]> {
  const all: FlagTable = { ...command.baseFlags, ...command.flags, json: { type: 'boolean' } }
  return Object.fromEntries(Object.entries(all).map(([name, flag]) => [name, [flag.char, flag.type]]))
}

function directFlags(id: string): Record<string, [string?, string?]> {
  const options = COMMANDS[id]!.options
  return Object.fromEntries(
    Object.entries(options).map(([name, option]) => [
      name,
      [option.short, option.type === 'string' ? 'option' : 'boolean'],
    ]),
  )
}

describe('the direct route of status, down and up (no oclif)', () => {
  it('serves exactly the commands main.ts sends it', () => {
    expect(new Set(Object.keys(COMMANDS))).toEqual(DIRECT_COMMANDS)
  })

  it('knows the same flags, short forms and kinds as the oclif commands', () => {
    // status --target swarm (and its --context) talks to a Swarm: that one stays on oclif, which the route falls back to.
    const {
      target: _target,
      context: _context,
      ...localStatus
    } = oclifFlags(Status as unknown as { flags: FlagTable; baseFlags: FlagTable })
    expect(directFlags('status')).toEqual(localStatus)
    expect(directFlags('down')).toEqual(oclifFlags(Down as unknown as { flags: FlagTable; baseFlags: FlagTable }))
    expect(directFlags('up')).toEqual(oclifFlags(Up as unknown as { flags: FlagTable; baseFlags: FlagTable }))
    expect(directFlags('snapshot save')).toEqual(
      oclifFlags(SnapshotSave as unknown as { flags: FlagTable; baseFlags: FlagTable }),
    )
    expect(directFlags('snapshot restore')).toEqual(
      oclifFlags(SnapshotRestore as unknown as { flags: FlagTable; baseFlags: FlagTable }),
    )
  })

  it('status, ps, up and down run without loading oclif; another command loads it', async () => {
    const root = project()
    for (const args of [['status'], ['ps', '--json'], ['up', '--no-hosts', '--json'], ['down', '--no-hosts']]) {
      const loaded = await loadedModules(args, root)
      expect(
        loaded.filter((file) => file.includes(`${path.sep}@oclif${path.sep}`)),
        args.join(' '),
      ).toEqual([])
    }
    const validate = await loadedModules(['validate'], root)
    expect(validate.some((file) => file.includes(`${path.sep}@oclif${path.sep}core${path.sep}`))).toBe(true)
  })

  it('snapshot save and restore run without oclif, and restore what was saved', async () => {
    const root = mailProject()
    const marker = path.join(root, '.devenv', 'services', 'inbox', 'data', 'marker.txt')
    const oclifFiles = (loaded: string[]) => loaded.filter((file) => file.includes(`${path.sep}@oclif${path.sep}`))
    expect(oclifFiles(await loadedModules(['snapshot', 'save', 'inbox', 'one'], root))).toEqual([])
    // As the mail box changes its files: a new one renamed over (the snapshot hard-links the old).
    writeFileSync(`${marker}.new`, 'after\n')
    renameSync(`${marker}.new`, marker)
    expect(oclifFiles(await loadedModules(['snapshot', 'restore', 'inbox', 'one'], root))).toEqual([])
    expect(readFileSync(marker, 'utf8')).toBe('before\n')
    const restored = await devenv(['snapshot', 'restore', 'inbox', 'one', '--json'], { cwd: root })
    expect(JSON.parse(restored.stdout)).toMatchObject({
      ok: true,
      result: { restored: [{ service: 'inbox', snapshot: 'one' }] },
    })
    const missing = await devenv(['snapshot', 'restore', 'inbox', 'nope'], { cwd: root })
    expect(missing.exitCode).not.toBe(0)
    expect(missing.stderr).toMatch(/^✖ no snapshot nope of inbox\n {2}hint: Snapshots of inbox: one\./m)
    // What this route leaves to oclif keeps oclif's words.
    const noService = await devenv(['snapshot', 'restore'], { cwd: root })
    expect(noService.exitCode).toBe(2)
    expect(noService.stderr).toMatch(/Missing 1 required arg:\s+service/)
    const tooMany = await devenv(['snapshot', 'save', 'inbox', 'two', 'three'], { cwd: root })
    expect(tooMany.exitCode).toBe(2)
    expect(tooMany.stderr).toMatch(/Unexpected argument: three/)
  })

  it('prints what the oclif command printed: the table, the envelope, the errors', async () => {
    const root = project()
    const text = await devenv(['status'], { cwd: root })
    expect(text.exitCode, text.stderr).toBe(0)
    expect(text.stdout).toMatch(/^web +process +stopped/m)
    const json = JSON.parse((await devenv(['ps', '--json'], { cwd: root })).stdout)
    expect(json).toMatchObject({
      ok: true,
      warnings: [],
      result: { project: 'direct', supervisor: { running: false } },
    })
    const unknown = await devenv(['status', 'nope', '--json'], { cwd: root })
    expect(unknown.exitCode).toBe(2)
    expect(JSON.parse(unknown.stdout)).toMatchObject({ ok: false, error: { code: 'USAGE' } })
    const down = await devenv(['down', '--no-hosts'], { cwd: root })
    expect(down.exitCode, down.stderr).toBe(0)
    expect(down.stdout).toMatch(/direct was not running/)
    const up = await devenv(['up', '--no-hosts'], { cwd: root })
    expect(up.exitCode, up.stderr).toBe(0)
    expect(up.stdout).toMatch(/^web +process +(running|exited)/m)
    expect(up.stderr).toMatch(/web/)
    const upJson = JSON.parse((await devenv(['up', 'web', '--no-hosts', '--json'], { cwd: root })).stdout)
    expect(upJson).toMatchObject({ ok: true, result: { services: [{ name: 'web' }] } })
    expect((await devenv(['down', '--no-hosts'], { cwd: root })).stdout).toMatch(/direct is down/)
    const missing = await devenv(['status'], { cwd: sandbox() })
    expect(missing.exitCode).toBe(2)
    expect(missing.stderr).toMatch(/^✖ .*devenv\.yaml/m)
    expect(missing.stderr).not.toMatch(/^ {4}at /m)
  })

  it('leaves --help and flags it does not know to oclif', async () => {
    const root = project()
    const help = await devenv(['status', '--help'], { cwd: root })
    expect(help.exitCode).toBe(0)
    expect(help.stdout).toMatch(/USAGE\n +\$ devenv status/)
    const both = await devenv(['up', '--attach', '--json'], { cwd: root })
    expect(both.exitCode).toBe(2)
    expect(JSON.parse(both.stdout).error.message).toMatch(/cannot also be provided when using --(attach|json)/)
    const bogus = await devenv(['down', '--bogus'], { cwd: root })
    expect(bogus.exitCode).toBe(2)
    expect(bogus.stderr).toMatch(/Nonexistent flag: --bogus/)
    expect(bogus.stderr).toMatch(/See devenv down --help/)
  })

  it('reads -f before the command and DEVENV_FILE, as oclif did', async () => {
    const root = project()
    const elsewhere = sandbox()
    const leading = await devenv(['-f', path.join(root, 'devenv.yaml'), 'status', '--json'], { cwd: elsewhere })
    expect(JSON.parse(leading.stdout).result.project).toBe('direct')
    const env = await devenv(['status', '--json'], {
      cwd: elsewhere,
      env: { DEVENV_FILE: path.join(root, 'devenv.yaml') },
    })
    expect(JSON.parse(env.stdout).result.project).toBe('direct')
  })
})
