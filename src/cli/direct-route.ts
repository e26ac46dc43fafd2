import { parseArgs, type ParseArgsConfig } from 'node:util'
import { setNoticeSink } from '../util/notices.js'
import type { CommandOutput } from './command-output.js'
import { reportFailure, type JsonEnvelope } from './error-output.js'
import { colors } from './output.js'
import { loadCachedProjectSpec } from './cached-project-spec.js'
import type { EnvSpec } from '../envfile/index.js'

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>

/**
 * A command the CLI runs without oclif: loading oclif and its plugins costs more than `status`
 * or `down` do themselves (~90 ms of a ~250 ms start), and `up` waits for it before it starts anything. Only plain uses take this route: any flag
 * it does not know (--help among them) goes to oclif, which gives the usual help and messages.
 * The oclif command of the same name stays the reference: its flags must be these.
 */
interface DirectCommand {
  id: string
  options: NonNullable<ParseArgsConfig['options']>
  positionals: boolean
  /** A use of known flags this route still leaves to oclif (flags or arguments oclif refuses). */
  accepts?: (values: Values, positionals: string[]) => boolean
  run(values: Values, positionals: string[], out: CommandOutput): Promise<unknown>
}

const COMMON: DirectCommand['options'] = {
  file: { type: 'string', short: 'f' },
  json: { type: 'boolean' },
  debug: { type: 'boolean' },
}

const status: DirectCommand = {
  id: 'status',
  options: { ...COMMON, 'show-secrets': { type: 'boolean' }, wide: { type: 'boolean', short: 'w' } },
  positionals: true,
  // Each command's body is imported when it runs: `status` does not compile what `up` needs.
  run: async (values, names, out) =>
    (await import('./status-report.js')).statusReport(
      await loadCachedProjectSpec(fileOf(values)),
      { names, showSecrets: values['show-secrets'] === true, wide: values.wide === true },
      out,
    ),
}

const down: DirectCommand = {
  id: 'down',
  options: { ...COMMON, 'no-hosts': { type: 'boolean' }, 'no-sudo': { type: 'boolean' } },
  positionals: false,
  run: async (values, _names, out) =>
    (await import('./take-down.js')).takeDown(
      await loadCachedProjectSpec(fileOf(values)),
      { keepHosts: values['no-hosts'] === true, noSudo: values['no-sudo'] === true },
      out,
    ),
}

export const up: DirectCommand = {
  id: 'up',
  options: {
    ...COMMON,
    recreate: { type: 'boolean' },
    attach: { type: 'boolean', short: 'a' },
    'no-hosts': { type: 'boolean' },
    'no-sudo': { type: 'boolean' },
    'skip-verify': { type: 'boolean' },
    runtime: { type: 'string' },
  },
  positionals: true,
  // --attach with --json, and a runtime that is not one, are refused by oclif, which says so.
  accepts: (values) =>
    !(values.attach === true && values.json === true) &&
    (values.runtime === undefined || values.runtime === 'bundled' || values.runtime === 'docker'),
  run: async (values, names, out) =>
    (await import('./bring-up.js')).bringUp(
      await loadCachedProjectSpec(fileOf(values), values.runtime as EnvSpec['runtime'] | undefined),
      {
        ...(values.runtime ? { runtime: values.runtime as EnvSpec['runtime'] } : {}),
        names,
        recreate: values.recreate === true,
        attach: values.attach === true,
        keepHosts: values['no-hosts'] === true,
        noSudo: values['no-sudo'] === true,
        skipVerify: values['skip-verify'] === true,
      },
      out,
    ),
}

const SNAPSHOT: DirectCommand['options'] = { ...COMMON, all: { type: 'boolean' } }

// `devenv snapshot restore db before-migration` is what a user runs between two test runs: oclif's
// ~90 ms start was a third of it.
const snapshotSave: DirectCommand = {
  id: 'snapshot save',
  options: SNAPSHOT,
  positionals: true,
  accepts: (_values, positionals) => positionals.length <= 2,
  run: async (values, [service, name], out) =>
    (await import('./snapshot-save.js')).saveAndReport(
      await loadCachedProjectSpec(fileOf(values)),
      { all: values.all === true, service, name },
      out,
    ),
}

const snapshotRestore: DirectCommand = {
  id: 'snapshot restore',
  options: { ...SNAPSHOT, force: { type: 'boolean' } },
  positionals: true,
  // Without a service oclif says which argument is missing.
  accepts: (_values, positionals) => positionals.length >= 1 && positionals.length <= 2,
  run: async (values, [service, name], out) =>
    (await import('./snapshot-restore.js')).restoreAndReport(
      await loadCachedProjectSpec(fileOf(values)),
      { all: values.all === true, service: service!, name, force: values.force === true },
      out,
    ),
}

export const COMMANDS: Readonly<Record<string, DirectCommand>> = {
  status,
  ps: status,
  down,
  up,
  'snapshot save': snapshotSave,
  'snapshot restore': snapshotRestore,
}

/** The envfile flag, or DEVENV_FILE as oclif's `env` on the flag reads it. */
function fileOf(values: Values): string | undefined {
  return typeof values.file === 'string' ? values.file : process.env.DEVENV_FILE
}

/**
 * Runs command `id` with `rest` (the arguments after its words) on the direct route when it is a
 * plain use; false when oclif must run it (--help, a flag or an argument this route does not know).
 */
export async function runDirect(id: string, rest: string[]): Promise<boolean> {
  const command = COMMANDS[id]
  if (!command) return false
  let parsed: { values: Values; positionals: string[] }
  try {
    parsed = parseArgs({ args: rest, options: command.options, allowPositionals: command.positionals, strict: true })
  } catch {
    return false
  }
  if (command.accepts && !command.accepts(parsed.values, parsed.positionals)) return false
  // As oclif does: a reader that stops early (`| head`) is no error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error
  })
  const json = parsed.values.json === true || process.env.DEVENV_CONTENT_TYPE?.toLowerCase() === 'json'
  const debug = parsed.values.debug === true || Boolean(process.env.DEVENV_DEBUG)
  const warnings: string[] = []
  if (json) setNoticeSink((message) => warnings.push(message))
  const out: CommandOutput = {
    json,
    log: (text) => {
      if (!json) process.stdout.write(`${text}\n`)
    },
    note: (text) => {
      if (!json) process.stderr.write(`${text}\n`)
    },
    warning: (text) => {
      if (json) warnings.push(text)
      else process.stderr.write(`${colors.yellow('warning')} ${text}\n`)
    },
  }
  try {
    const result = await command.run(parsed.values, parsed.positionals, out)
    if (json) {
      const envelope: JsonEnvelope = { ok: !process.exitCode, result, warnings }
      process.stdout.write(`${JSON.stringify(envelope, null, 2)}\n`)
    }
  } catch (error) {
    reportFailure(error as Error, { commandId: command.id, json, debug, warnings })
  }
  return true
}
