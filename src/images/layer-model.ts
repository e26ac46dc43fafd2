import path from 'node:path'
import { DevenvError } from '../errors.js'

/**
 * The merged tree an image's layers build, kept in memory so every entry is checked before
 * anything is written: a path is never written through a symbolic link, never leaves the root,
 * and a hard link points only at a file already in the tree. Whiteouts (`.wh.NAME`) remove an
 * entry of a lower layer; an opaque marker (`.wh..wh..opq`) empties a folder of lower layers'
 * entries, as the OCI image spec's layer changesets say.
 */
type NodeType = 'dir' | 'file' | 'symlink' | 'other'

interface TreeNode {
  type: NodeType
  /** The layer that last wrote it: whiteouts only remove what lower layers made. */
  layer: number
  children?: Map<string, TreeNode>
}

export type LayerAction =
  | { kind: 'remove'; path: string }
  | { kind: 'clear'; path: string; keep: string[] }
  | { kind: 'dir'; path: string }
  | { kind: 'file'; path: string }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'hardlink'; path: string; target: string }
  | { kind: 'skip'; path: string; why: string }

export interface LayerEntryHeader {
  name: string
  type: string
  linkname?: string | null
}

const WHITEOUT = '.wh.'
const OPAQUE = '.wh..wh..opq'

export function hostileLayer(layer: string, why: string): DevenvError {
  return new DevenvError('ARCHIVE', `refused image layer ${layer.slice(0, 19)}: ${why}`, {
    hint: 'The layer tries to write outside the image or through a link; nothing of the image was written.',
  })
}

/** A layer entry's path as plain components: "./a/b/" → "a/b"; "" is the root itself. Absolute paths and ".." are refused. */
export function entryPath(layer: string, name: string): string {
  if (name.includes('\0')) throw hostileLayer(layer, `an entry name holds a NUL byte`)
  if (name.startsWith('/')) throw hostileLayer(layer, `absolute path ${JSON.stringify(name)}`)
  const parts = name.split('/').filter((part) => part !== '' && part !== '.')
  if (parts.includes('..')) throw hostileLayer(layer, `path ${JSON.stringify(name)} climbs out with ".."`)
  if (parts.some((part) => Buffer.byteLength(part) > 255))
    throw hostileLayer(layer, `a name in ${JSON.stringify(name.slice(0, 80))} is longer than 255 bytes`)
  return parts.join('/')
}

export class LayerModel {
  private readonly root: TreeNode = { type: 'dir', layer: -1, children: new Map() }
  private layer = 0
  private layerName = ''
  entries = 0

  constructor(private readonly maxEntries = 2_000_000) {}

  startLayer(index: number, digest: string): void {
    this.layer = index
    this.layerName = digest
  }

  /** The folder node of `parts`, each component a folder (created as one if a layer left it out); a link on the way is refused. */
  private folder(parts: string[], entry: string, create: boolean): TreeNode | undefined {
    let node = this.root
    for (let index = 0; index < parts.length; index++) {
      const name = parts[index]!
      let child = node.children!.get(name)
      if (!child) {
        if (!create) return undefined
        child = { type: 'dir', layer: this.layer, children: new Map() }
        node.children!.set(name, child)
      }
      if (child.type === 'symlink')
        throw hostileLayer(
          this.layerName,
          `${entry} would be written through the symbolic link ${parts.slice(0, index + 1).join('/')}`,
        )
      if (child.type !== 'dir')
        throw hostileLayer(
          this.layerName,
          `${entry} needs ${parts.slice(0, index + 1).join('/')} to be a folder, and it is a file`,
        )
      node = child
    }
    return node
  }

  /** Checks one entry against the tree, updates the tree, and says what to do on disk. */
  apply(header: LayerEntryHeader): LayerAction[] {
    if (++this.entries > this.maxEntries) throw hostileLayer(this.layerName, `more than ${this.maxEntries} entries`)
    const relative = entryPath(this.layerName, header.name)
    if (!relative) return [{ kind: 'skip', path: '', why: 'the root itself' }]
    const parts = relative.split('/')
    const base = parts.pop()!
    const parent = this.folder(parts, relative, true)!
    if (base === OPAQUE) {
      const keep: string[] = []
      for (const [name, child] of parent.children!) {
        if (child.layer < this.layer) parent.children!.delete(name)
        else keep.push(name)
      }
      return [{ kind: 'clear', path: parts.join('/'), keep }]
    }
    if (base.startsWith(WHITEOUT)) {
      const hidden = base.slice(WHITEOUT.length)
      if (!hidden || hidden === '.' || hidden === '..')
        throw hostileLayer(this.layerName, `malformed whiteout ${relative}`)
      const existing = parent.children!.get(hidden)
      if (!existing || existing.layer >= this.layer) return []
      parent.children!.delete(hidden)
      return [{ kind: 'remove', path: [...parts, hidden].join('/') }]
    }
    const existing = parent.children!.get(base)
    const actions: LayerAction[] = []
    const replace = (type: NodeType, node?: Partial<TreeNode>): void => {
      if (existing && !(existing.type === 'dir' && type === 'dir')) actions.push({ kind: 'remove', path: relative })
      parent.children!.set(base, {
        type,
        layer: this.layer,
        ...(type === 'dir' ? { children: existing?.type === 'dir' ? existing.children : new Map() } : {}),
        ...node,
      })
    }
    switch (header.type) {
      case 'directory':
        replace('dir')
        actions.push({ kind: 'dir', path: relative })
        return actions
      case 'file':
      case 'contiguous-file':
        replace('file')
        actions.push({ kind: 'file', path: relative })
        return actions
      case 'symlink': {
        const target = header.linkname ?? ''
        if (!target) throw hostileLayer(this.layerName, `symbolic link ${relative} has no target`)
        // An absolute target means the image's own root; a relative one must not climb above it.
        if (!target.startsWith('/')) {
          const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(`/${relative}`), target))
          const climbs = path.posix.relative('/', resolved).startsWith('..') || climbsAbove(relative, target)
          if (climbs)
            throw hostileLayer(this.layerName, `symbolic link ${relative} points out of the image (${target})`)
        }
        replace('symlink')
        actions.push({ kind: 'symlink', path: relative, target })
        return actions
      }
      case 'link': {
        const target = entryPath(this.layerName, header.linkname ?? '')
        const targetParts = target.split('/')
        const targetBase = targetParts.pop()!
        const node = target ? this.folder(targetParts, relative, false)?.children?.get(targetBase) : undefined
        if (!node || node.type === 'dir' || node.type === 'symlink')
          throw hostileLayer(
            this.layerName,
            `hard link ${relative} points at ${header.linkname}, which is not a file of the image`,
          )
        if (target === relative) return []
        replace(node.type)
        actions.push({ kind: 'hardlink', path: relative, target })
        return actions
      }
      default:
        // Device files and pipes: a service gets its own /dev, so they are not made.
        return [{ kind: 'skip', path: relative, why: `${header.type} entries are not made` }]
    }
  }
}

/** True when a relative link target goes above the root at any step (a/../../x), even if it comes back. */
function climbsAbove(linkPath: string, target: string): boolean {
  let depth = linkPath.split('/').length - 1
  for (const part of target.split('/')) {
    if (part === '..') depth--
    else if (part !== '' && part !== '.') depth++
    if (depth < 0) return true
  }
  return false
}
