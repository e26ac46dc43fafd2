/**
 * Unpacks an image into the store from inside the user's user namespace (image-unpack.ts), where
 * the user is root and the subordinate ids exist: the files get the owners the layers give them,
 * as the namespace sees them, which is how every later service of that user sees them too.
 *   argv: the image record (JSON). stdout: the rootfs path. stderr: a DevenvError as JSON.
 */
import { isDevenvError } from '../../errors.js'
import { ensureRootfs, type ImageRecord } from '../../images/index.js'

try {
  const record = JSON.parse(process.argv[2] ?? '') as ImageRecord
  process.stdout.write(await ensureRootfs(record))
} catch (error) {
  const problem = isDevenvError(error)
    ? { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) }
    : { code: 'RUNTIME', message: error instanceof Error ? error.message : String(error) }
  process.stderr.write(JSON.stringify(problem))
  process.exitCode = 1
}
