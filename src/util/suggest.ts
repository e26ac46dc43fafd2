import { closest, distance } from 'fastest-levenshtein'

/** The nearest candidate to `given`, if it is near enough to be a likely typo. */
export function nearest(given: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined
  const best = closest(given, [...candidates])
  const limit = Math.max(2, Math.floor(best.length / 3))
  return distance(given, best) <= limit ? best : undefined
}

export function didYouMean(given: string, candidates: readonly string[]): string {
  const best = nearest(given, candidates)
  return best ? ` (did you mean ${best}?)` : ''
}
