import { execFileSync } from 'node:child_process'
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

/**
 * Test images made with umoci from Debian's busybox-static, pushed to a local registry with
 * skopeo. An OCI layout is made per call in a temp folder; nothing is fetched from outside.
 */
export interface ImageRecipe {
  /** What the first layer starts from: busybox-static (the default) or a Debian minbase. */
  base?: 'busybox' | 'minbase'
  /** Files added to the first layer over busybox: path → content (or a symlink target with `link:` prefix). */
  files?: Record<string, string>
  /** Owners given to paths of the first layer (after `files`): path → "uid:gid". */
  owners?: Record<string, string>
  /** A second layer's changes: files to add, paths to delete (a whiteout). */
  secondLayer?: { files?: Record<string, string>; remove?: string[] }
  config?: { entrypoint?: string[]; cmd?: string[]; env?: string[]; workdir?: string; user?: string; ports?: string[] }
}

function run(tool: string, args: string[]): string {
  return execFileSync(tool, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

function writeFiles(rootfs: string, files: Record<string, string>): void {
  for (const [file, content] of Object.entries(files)) {
    const target = path.join(rootfs, file)
    mkdirSync(path.dirname(target), { recursive: true })
    rmSync(target, { force: true })
    if (content.startsWith('link:')) symlinkSync(content.slice(5), target)
    else writeFileSync(target, content)
    if (file.startsWith('bin/') || file.endsWith('.sh')) chmodSync(target, 0o755)
  }
}

/** A busybox rootfs: /bin/busybox and its applets as links, /etc/passwd with root and nobody. */
function busyboxRootfs(rootfs: string): void {
  mkdirSync(path.join(rootfs, 'bin'), { recursive: true })
  for (const folder of ['etc', 'tmp', 'root', 'home/app', 'var', 'proc', 'dev', 'sys'])
    mkdirSync(path.join(rootfs, folder), { recursive: true })
  chmodSync(path.join(rootfs, 'tmp'), 0o1777)
  copyFileSync('/bin/busybox', path.join(rootfs, 'bin', 'busybox'))
  chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755)
  for (const applet of [
    'sh',
    'ls',
    'cat',
    'echo',
    'sleep',
    'id',
    'env',
    'pwd',
    'httpd',
    'nc',
    'wget',
    'hostname',
    'ps',
    'kill',
    'mkdir',
    'rm',
    'touch',
    'test',
    'grep',
    'head',
    'dd',
    'seq',
    'true',
    'false',
    'tail',
  ])
    symlinkSync('busybox', path.join(rootfs, 'bin', applet))
  writeFileSync(
    path.join(rootfs, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n',
  )
  writeFileSync(path.join(rootfs, 'etc', 'group'), 'root:x:0:\napp:x:1000:\nnogroup:x:65534:\n')
}

/**
 * A Debian bookworm minbase (debootstrap), made once and cached where the next run finds it: it
 * takes a minute or two and fetches Debian packages.
 */
export const MINBASE_CACHE = process.env.DEVENV_TEST_MINBASE ?? '/var/cache/devenv-test-fixtures/minbase'

export function minbaseRootfs(): string {
  if (!existsSync(path.join(MINBASE_CACHE, 'etc/debian_version'))) {
    const partial = `${MINBASE_CACHE}.partial`
    rmSync(partial, { recursive: true, force: true })
    mkdirSync(path.dirname(MINBASE_CACHE), { recursive: true })
    execFileSync('debootstrap', ['--variant=minbase', 'bookworm', partial, 'http://deb.debian.org/debian'], {
      stdio: 'ignore',
    })
    // What slim images leave out too: the downloaded packages, package lists, docs, man pages, locales.
    for (const folder of [
      'var/cache/apt/archives',
      'var/lib/apt/lists',
      'usr/share/doc',
      'usr/share/man',
      'usr/share/locale',
    ])
      execFileSync('sh', ['-c', `rm -rf "${partial}/${folder}"/*`])
    renameSync(partial, MINBASE_CACHE)
  }
  return MINBASE_CACHE
}

/** Builds an image from a recipe into an OCI layout; returns the layout folder (tag "t"). */
export function buildImage(recipe: ImageRecipe = {}): string {
  const work = mkdtempSync(path.join(tmpdir(), 'devenv-image-build-'))
  const layout = path.join(work, 'layout')
  const bundle = path.join(work, 'bundle')
  run('umoci', ['init', '--layout', layout])
  run('umoci', ['new', '--image', `${layout}:t`])
  run('umoci', ['unpack', '--image', `${layout}:t`, bundle])
  const rootfs = path.join(bundle, 'rootfs')
  // cp -a: the minbase has device files in /dev, which a layer carries as such.
  if (recipe.base === 'minbase') execFileSync('cp', ['-a', `${minbaseRootfs()}/.`, rootfs])
  else busyboxRootfs(rootfs)
  writeFiles(rootfs, recipe.files ?? {})
  for (const [file, owner] of Object.entries(recipe.owners ?? {})) run('chown', ['-h', owner, path.join(rootfs, file)])
  // --refresh-bundle: the next repack is a layer over this one, not over the empty image.
  run('umoci', ['repack', '--refresh-bundle', '--image', `${layout}:t`, bundle])
  if (recipe.secondLayer) {
    for (const file of recipe.secondLayer.remove ?? [])
      rmSync(path.join(rootfs, file), { recursive: true, force: true })
    writeFiles(rootfs, recipe.secondLayer.files ?? {})
    run('umoci', ['repack', '--image', `${layout}:t`, bundle])
  }
  const config = recipe.config ?? {}
  const args: string[] = ['config', '--image', `${layout}:t`, '--os', 'linux', '--architecture', 'amd64']
  if (config.entrypoint) for (const part of config.entrypoint) args.push('--config.entrypoint', part)
  if (config.cmd) for (const part of config.cmd) args.push('--config.cmd', part)
  for (const variable of config.env ?? []) args.push('--config.env', variable)
  if (config.workdir) args.push('--config.workingdir', config.workdir)
  if (config.user) args.push('--config.user', config.user)
  for (const port of config.ports ?? []) args.push('--config.exposedports', port)
  run('umoci', args)
  rmSync(bundle, { recursive: true, force: true })
  return layout
}

/** Pushes tag "t" of a layout to the registry as repository:tag. */
export function pushImage(layout: string, registry: string, name: string): void {
  run('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:t`, `docker://${registry}/${name}`])
}

export function removeLayout(layout: string): void {
  rmSync(path.dirname(layout), { recursive: true, force: true })
}
