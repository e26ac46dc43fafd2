import { execFileSync } from 'node:child_process'
import { lstatSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'

/**
 * overlayfs marks a deleted file of the image with a character device 0:0 in the writable
 * layer, and a folder deleted and made again with the xattr trusted.overlay.opaque. A stopped
 * service's layer keeps them as OCI whiteouts instead (`.wh.NAME` and `.wh..wh..opq`, empty
 * files), so snapshots, copies and commits deal in plain files; the start script turns them back
 * before it mounts the overlay (image-root.ts). Opaque folders need getfattr/setfattr (attr).
 */
export function packWhiteouts(upper: string, opaque: OpaqueXattr = 'trusted.overlay.opaque'): number {
  let packed = 0
  const visit = (folder: string): void => {
    let names: string[]
    try {
      names = readdirSync(folder)
    } catch {
      return
    }
    for (const name of names) {
      const file = path.join(folder, name)
      const stats = lstatSync(file, { throwIfNoEntry: false })
      if (!stats) continue
      if (stats.isDirectory()) visit(file)
      else if (stats.isCharacterDevice() && stats.rdev === 0) {
        try {
          unlinkSync(file)
          writeFileSync(path.join(folder, `.wh.${name}`), '', { mode: 0o600 })
          packed++
        } catch {
          // Without root, a folder owned by another id of the service's user namespace is not
          // writable from outside it: the device stays, and the next start mounts it as it is.
        }
      }
    }
  }
  visit(upper)
  return packed + packOpaqueFolders(upper, opaque)
}

/** trusted.* as root; in a user namespace overlayfs is mounted with userxattr and uses user.*. */
export type OpaqueXattr = 'trusted.overlay.opaque' | 'user.overlay.opaque'

function packOpaqueFolders(upper: string, opaque: OpaqueXattr): number {
  let listing: string
  try {
    listing = execFileSync('getfattr', ['-R', '--absolute-names', '-n', opaque, upper], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
  } catch (error) {
    // Exit 1 with output: some files lack the attribute, which is the usual case.
    listing = (error as { stdout?: string }).stdout ?? ''
  }
  let packed = 0
  for (const match of listing.matchAll(/^# file: (.+)\n(\S+)="y"$/gm)) {
    const folder = match[1]!
    if (match[2] !== opaque) continue
    try {
      writeFileSync(path.join(folder, '.wh..wh..opq'), '', { mode: 0o600 })
      execFileSync('setfattr', ['-x', opaque, folder], { stdio: 'ignore' })
      packed++
    } catch {
      // As above: a folder of another id, left as overlayfs marked it.
    }
  }
  return packed
}

/** The start script's part: `.wh.NAME` files back into overlayfs' devices. */
export const UNPACK_WHITEOUTS = `
find "$upper" -type f -name '.wh.*' ! -name '.wh..wh..opq' | while IFS= read -r marker; do
  hidden="$(dirname "$marker")/$(basename "$marker" | cut -c5-)"
  rm -rf "$hidden"; mknod "$hidden" c 0 0; rm -f "$marker"
done
find "$upper" -type f -name '.wh..wh..opq' | while IFS= read -r marker; do
  setfattr -n "$opaque" -v y "$(dirname "$marker")" && rm -f "$marker" || true
done
`
