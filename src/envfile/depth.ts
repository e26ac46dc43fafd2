import { Parser, type CST } from 'yaml'

/** Far deeper than any envfile needs, far shallower than what exhausts the parser's stack. */
export const MAX_NESTING = 64

/**
 * The offset of the first collection nested deeper than `limit`, or undefined. Walks yaml's
 * concrete syntax tree, which its parser builds without recursion, so a document nested
 * 20,000 levels deep is measured before the (recursive) composer ever sees it.
 */
export function tooDeepAt(source: string | readonly CST.Token[], limit = MAX_NESTING): number | undefined {
  const tokens = typeof source === 'string' ? new Parser().parse(source) : source
  const pending: Array<{ token: CST.Token | undefined; depth: number }> = []
  for (const token of tokens) pending.push({ token, depth: 0 })
  while (pending.length > 0) {
    const { token, depth } = pending.pop()!
    if (!token) continue
    switch (token.type) {
      case 'document':
        pending.push({ token: token.value, depth })
        break
      case 'block-map':
      case 'block-seq':
      case 'flow-collection': {
        if (depth + 1 > limit) return token.offset
        for (const item of token.items) {
          const entry = item as { key?: CST.Token | null; value?: CST.Token }
          if (entry.key) pending.push({ token: entry.key, depth: depth + 1 })
          pending.push({ token: entry.value, depth: depth + 1 })
        }
        break
      }
      default:
        break
    }
  }
  return undefined
}
