import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { DevenvError, type ErrorCode } from '../../errors.js'
import { ensureRootfs, imagesRoot, rootfsPath, type ImageOwners, type ImageRecord } from '../../images/index.js'
import { writeFileAtomic } from '../../state/index.js'
import type { UserNamespacePlan } from '../../util/user-namespace.js'
import { withoutExtraCaCerts } from '../../util/node-start-env.js'

/**
 * The image's files in the store. As root they are unpacked here; without root, in a user
 * namespace with the same ids as the services' (unpack-main.ts), so a file the layer gives to
 * uid 1000 belongs to the subordinate id that is 1000 inside, and every project of this user
 * sees the same owners.
 */
export async function imageRootfs(
  record: ImageRecord,
  plan: UserNamespacePlan | undefined,
  owners: ImageOwners,
): Promise<string> {
  if (!plan) return ensureRootfs(record)
  const target = rootfsPath(record.manifestDigest)
  // Beside the owners imageOwners noted (rootfs/ holds unpacked images only: prune sweeps it).
  const mapsFile = path.join(imagesRoot(), 'owners', `${path.basename(target)}.maps`)
  if (existsSync(target)) {
    checkSameMaps(record, readFileSafe(mapsFile), plan, owners)
    return target
  }
  const unpacked = await unpackInside(record, plan)
  writeFileAtomic(mapsFile, mapsOf(plan))
  return unpacked
}

function mapsOf(plan: UserNamespacePlan): string {
  return plan.unshareArgs.join(' ')
}

function readFileSafe(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

/**
 * Files unpacked under other id maps (the user's range in /etc/subuid changed since) would show
 * as nobody's now: refused, saying how to have them unpacked again. Only root's files (the user's
 * own, outside) look the same under any maps.
 */
function checkSameMaps(
  record: ImageRecord,
  made: string | undefined,
  plan: UserNamespacePlan,
  owners: ImageOwners,
): void {
  const onlyRoot = owners.uids.every((id) => id === 0) && owners.gids.every((id) => id === 0)
  if (made === undefined || made === mapsOf(plan) || onlyRoot) return
  throw new DevenvError(
    'RUNTIME',
    `image ${record.name} was unpacked with other subordinate ids (${made}) than the user has now (${mapsOf(plan)}): its files' owners would be wrong`,
    {
      hint: `Remove ${rootfsPath(record.manifestDigest)} (as root: it holds files of the old ids); the next start unpacks it again.`,
    },
  )
}

function unpackInside(record: ImageRecord, plan: UserNamespacePlan): Promise<string> {
  const main = fileURLToPath(new URL('./unpack-main.js', import.meta.url))
  return new Promise((resolve, reject) => {
    execFile(
      'unshare',
      [...plan.unshareArgs, '--', process.execPath, main, JSON.stringify(record)],
      { maxBuffer: 1 << 20, env: withoutExtraCaCerts(process.env) },
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
