import type { Launch } from '../../boxes/index.js'

/**
 * A launch as the user wrote it, for the log's "started" line: a command the shell runs is shown
 * as the command (without the `exec` devenv puts in front), one that a box runs through
 * `unshare … --` (a namespace of its own) as what runs inside, anything else as a shell would read it.
 */
export function describeLaunch(launch: Pick<Launch, 'command' | 'args'>, limit = 500): string {
  const separator = launch.args.indexOf('--')
  if (launch.command === 'unshare' && separator >= 0 && separator < launch.args.length - 1) {
    const [command, ...args] = launch.args.slice(separator + 1)
    return describeLaunch({ command: command!, args }, limit)
  }
  const [flag, script, ...rest] = launch.args
  const text =
    launch.command === '/bin/sh' && flag === '-c' && script !== undefined && rest.length === 0
      ? script.replace(/^exec /, '')
      : [launch.command, ...launch.args].map(quoteForShell).join(' ')
  const oneLine = text.replace(/\s*\n\s*/g, ' ⏎ ')
  return oneLine.length > limit ? `${oneLine.slice(0, limit - 1)}…` : oneLine
}

function quoteForShell(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`
}
