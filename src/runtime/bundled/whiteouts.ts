import { lstatSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'

/**
 * overlayfs marks a deleted file of the image with a character device 0:0 in the writable
 * layer. A stopped service's layer keeps them as OCI whiteouts instead (`.wh.NAME`, an empty
 * file), so snapshots, copies and commits deal in plain files; the start script turns them back
 * into devices before it mounts the overlay (image-root.ts).
 */
export function packWhiteouts(upper: string): number {
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
        unlinkSync(file)
        writeFileSync(path.join(folder, `.wh.${name}`), '', { mode: 0o600 })
        packed++
      }
    }
  }
  visit(upper)
  return packed
}

/** The start script's part: `.wh.NAME` files back into overlayfs' devices. */
export const UNPACK_WHITEOUTS = `
find "$upper" -type f -name '.wh.*' ! -name '.wh..wh..opq' | while IFS= read -r marker; do
  hidden="$(dirname "$marker")/$(basename "$marker" | cut -c5-)"
  rm -rf "$hidden"; mknod "$hidden" c 0 0; rm -f "$marker"
done
`
