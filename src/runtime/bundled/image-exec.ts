import path from 'node:path'

// How `devenv exec` and `shell` enter a running image service, apart from image-service.ts so that
// the CLI's way to a service (exec-context.ts, on every `status` and `down`) loads no image code.

/** What `devenv exec` and `shell` need to enter a running image service: kept in its run folder. */
export interface ImageExecInfo {
  env: Record<string, string>
  uid: number
  gid: number
  /** It runs in a user namespace of the user's (without root): exec enters that too. */
  userNamespace?: boolean
}

export function imageExecFile(runDir: string): string {
  return path.join(runDir, 'image-exec.json')
}

/**
 * nsenter into every namespace of a running image service (its user namespace too, without
 * root: the user owns it, so may enter it), on its root, as the image's user. Where only root
 * exists inside (a user namespace without subordinate ids), setgroups is forbidden: the ids stay 0.
 */
export function enterImage(target: string, info: ImageExecInfo | undefined): string[] {
  const ids = info && !(info.userNamespace && info.uid === 0 && info.gid === 0)
  return [
    'nsenter',
    `--target=${target}`,
    ...(info?.userNamespace ? ['--user', '--preserve-credentials'] : []),
    '--mount',
    '--uts',
    '--ipc',
    '--net',
    '--pid',
    '--root',
    '--wd',
    ...(ids ? [`--setuid=${info.uid}`, `--setgid=${info.gid}`] : []),
    '--',
  ]
}
