import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import type { Launch } from '../../boxes/index.js'
import type { MountSpec } from '../../envfile/index.js'
import { hostCapability } from './host-capabilities.js'

/**
 * Real bind mounts, without a container engine: the service runs in a mount namespace of its own,
 * chrooted into a tmpfs that holds every top-level folder of the host (bound, recursively) plus
 * each mount bound at its target. Nothing is created on the host outside the project's state.
 */
const SCRIPT = `
set -e
root=$1; froot=$2; mounts=$3; shift 3
mount -t tmpfs -o mode=755 devenv-root "$root"
links=; dirs=; files=
cd /
for entry in * .[!.]*; do
  if [ -L "$entry" ]; then links="$links $entry"
  elif [ -d "$entry" ]; then dirs="$dirs $entry"
  elif [ -e "$entry" ]; then files="$files $entry"
  fi
done
# One process for all links, one for all folders and one mount for every bind: each process spawned
# here delays the service (a mount per top-level folder cost ~40 ms; all of them from one fstab,
# ~15 ms). Top-level names have no spaces; $root and the mounts may, so devenv writes those fields
# already escaped for fstab ($froot, and the lines of the mounts).
[ -z "$links" ] || cp -P $links "$root/"
(cd "$root" && mkdir $dirs)
for entry in $files; do : > "$root/$entry"; done
while [ "$1" != "--" ]; do mkdir -p "$root$1"; shift; done
shift
fstab="$root/.devenv-fstab"
{
  for entry in $dirs; do printf '/%s %s/%s none rbind 0 0\n' "$entry" "$froot" "$entry"; done
  for entry in $files; do printf '/%s %s/%s none bind 0 0\n' "$entry" "$froot" "$entry"; done
  printf '%s' "$mounts"
} > "$fstab"
mount --all --fstab "$fstab"
rm "$fstab"
workdir=$1; shift
exec chroot "$root" /bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$workdir" "$@"
`

let supported: boolean | undefined

/** Can this process make mount namespaces (root on Linux, with util-linux's unshare)? */
export function mountNamespacesSupported(): boolean {
  if (supported !== undefined) return supported
  supported = false
  if (process.platform !== 'linux' || process.getuid?.() !== 0 || process.env.DEVENV_NO_MOUNT_NAMESPACE === '1')
    return supported
  supported = hostCapability('mount-namespaces', () => {
    try {
      execFileSync('unshare', ['--mount', '--propagation', 'private', '--fork', '--', '/bin/true'], {
        stdio: 'ignore',
        timeout: 5000,
      })
      return true
    } catch {
      return false
    }
  })
  return supported
}

/**
 * A mount can be made without touching the host only where its target's top-level folder does
 * not exist on the host (created in the tmpfs), or where the target itself already exists.
 */
export function mountableWithoutHostChanges(mount: MountSpec): boolean {
  const top = `/${mount.target.split('/').filter(Boolean)[0] ?? ''}`
  return top !== '/' && (!existsSync(top) || existsSync(mount.target))
}

/** Where the service's working folder is seen from inside (a folder of a mount: at its target). */
export function workdirInside(workdir: string, mounts: readonly MountSpec[]): string {
  for (const mount of mounts) {
    const relative = path.relative(mount.source, workdir)
    if (relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative)))
      return path.join(mount.target, relative)
  }
  return workdir
}

/** `launch`, run with the service's mounts bound at their targets; undefined where that cannot be done. */
export function inMountNamespace(launch: Launch, mounts: readonly MountSpec[], rootDir: string): Launch | undefined {
  if (mounts.length === 0 || launch.uid !== undefined || !mountNamespacesSupported()) return undefined
  if (!mounts.every(mountableWithoutHostChanges)) return undefined
  mkdirSync(rootDir, { recursive: true })
  const fstabLines = mounts
    .map(
      (mount) =>
        `${fstabField(mount.source)} ${fstabField(rootDir + mount.target)} none ${mount.readonly ? 'bind,ro' : 'bind'} 0 0\n`,
    )
    .join('')
  return {
    ...launch,
    command: 'unshare',
    args: [
      '--mount',
      '--propagation',
      'private',
      '--fork',
      '--',
      '/bin/sh',
      '-c',
      SCRIPT,
      'devenv-mounts',
      rootDir,
      fstabField(rootDir),
      fstabLines,
      ...mounts.map((mount) => mount.target),
      '--',
      workdirInside(launch.cwd, mounts),
      launch.command,
      ...launch.args,
    ],
  }
}

/** A path as an fstab field: util-linux reads back these octal escapes (and nothing else) of what would split or end it. */
function fstabField(value: string): string {
  return value.replace(/[\\ \t\n]/g, (character) => `\\${character.charCodeAt(0).toString(8).padStart(3, '0')}`)
}
