import { DevenvError } from '../errors.js'

/**
 * Snapshot names become folder names: letters, digits, '-', '_' and '.', starting with a letter
 * or digit, so that no name can be '..', hidden, or reach outside its folder.
 */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/

export function validateSnapshotName(name: string): string {
  if (!NAME.test(name)) {
    throw new DevenvError('USAGE', `invalid snapshot name "${name}"`, {
      hint: 'Use letters, digits, "-", "_" and ".", starting with a letter or digit, at most 100 characters.',
    })
  }
  return name
}

/** Service names are DNS labels already; checked again because they become folder names here. */
export function validateServiceName(service: string): string {
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(service)) {
    throw new DevenvError('USAGE', `invalid service name "${service}"`)
  }
  return service
}

/** "2024-05-01T10-30-05-123Z": sorts by time, readable, valid as a name. */
export function generatedSnapshotName(now = new Date()): string {
  return now.toISOString().replace(/[:.]/g, '-')
}
