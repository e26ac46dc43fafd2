import type { IncomingMessage } from 'node:http'

export interface Validators {
  etag: string
  /** Modification time, in whole seconds as HTTP dates carry them. */
  modifiedSeconds: number
}

/** True when the client's copy is current (If-None-Match wins over If-Modified-Since). */
export function isNotModified(request: IncomingMessage, validators: Validators): boolean {
  const noneMatch = request.headers['if-none-match']
  if (noneMatch !== undefined) {
    return noneMatch
      .split(',')
      .map((tag) => tag.trim())
      .some((tag) => tag === '*' || stripWeak(tag) === validators.etag)
  }
  const since = Date.parse(request.headers['if-modified-since'] ?? '')
  return !Number.isNaN(since) && validators.modifiedSeconds <= Math.floor(since / 1000)
}

export type ByteRange = { start: number; end: number }

/**
 * The one byte range to send, 'unsatisfiable', or undefined to send the whole file: when there
 * is no Range, when If-Range no longer matches, or for what we do not serve (several ranges,
 * other units, bad syntax), which the RFC lets a server answer with the full content.
 */
export function requestedRange(request: IncomingMessage, size: number, validators: Validators): ByteRange | 'unsatisfiable' | undefined {
  const header = request.headers.range
  if (header === undefined) return undefined
  const ifRange = [request.headers['if-range']].flat()[0]
  if (ifRange !== undefined && !ifRangeMatches(ifRange, validators)) return undefined
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (!match || (match[1] === '' && match[2] === '')) return undefined
  const [, first, last] = match as unknown as [string, string, string]
  let start: number
  let end: number
  if (first === '') {
    const suffix = Number(last)
    if (suffix === 0) return 'unsatisfiable'
    start = Math.max(0, size - suffix)
    end = size - 1
  } else {
    start = Number(first)
    end = last === '' ? size - 1 : Math.min(Number(last), size - 1)
    if (last !== '' && Number(last) < start) return undefined
  }
  if (start >= size || size === 0) return 'unsatisfiable'
  return { start, end }
}

function ifRangeMatches(value: string, validators: Validators): boolean {
  const trimmed = value.trim()
  // Ranges need a strong match: a weak tag never allows one.
  if (trimmed.startsWith('"')) return trimmed === validators.etag
  if (trimmed.startsWith('W/')) return false
  const date = Date.parse(trimmed)
  return !Number.isNaN(date) && validators.modifiedSeconds === Math.floor(date / 1000)
}

function stripWeak(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag
}
