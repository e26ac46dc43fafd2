import { Command, Flags, type Interfaces } from '@oclif/core'
import type { EnvSpec } from '../envfile/index.js'
import { setNoticeSink } from '../util/notices.js'
import type { CommandOutput } from './command-output.js'
import { reportFailure, type JsonEnvelope } from './error-output.js'
import { colors } from './output.js'
import { loadProjectSpec } from './project-spec.js'

export type { JsonEnvelope } from './error-output.js'

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
    return loadProjectSpec(file, runtime)
  }

  /** This command's words as the shared command bodies (status, down, up) take them. */
  protected output(): CommandOutput {
    return {
      json: this.jsonEnabled(),
      log: (text) => this.log(text),
      note: (text) => this.note(text),
      warning: (text) => this.warning(text),
    }
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
    reportFailure(error, { commandId: this.id, json, debug, warnings: this.warnings })
    return undefined
  }
}
