import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { DevenvError, type ErrorCode } from '../../errors.js'
import { ensureRootfs, rootfsPath, type ImageRecord } from '../../images/index.js'
import type { UserNamespacePlan } from '../../util/user-namespace.js'

/**
 * The image's files in the store. As root they are unpacked here; without root, in a user
 * namespace with the same ids as the services' (unpack-main.ts), so a file the layer gives to
 * uid 1000 belongs to the subordinate id that is 1000 inside, and every project of this user
 * sees the same owners.
 */
export async function imageRootfs(record: ImageRecord, plan: UserNamespacePlan | undefined): Promise<string> {
  if (!plan) return ensureRootfs(record)
  const target = rootfsPath(record.manifestDigest)
  if (existsSync(target)) return target
  const main = fileURLToPath(new URL('./unpack-main.js', import.meta.url))
  return new Promise((resolve, reject) => {
    execFile(
      'unshare',
      [...plan.unshareArgs, '--', process.execPath, main, JSON.stringify(record)],
      { maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout.trim())
        let problem: { code?: string; message?: string; hint?: string } = {}
        try {
          problem = JSON.parse(stderr) as typeof problem
        } catch {
          problem = { message: stderr.trim() || error.message }
        }
        reject(
          new DevenvError(
            (problem.code ?? 'RUNTIME') as ErrorCode,
            problem.message ?? `cannot unpack ${record.name}`,
            problem.hint ? { hint: problem.hint } : {},
          ),
        )
      },
    )
  })
}
