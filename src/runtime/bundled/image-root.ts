import type { MountSpec } from '../../envfile/index.js'
import { UNPACK_WHITEOUTS } from './whiteouts.js'

/**
 * How an image service's process tree is made, as a shell script run by `unshare --mount --pid
 * --net --uts --ipc --fork --kill-child` (so PID 1 of the new PID namespace is this script, then init):
 * the image's files are the lower layer of an overlay whose upper layer is the service's own
 * (a copy of the image where overlayfs cannot be mounted), with its own /proc, a /dev of a few
 * device nodes bound from the host, /etc/hosts and /etc/hostname from devenv, the envfile's
 * mounts bound in, and tini (Debian's static build) bound in read-only as PID 1 to forward
 * signals and reap orphans. Everything mounted lives in the service's private mount namespace
 * and goes with its last process.
 */
const SCRIPT = `
set -e
image_path=$PATH
PATH=/usr/sbin:/usr/bin:/sbin:/bin
lower=$1 upper=$2 work=$3 root=$4 name=$5 init=$6 uid=$7 gid=$8 wd=$9; shift 9
hosts=$1 overlay_options=$2; shift 2
# In a user namespace (without root) overlayfs keeps its opaque marks in user.* xattrs, not trusted.*.
opaque=trusted.overlay.opaque
case "$overlay_options" in *userxattr*) opaque=user.overlay.opaque ;; esac
mkdir -p "$upper" "$work" "$root"
${UNPACK_WHITEOUTS}
if ! mount -t overlay devenv-image -o "lowerdir=$lower,upperdir=$upper,workdir=$work$overlay_options" "$root" 2>/dev/null; then
  if [ ! -e "$upper/.devenv-copy" ]; then cp -a "$lower/." "$upper/"; : > "$upper/.devenv-copy"; fi
  mount --bind "$upper" "$root"
fi
mkdir -p "$root/proc" "$root/dev" "$root/sys" "$root/tmp" "$root/etc"
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount -t tmpfs -o nosuid,mode=755,size=1m devenv-dev "$root/dev"
for node in null zero full random urandom tty; do : > "$root/dev/$node"; mount --bind "/dev/$node" "$root/dev/$node"; done
mkdir -p "$root/dev/pts" "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$root/dev/pts" 2>/dev/null || true
[ -e "$root/dev/pts/ptmx" ] && ln -s pts/ptmx "$root/dev/ptmx"
mount -t tmpfs -o nosuid,nodev,mode=1777 shm "$root/dev/shm"
ln -s /proc/self/fd "$root/dev/fd"; ln -s fd/0 "$root/dev/stdin"; ln -s fd/1 "$root/dev/stdout"; ln -s fd/2 "$root/dev/stderr"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys" 2>/dev/null || true
for file in hosts hostname; do [ -L "$root/etc/$file" ] && rm -f "$root/etc/$file"; [ -e "$root/etc/$file" ] || : > "$root/etc/$file"; done
mount --bind -o ro "$hosts" "$root/etc/hosts"
printf '%s\\n' "$name" > "$(dirname "$hosts")/hostname"
mount --bind -o ro "$(dirname "$hosts")/hostname" "$root/etc/hostname"
: > "$root/dev/init"; mount --bind -o ro "$init" "$root/dev/init"
hostname "$name"
while [ "$1" != "--" ]; do
  source=$1; target=$2; mode=$3; shift 3
  mkdir -p "$root$target"
  mount --bind "$source" "$root$target"
  if [ "$mode" = ro ]; then mount -o remount,bind,ro "$root$target"; fi
done
shift
mkdir -p "$root$wd"
# The network: devenv puts the other end of eth0 in the service's gateway (netns.ts).
ip link set lo up
tries=0
until ip link show eth0 >/dev/null 2>&1; do
  tries=$((tries + 1)); [ $tries -lt 500 ] || { echo "devenv: the service's network was not made" >&2; exit 1; }
  sleep 0.01
done
ip addr add 10.250.0.2/30 dev eth0
ip link set eth0 up
ip route add default via 10.250.0.1
unshare=$(command -v unshare)
# A user namespace that maps only the user (no newuidmap) forbids setgroups: there, only root exists to be.
ids="--setgid=$gid --setuid=$uid"
[ "$(cat /proc/self/setgroups 2>/dev/null)" = deny ] && ids=
PATH=$image_path exec "$unshare" --root="$root" --wd="$wd" $ids -- /dev/init -g -- "$@"
`

export const TINI = '/usr/bin/tini-static'

export interface ImageRootPlan {
  lower: string
  upper: string
  work: string
  root: string
  hostname: string
  uid: number
  gid: number
  workdir: string
  hostsFile: string
  mounts: readonly MountSpec[]
  argv: string[]
  /** unshare's options for the user namespace it runs in without root (util/user-namespace.ts). */
  userNamespace?: string[]
}

/** The command and arguments that run `plan.argv` in the image's root, in namespaces of its own. */
export function imageRootCommand(plan: ImageRootPlan): { command: string; args: string[] } {
  return {
    command: 'unshare',
    args: [
      ...(plan.userNamespace ?? []),
      '--mount',
      '--net',
      '--pid',
      '--uts',
      '--ipc',
      '--kill-child',
      '--propagation',
      'private',
      '--',
      '/bin/sh',
      '-c',
      SCRIPT,
      'devenv-image',
      plan.lower,
      plan.upper,
      plan.work,
      plan.root,
      plan.hostname,
      TINI,
      String(plan.uid),
      String(plan.gid),
      plan.workdir,
      plan.hostsFile,
      plan.userNamespace ? ',userxattr' : '',
      ...plan.mounts.flatMap((mount) => [mount.source, mount.target, mount.readonly ? 'ro' : 'rw']),
      '--',
      ...plan.argv,
    ],
  }
}
