import pc from 'picocolors'

/** Colours for people; picocolors honours NO_COLOR, FORCE_COLOR and a non-TTY stdout. */
export const colors = pc.createColors(pc.isColorSupported && !process.env.NO_COLOR)

const ANSI = /\u001b\[[0-9;]*m/g

export function visibleLength(text: string): number {
  return text.replace(ANSI, '').length
}

/** An aligned table: a header row, then the rows, each column as wide as its widest cell. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) => Math.max(visibleLength(header), ...rows.map((row) => visibleLength(row[column] ?? ''))))
  const line = (cells: string[]): string =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell + ' '.repeat(widths[column]! - visibleLength(cell))))
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
