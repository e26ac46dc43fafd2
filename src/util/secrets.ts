const SECRET_KEY = /pass(word)?|secret|token|api[_-]?key|private/i

/** A deep copy with every secret-looking value (and passwords inside URLs) replaced by ****. */
export function maskSecrets<T>(value: T): T {
  return mask(value, '') as T
}

function mask(value: unknown, key: string): unknown {
  if (typeof value === 'string') {
    if (SECRET_KEY.test(key) && value !== '') return '****'
    return maskUrlPassword(value)
  }
  if (Array.isArray(value)) return value.map((item) => mask(item, key))
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([childKey, child]) => [childKey, mask(child, childKey)]))
  }
  return value
}

/** postgres://user:secret@host → postgres://user:****@host */
export function maskUrlPassword(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/[^:/@\s]+):([^@\s]+)@/gi, '$1:****@')
}
