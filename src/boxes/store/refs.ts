import { DevenvError } from '../../errors.js'
import { isBuiltinBox } from '../../envfile/index.js'

export interface CommittedRef {
  name: string
  tag: string
}

export const DEFAULT_TAG = 'latest'

/** Box names and tags become folder names in the store, so they are held to a strict alphabet. */
const NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/
const TAG = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/

export function isValidBoxName(name: string): boolean {
  return NAME.test(name)
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag)
}

/** "NAME[:TAG]" → ref; the tag defaults to latest. Built-in box names are reserved. */
export function parseCommittedRef(text: string): CommittedRef {
  const [name = '', tag = DEFAULT_TAG, ...rest] = text.split(':')
  if (rest.length || !isValidBoxName(name) || !isValidTag(tag)) {
    throw new DevenvError('USAGE', `invalid box reference "${text}"`, {
      hint: 'Write NAME or NAME:TAG: a name of lowercase letters, digits, ".", "_" and "-" (starting with a letter or digit), a tag of letters, digits, ".", "_" and "-".',
    })
  }
  if (isBuiltinBox(name)) {
    throw new DevenvError('USAGE', `"${name}" is a built-in box; a committed box needs a name of its own`, { hint: `For example: ${name}-seeded:${tag}.` })
  }
  return { name, tag }
}

export function formatRef(ref: CommittedRef): string {
  return `${ref.name}:${ref.tag}`
}
