import { mkdirSync, mkdtempSync, rmSync, symlinkSync, copyFileSync, chmodSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { execa } from 'execa'

export const BUSYBOX_IMAGE = 'devenvtest/busybox:1'
const APPLETS = [
  'sh',
  'cat',
  'echo',
  'httpd',
  'wget',
  'nslookup',
  'sleep',
  'test',
  'touch',
  'ls',
  'rm',
  'mkdir',
  'date',
  'env',
  'hostname',
  'kill',
  'ps',
  'nc',
  'true',
  'false',
]

/**
 * A base image with no registry: Debian's busybox-static and its applets in a root filesystem,
 * `docker import`ed. Tests build their Dockerfiles FROM it and never pull.
 */
export async function ensureBusyboxImage(): Promise<string> {
  const present = await execa('docker', ['image', 'inspect', BUSYBOX_IMAGE], { reject: false })
  if (present.exitCode === 0) return BUSYBOX_IMAGE
  const root = mkdtempSync(path.join(tmpdir(), 'devenvtest-busybox-'))
  try {
    for (const folder of ['bin', 'etc', 'tmp', 'www']) mkdirSync(path.join(root, folder))
    chmodSync(path.join(root, 'tmp'), 0o1777)
    copyFileSync('/usr/bin/busybox', path.join(root, 'bin', 'busybox'))
    chmodSync(path.join(root, 'bin', 'busybox'), 0o755)
    for (const applet of APPLETS) symlinkSync('busybox', path.join(root, 'bin', applet))
    writeFileSync(
      path.join(root, 'etc', 'passwd'),
      'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n',
    )
    writeFileSync(path.join(root, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n')
    const archive = path.join(root, '..', `${path.basename(root)}.tar`)
    await execa('tar', ['-C', root, '-cf', archive, '.'])
    await execa('docker', [
      'import',
      '--change',
      'ENV PATH=/bin',
      '--change',
      'CMD ["/bin/sh"]',
      archive,
      BUSYBOX_IMAGE,
    ])
    rmSync(archive, { force: true })
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
  return BUSYBOX_IMAGE
}

/** Objects on the engine that carry devenv's label for this project folder. */
export async function labelledObjects(root: string): Promise<{ containers: string[]; networks: string[] }> {
  const filter = `label=dev.devenv.project=${root}`
  const containers = await execa('docker', ['ps', '-aq', '--filter', filter])
  const networks = await execa('docker', ['network', 'ls', '-q', '--filter', filter])
  return {
    containers: containers.stdout.split('\n').filter(Boolean),
    networks: networks.stdout.split('\n').filter(Boolean),
  }
}
