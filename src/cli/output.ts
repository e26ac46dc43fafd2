import pc from 'picocolors'

/**
 * Colours for people, on a terminal only: NO_COLOR turns them off, FORCE_COLOR on. Unlike
 * picocolors' own guess, CI=true alone does not turn them on: piped output is read by scripts.
 */
export const colors = pc.createColors(colorWanted())

function colorWanted(): boolean {
  const env = process.env
  if ('NO_COLOR' in env || process.argv.includes('--no-color')) return false
  if ('FORCE_COLOR' in env && env.FORCE_COLOR !== '0') return true
  return Boolean(process.stderr.isTTY || process.stdout.isTTY) && env.TERM !== 'dumb'
}

const ANSI = /\u001b\[[0-9;]*m/g

export function visibleLength(text: string): number {
  return text.replace(ANSI, '').length
}

/** An aligned table: a header row, then the rows, each column as wide as its widest cell. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) =>
    Math.max(visibleLength(header), ...rows.map((row) => visibleLength(row[column] ?? ''))),
  )
  const line = (cells: string[]): string =>
    cells
      .map((cell, column) =>
        column === cells.length - 1 ? cell : cell + ' '.repeat(widths[column]! - visibleLength(cell)),
      )
      .join('  ')
      .trimEnd()
  return [line(headers.map((header) => colors.bold(header))), ...rows.map(line)].join('\n')
}

export function stateColor(state: string): string {
  switch (state) {
    case 'running':
    case 'healthy':
    case 'ok':
      return colors.green(state)
    case 'starting':
    case 'restarting':
      return colors.yellow(state)
    case 'failed':
    case 'unhealthy':
    case 'exited':
      return colors.red(state)
    default:
      return colors.dim(state)
  }
}
