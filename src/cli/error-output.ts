import { DevenvError, diskFullError, isDevenvError } from '../errors.js'
import { colors } from './output.js'

/**
 * What every command prints with --json, as the Salesforce CLI's base command does: `ok` is true
 * when the command exits 0; `result` is its report (also when it reports a failure, as `up`
 * does for a service that failed); `error` when it could not do its work; `warnings` carries
 * what would have gone to stderr as a warning.
 */
export type JsonEnvelope = { ok: boolean; warnings: string[] } & (
  { result: unknown } | { error: ReturnType<DevenvError['toJSON']> }
)

/** Any error a command threw, as the DevenvError the person is shown. */
export function toDevenvError(
  error: Error & { oclif?: { exit?: number } },
  commandId: string | undefined,
): DevenvError {
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

/** A failed command's message for people (stderr). */
export function render(error: DevenvError): string {
  let text = `${colors.red('✖')} ${error.message}\n`
  if (error.where) text += `  ${colors.dim('at')} ${error.where}\n`
  for (const detail of error.details) text += `  ${colors.dim('·')} ${detail}\n`
  if (error.hint) text += `  ${colors.cyan('hint:')} ${error.hint}\n`
  return text
}

/**
 * Writes a failed command's message (the envelope with --json, else the rendering; the stack with
 * --debug or DEVENV_DEBUG) and sets the exit code.
 */
export function reportFailure(
  error: Error,
  options: { commandId: string | undefined; json: boolean; debug: boolean; warnings: string[] },
): void {
  const devenvError = toDevenvError(error, options.commandId)
  if (options.json) {
    const envelope: JsonEnvelope = { ok: false, error: devenvError.toJSON(), warnings: options.warnings }
    process.stdout.write(`${JSON.stringify(envelope, null, 2)}\n`)
  } else {
    process.stderr.write(render(devenvError))
  }
  if (options.debug) process.stderr.write(`\n${colors.dim(error.stack ?? String(error))}\n`)
  process.exitCode = devenvError.exitCode
}
