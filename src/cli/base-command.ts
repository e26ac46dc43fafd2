import { Command, Flags, type Interfaces } from '@oclif/core'
import { DevenvError, diskFullError, isDevenvError } from '../errors.js'
import { resolveCommittedBox } from '../boxes/store/index.js'
import { loadEnvfile, type EnvSpec } from '../envfile/index.js'
import { readRuntimeChoice } from '../state/index.js'
import { setNoticeSink } from '../util/notices.js'
import { colors } from './output.js'

export type CommandFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof BaseCommand)['baseFlags'] & T['flags']
>
export type CommandArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

const FILE_DESCRIPTION = 'envfile to use (default: $DEVENV_FILE, or devenv.yaml in this folder or a parent)'

/**
 * Flags of commands that work on a project's envfile: -f/--file on every command, as Compose's
 * global -f; `logs` keeps -f for --follow (as `docker compose logs -f`) and takes --file long only.
 * `devenv -f PATH <command>` works for every command (bin/devenv turns it into DEVENV_FILE).
 */
export const projectFlags = {
  file: Flags.string({ char: 'f', description: FILE_DESCRIPTION, helpValue: 'PATH', env: 'DEVENV_FILE' }),
}

/** The envfile flag without its short form, for commands whose -f means something else. */
export const longFileFlag = {
  file: Flags.string({ description: FILE_DESCRIPTION, helpValue: 'PATH', env: 'DEVENV_FILE' }),
}

/**
 * What every command prints with --json, as the Salesforce CLI's base command does: `ok` is true
 * when the command exits 0; `result` is its report (also when it reports a failure, as `up`
 * does for a service that failed); `error` when it could not do its work; `warnings` carries
 * what would have gone to stderr as a warning.
 */
export type JsonEnvelope = { ok: boolean; warnings: string[] } & (
  { result: unknown } | { error: ReturnType<DevenvError['toJSON']> }
)

/**
 * Every devenv command extends this: --json (one JsonEnvelope on stdout, progress on stderr),
 * --debug, and one catch() that turns errors into a message and an exit code.
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true
  static override baseFlags = {
    debug: Flags.boolean({ description: 'show stack traces and internal detail', helpGroup: 'GLOBAL' }),
  }

  protected flags!: CommandFlags<T>
  protected args!: CommandArgs<T>
  private readonly warnings: string[] = []

  public override async init(): Promise<void> {
    await super.init()
    if (this.argv.includes('--json')) setNoticeSink((message) => this.warnings.push(message))
    const { args, flags } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as CommandFlags<T>
    this.args = args as CommandArgs<T>
  }

  /** The project's envfile, loaded and validated. */
  protected loadSpec(): EnvSpec {
    const { file, runtime } = this.flags as { file?: string; runtime?: EnvSpec['runtime'] }
    return loadEnvfile({
      ...(file ? { file } : {}),
      resolveBox: resolveCommittedBox,
      runtime: (root) => runtime ?? readRuntimeChoice(root),
    })
  }

  /** Progress and notes for people go to stderr, so stdout stays clean for --json. */
  protected note(message: string): void {
    if (!this.jsonEnabled()) process.stderr.write(`${message}\n`)
  }

  /** A warning for people on stderr; with --json, one of the envelope's `warnings`. */
  protected warning(message: string): void {
    if (this.jsonEnabled()) this.warnings.push(message)
    else process.stderr.write(`${colors.yellow('warning')} ${message}\n`)
  }

  protected override toSuccessJson(result: unknown): JsonEnvelope {
    return { ok: !process.exitCode, result, warnings: this.warnings }
  }

  protected override async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    const debug = this.argv.includes('--debug') || Boolean(process.env.DEVENV_DEBUG)
    const json = this.argv.includes('--json')
    // oclif's own exit() and --help/--version flows
    if (error.name === 'ExitError' || error.oclif?.exit === 0) throw error
    const devenvError = toDevenvError(error, this.id)
    if (json) {
      const envelope: JsonEnvelope = { ok: false, error: devenvError.toJSON(), warnings: this.warnings }
      process.stdout.write(`${JSON.stringify(envelope, null, 2)}\n`)
    } else {
      process.stderr.write(render(devenvError))
    }
    if (debug) process.stderr.write(`\n${colors.dim(error.stack ?? String(error))}\n`)
    process.exitCode = devenvError.exitCode
    return undefined
  }
}

function toDevenvError(error: Error & { oclif?: { exit?: number } }, commandId: string | undefined): DevenvError {
  if (isDevenvError(error)) return error
  // oclif's parse and validation errors: bad flags, missing or extra arguments
  if (
    error.oclif?.exit === 2 ||
    /Parse|Validation|RequiredArgs|UnexpectedArgs|NonExistentFlags/.test(error.constructor?.name ?? '')
  ) {
    const [headline, ...rest] = error.message.split('\n')
    // "Missing 1 required arg:" is followed by the argument's name and description on the next lines
    const details = rest.map((line) => line.trim()).filter((line) => line && !/^See more help with/.test(line))
    const command = commandId ? ` ${commandId.replaceAll(':', ' ')}` : ''
    return new DevenvError(
      'USAGE',
      details.length && /:$/.test(headline!) ? `${headline} ${details.join('; ')}` : headline!,
      { hint: `See devenv${command} --help.` },
    )
  }
  // A write without a path (to an open file) names the folder the command works in.
  const diskFull = diskFullError(error, process.cwd())
  if (diskFull) return diskFull
  return new DevenvError('INTERNAL', `unexpected error: ${error.message}`, {
    hint: 'Run again with --debug to see where it happened, and report it if it looks like a bug.',
    cause: error,
  })
}

export function render(error: DevenvError): string {
  let text = `${colors.red('✖')} ${error.message}\n`
  if (error.where) text += `  ${colors.dim('at')} ${error.where}\n`
  for (const detail of error.details) text += `  ${colors.dim('·')} ${detail}\n`
  if (error.hint) text += `  ${colors.cyan('hint:')} ${error.hint}\n`
  return text
}
