const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** Seconds as a number, or "500ms", "2s", "1.5m", "1h"; returns milliseconds. */
export function parseDuration(value: number | string): number {
  if (typeof value === 'number') return Math.round(value * 1000)
  const match = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)?$/.exec(value.trim())
  if (!match) throw new Error(`not a duration: ${value}`)
  return Math.round(Number(match[1]) * UNIT_MS[match[2] ?? 's']!)
}

/** "10MB", "512k", "1048576" → bytes */
export function parseSize(value: number | string): number {
  if (typeof value === 'number') return value
  const match = /^([0-9]+(?:\.[0-9]+)?)\s*([kmg]i?b?|b)?$/i.exec(value.trim())
  if (!match) throw new Error(`not a size: ${value}`)
  const unit = (match[2] ?? 'b').toLowerCase()[0]
  const factor = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1
  return Math.round(Number(match[1]) * factor)
}
