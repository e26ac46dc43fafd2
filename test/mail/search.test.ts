import { describe, expect, it } from 'vitest'
import { matcher, splitArguments } from '../../src/boxes/mail/search.js'
import { SUMMARY_VERSION, type StoredSummary } from '../../src/boxes/mail/summary.js'

// Mailpit's search terms on stored summaries (the search the API, the page and `mail list --search` share).
function summary(fields: Partial<StoredSummary>): StoredSummary {
  return {
    version: SUMMARY_VERSION,
    id: '1',
    messageId: 'abc@example.test',
    from: { Name: 'App', Address: 'app@example.test' },
    to: [{ Name: '', Address: '3pg@example.test' }],
    cc: [],
    bcc: [],
    replyTo: [],
    subject: 'Welcome aboard',
    date: '2025-01-12T10:00:00.000Z',
    receivedAt: '2025-01-12T10:00:00.000Z',
    size: 2048,
    attachments: 0,
    snippet: '',
    read: false,
    searchText: 'app app@example.test welcome aboard 3pg@example.test your code is 4711',
    envelope: { from: 'app@example.test', to: ['3pg@example.test'] },
    ...fields,
  }
}

const matches = (query: string, fields: Partial<StoredSummary> = {}): boolean => matcher(query)(summary(fields))

describe('mail search', () => {
  it('splits on spaces outside quotes, dropping the quotes', () => {
    expect(splitArguments('from:app  subject:"Welcome aboard" -is:read')).toEqual([
      'from:app',
      'subject:Welcome aboard',
      '-is:read',
    ])
  })

  it('field terms match part of the field, ignoring case; every term must match', () => {
    expect(matches('from:APP@example')).toBe(true)
    expect(matches('from:app to:3pg')).toBe(true)
    expect(matches('from:app to:ops')).toBe(false)
    expect(matches('subject:"welcome aboard"')).toBe(true)
    expect(matches('message-id:abc@')).toBe(true)
    expect(matches('addressed:3pg')).toBe(true)
    expect(matches('cc:3pg')).toBe(false)
  })

  it('exclusions, read state, attachments, sizes and dates', () => {
    expect(matches('-from:app')).toBe(false)
    expect(matches('!subject:nothing')).toBe(true)
    expect(matches('is:unread')).toBe(true)
    expect(matches('is:read', { read: true })).toBe(true)
    expect(matches('has:attachment')).toBe(false)
    expect(matches('has:attachments', { attachments: 2 })).toBe(true)
    expect(matches('larger:1kb')).toBe(true)
    expect(matches('smaller:1k')).toBe(false)
    expect(matches('larger:1MB')).toBe(false)
    expect(matches('after:2025-01-01')).toBe(true)
    expect(matches('before:2025-01-01')).toBe(false)
    // a date that does not parse is ignored, as Mailpit ignores it
    expect(matches('after:someday')).toBe(true)
  })

  it('plain words match the search text; tags match nothing', () => {
    expect(matches('4711')).toBe(true)
    expect(matches('"code is 4711"')).toBe(true)
    expect(matches('4712')).toBe(false)
    expect(matches('tag:important')).toBe(false)
    expect(matches('-is:tagged')).toBe(true)
    expect(matches('')).toBe(true)
  })
})
