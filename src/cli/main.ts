/** The commands with a direct route (direct-route.ts's table; a test holds the two equal). */
export const DIRECT_COMMANDS: ReadonlySet<string> = new Set([
  'status',
  'ps',
  'down',
  'up',
  'snapshot save',
  'snapshot restore',
])

/** The command `argv` names when it has a direct route: its first word, or its first two. */
export function directCommandOf(argv: readonly string[]): string | undefined {
  const twoWords = argv.slice(0, 2).join(' ')
  if (DIRECT_COMMANDS.has(twoWords)) return twoWords
  return DIRECT_COMMANDS.has(argv[0] ?? '') ? argv[0] : undefined
}

/**
 * Entry point of bin/devenv. `status`, `down`, `up`, `snapshot save` and `snapshot restore` take
 * the direct route; everything else loads oclif, whose commands render their errors in
 * BaseCommand.catch. Each route is imported only when taken, so neither pays for loading the other.
 */
export async function run(argv: string[], binUrl: string): Promise<void> {
  const commandArgv = takeLeadingFile(argv)
  const direct = directCommandOf(commandArgv)
  if (direct) {
    const { runDirect } = await import('./direct-route.js')
    if (await runDirect(direct, commandArgv.slice(direct.split(' ').length))) return
  }
  const { runWithOclif } = await import('./oclif-run.js')
  await runWithOclif(commandArgv, binUrl)
}

/**
 * `devenv -f PATH <command> ...`, as `docker compose -f PATH <command>`: a -f/--file before the
 * command names the envfile for whatever command follows (even `logs`, whose own -f follows).
 */
export function takeLeadingFile(argv: string[]): string[] {
  const [first, second] = argv
  if ((first === '-f' || first === '--file') && second !== undefined) {
    process.env.DEVENV_FILE = second
    return takeLeadingFile(argv.slice(2))
  }
  const inline = first?.match(/^(?:--file=|-f=?)(.+)$/)
  if (inline) {
    process.env.DEVENV_FILE = inline[1]
    return takeLeadingFile(argv.slice(1))
  }
  return argv
}
