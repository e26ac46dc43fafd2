import { execFileSync } from 'node:child_process'
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import path from 'node:path'
import type { Launch } from '../../boxes/index.js'
import type { MountSpec } from '../../envfile/index.js'
import { hostCapability } from './host-capabilities.js'

/**
 * Real bind mounts, without a container engine: the service runs in a mount namespace of its own,
 * chrooted into a root that holds every top-level folder of the host (bound, recursively) plus
 * each mount bound at its target. The root is a skeleton in the service's state folder (the host's
 * top-level links, and empty folders and files to bind onto), made by devenv before the spawn and
 * bound read-only onto itself inside: setting it up in the namespace took five more processes (a
 * tmpfs, cp, mkdir, rm), ~7 ms of every start when idle and ~20 ms while a stack starts. Nothing is
 * created on the host outside the project's state.
 */
const SCRIPT = `
set -e
fstab=$1; root=$2; workdir=$3; shift 3
mount --all --fstab "$fstab"
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
  const { folders, files } = buildSkeleton(rootDir, mounts)
  const fstab = [
    `${fstabField(rootDir)} ${fstabField(rootDir)} none bind,ro 0 0\n`,
    ...folders.map((entry) => `/${fstabField(entry)} ${fstabField(path.join(rootDir, entry))} none rbind 0 0\n`),
    ...files.map((entry) => `/${fstabField(entry)} ${fstabField(path.join(rootDir, entry))} none bind 0 0\n`),
    ...mounts.map(
      (mount) =>
        `${fstabField(mount.source)} ${fstabField(rootDir + mount.target)} none ${mount.readonly ? 'bind,ro' : 'bind'} 0 0\n`,
    ),
  ].join('')
  const fstabFile = `${rootDir}.fstab`
  writeFileSync(fstabFile, fstab)
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
      fstabFile,
      rootDir,
      workdirInside(launch.cwd, mounts),
      launch.command,
      ...launch.args,
    ],
  }
}

/**
 * Makes `rootDir` hold what the root inside binds onto: the host's top-level links as they are, an
 * empty folder for each of its folders and an empty file for each of its files, and a folder at
 * each mount target the host lacks. Kept between starts; brought up to date with the host's / each time.
 */
function buildSkeleton(rootDir: string, mounts: readonly MountSpec[]): { folders: string[]; files: string[] } {
  mkdirSync(rootDir, { recursive: true, mode: 0o755 })
  const folders: string[] = []
  const files: string[] = []
  for (const entry of readdirSync('/', { withFileTypes: true })) {
    const inside = path.join(rootDir, entry.name)
    if (entry.isSymbolicLink()) {
      const target = readlinkSync(path.join('/', entry.name))
      if (readlinkOrUndefined(inside) === target) continue
      rmSync(inside, { recursive: true, force: true })
      symlinkSync(target, inside)
    } else if (entry.isDirectory()) {
      folders.push(entry.name)
      if (!isDirectory(inside)) {
        rmSync(inside, { recursive: true, force: true })
        mkdirSync(inside)
      }
    } else {
      files.push(entry.name)
      if (!existsSync(inside)) writeFileSync(inside, '')
    }
  }
  // A target under a host folder exists already (mountableWithoutHostChanges): the folder is bound over the skeleton's.
  for (const mount of mounts) {
    const top = mount.target.split('/').filter(Boolean)[0]!
    if (!folders.includes(top)) mkdirSync(rootDir + mount.target, { recursive: true })
  }
  return { folders, files }
}

function readlinkOrUndefined(file: string): string | undefined {
  try {
    return readlinkSync(file)
  } catch {
    return undefined
  }
}

function isDirectory(file: string): boolean {
  return lstatSync(file, { throwIfNoEntry: false })?.isDirectory() ?? false
}

/** A path as an fstab field: util-linux reads back these octal escapes (and nothing else) of what would split or end it. */
function fstabField(value: string): string {
  return value.replace(/[\\ \t\n]/g, (character) => `\\${character.charCodeAt(0).toString(8).padStart(3, '0')}`)
}
