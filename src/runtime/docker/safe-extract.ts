import { createWriteStream, lchownSync, mkdirSync, symlinkSync } from 'node:fs'
import path from 'node:path'
import type tarStream from 'tar-stream'
import { DevenvError } from '../../errors.js'

/**
 * Unpacks an engine's archive of a folder into `target`, refusing any entry that would be written
 * outside it (`..`, absolute names, links that point out): an image is input like any other.
 */
export async function extractInside(
  archive: NodeJS.ReadableStream,
  target: string,
  tar: typeof tarStream,
): Promise<void> {
  const extract = tar.extract()
  const asRoot = process.getuid?.() === 0
  await new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      // The engine names entries from the folder asked for: seed/, seed/kept.txt …
      const relative = path.posix.normalize(header.name.split('/').slice(1).join('/') || '.')
      const destination = path.join(target, relative)
      if (path.posix.isAbsolute(relative) || relative.startsWith('..') || !inside(target, destination)) {
        reject(new DevenvError('ARCHIVE', `the image's data holds ${header.name}, outside its folder: refused`))
        return
      }
      const own = (): void => {
        if (asRoot && header.uid !== undefined) lchownSync(destination, header.uid, header.gid ?? header.uid)
      }
      if (header.type === 'directory') {
        mkdirSync(destination, { recursive: true, mode: header.mode })
        own()
        stream.resume()
        stream.once('end', next)
      } else if (header.type === 'symlink' && header.linkname) {
        const resolved = path.resolve(path.dirname(destination), header.linkname)
        if (!inside(target, resolved)) {
          reject(
            new DevenvError(
              'ARCHIVE',
              `the image's data links ${header.name} to ${header.linkname}, outside its folder: refused`,
            ),
          )
          return
        }
        symlinkSync(header.linkname, destination)
        own()
        stream.resume()
        stream.once('end', next)
      } else if (header.type === 'file') {
        mkdirSync(path.dirname(destination), { recursive: true })
        const out = createWriteStream(destination, { mode: header.mode })
        stream.pipe(out)
        out.once('finish', () => {
          own()
          next()
        })
        out.once('error', reject)
      } else {
        stream.resume()
        stream.once('end', next)
      }
    })
    extract.once('finish', resolve)
    extract.once('error', reject)
    archive.pipe(extract)
  })
}

function inside(folder: string, candidate: string): boolean {
  return candidate === folder || candidate.startsWith(`${folder}${path.sep}`)
}
