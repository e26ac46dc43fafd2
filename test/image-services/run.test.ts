import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execa } from 'execa'
import { BIN, cleanSandboxes, sandbox } from '../cli/run-cli.js'
import { waitFor } from '../support/net.js'
import {
  CAN_RUN_IMAGES,
  HAVE_IMAGE_TOOLS,
  ImageProject,
  mountsUnder,
  processesOf,
  publish,
  startRegistry,
  type LocalRegistry,
} from './harness.js'

const REPORT = `#!/bin/sh
# Writes what the service sees, then serves it.
{
  echo "uid=$(id -u) gid=$(id -g)"
  echo "pwd=$(pwd)"
  echo "greeting=$GREETING"
  echo "extra=$EXTRA"
  echo "args=$*"
  echo "hostname=$(hostname)"
  echo "pid=$$"
  echo "init=$(cat /proc/1/cmdline | tr '\\0' ' ')"
  echo "host-home=$(ls /work 2>/dev/null | head -1)"
} > /out/report
exec sleep 1000
`

describe.skipIf(!HAVE_IMAGE_TOOLS || !CAN_RUN_IMAGES)('an image service on the bundled runtime', () => {
  let registry: LocalRegistry
  let home: string
  let image: string

  beforeAll(async () => {
    registry = await startRegistry()
    home = sandbox('devenv-image-home-')
    image = publish(registry, 'tools/report:1', {
      files: { 'bin/report.sh': REPORT, 'srv/app/.keep': '' },
      config: {
        entrypoint: ['/bin/report.sh'],
        cmd: ['from-cmd'],
        env: ['GREETING=hello from the image', 'PATH=/bin'],
        workdir: '/srv/app',
        user: 'app',
      },
    })
  }, 60_000)

  afterAll(async () => {
    await registry?.stop()
    cleanSandboxes()
  })

  it("honours the image's Entrypoint, Cmd, Env, WorkingDir and User, in namespaces of its own under tini", async () => {
    const project = new ImageProject(home)
    project.folder('out')
    project.write(
      `name: imgrun\nservices:\n  report:\n    image: ${image}\n    env: { EXTRA: from-envfile }\n    mounts:\n      - { source: ./out, target: /out }\n`,
    )
    try {
      const up = await project.run(['up', '--no-hosts'])
      expect(up.exitCode, up.stdout + up.stderr).toBe(0)
      // Whole: the script writes it line by line, and its last line is host-home.
      const report = await waitFor('the report', () => {
        const file = path.join(project.root, 'out/report')
        const text = existsSync(file) ? readFileSync(file, 'utf8') : ''
        return text.includes('host-home=') ? text : undefined
      })
      expect(report).toContain('uid=1000 gid=1000')
      expect(report).toContain('pwd=/srv/app')
      expect(report).toContain('greeting=hello from the image')
      expect(report).toContain('extra=from-envfile')
      expect(report).toContain('args=from-cmd')
      expect(report).toContain('hostname=report')
      // Its own PID namespace: tini is PID 1, the service its child (after the few the setup ran).
      expect(Number(/pid=(\d+)/.exec(report)?.[1])).toBeLessThan(100)
      expect(report).toMatch(/init=\/dev\/init -g -- \/bin\/report.sh from-cmd/)
      // Its own root: the host's folders are not there.
      expect(report).toContain('host-home=\n')

      const exec = await project.run([
        'exec',
        'report',
        '--',
        'sh',
        '-c',
        'echo "$GREETING $(id -u) $(cat /etc/hostname)"; cat /proc/1/cmdline',
      ])
      expect(exec.exitCode, exec.stderr).toBe(0)
      // The same namespaces as the service: its environment, user, hostname, and its PID 1.
      expect(exec.stdout).toMatch(/^hello from the image 1000 report\n\/dev\/init\0-g/)

      // shell: the image's own /bin/sh, in the same namespaces.
      const shell = await execa(BIN, ['shell', 'report'], {
        cwd: project.root,
        env: { DEVENV_HOME: home, SHELL: '/bin/bash' },
        input: 'echo "inside $(hostname) as $(id -u)"\n',
        reject: false,
        timeout: 30_000,
      })
      expect(shell.exitCode, shell.stderr).toBe(0)
      expect(shell.stdout).toContain('inside report as 1000')

      // Writes go to the service's own writable layer (an overlay's upper folder), never to the image.
      const write = await project.run(['exec', 'report', '--', 'sh', '-c', 'echo mine > /tmp/written'])
      expect(write.exitCode, write.stderr).toBe(0)
      const upper = path.join(project.root, '.devenv/services/report/data/rootfs')
      expect(readFileSync(path.join(upper, 'tmp/written'), 'utf8')).toBe('mine\n')
      const images = path.join(home, 'images/rootfs')
      const lower = path.join(images, readdirSync(images)[0]!)
      expect(existsSync(path.join(lower, 'tmp/written'))).toBe(false)
      expect(existsSync(path.join(lower, 'bin/report.sh'))).toBe(true)
    } finally {
      const down = await project.run(['down', '--no-hosts'])
      expect(down.exitCode, down.stderr).toBe(0)
    }
    expect(processesOf(project.root)).toEqual([])
    expect(mountsUnder(project.root)).toEqual([])
  })

  it('the envfile command replaces Cmd; stop reaches the service through init at once', async () => {
    const project = new ImageProject(home)
    project.folder('out')
    project.write(
      `name: imgcmd\nservices:\n  report:\n    image: ${image}\n    command: first "second word"\n    stop_timeout: 20s\n    mounts:\n      - { source: ./out, target: /out }\n`,
    )
    try {
      expect((await project.run(['up', '--no-hosts'])).exitCode).toBe(0)
      // Whole, as in the first test: the script writes it line by line, and its last line is host-home.
      const report = await waitFor('the report', () => {
        const file = path.join(project.root, 'out/report')
        const text = existsSync(file) ? readFileSync(file, 'utf8') : ''
        return text.includes('host-home=') ? text : undefined
      })
      expect(report).toContain('args=first second word')
      const started = Date.now()
      const stop = await project.run(['stop', 'report'])
      expect(stop.exitCode, stop.stderr).toBe(0)
      // A bare PID 1 ignores SIGTERM and would wait out the 20 s stop_timeout.
      expect(Date.now() - started).toBeLessThan(8_000)
    } finally {
      await project.run(['down', '--no-hosts'])
    }
    expect(processesOf(project.root)).toEqual([])
  })

  it('kill -9 of an image service is recovered as for any service, leaving no orphan behind', async () => {
    const project = new ImageProject(home)
    project.folder('out')
    project.write(
      `name: imgkill\nservices:\n  report:\n    image: ${image}\n    restart: always\n    mounts:\n      - { source: ./out, target: /out }\n`,
    )
    try {
      expect((await project.run(['up', '--no-hosts'])).exitCode).toBe(0)
      const first = project.state().services.report!.pid!
      await waitFor('the service to run', () => processesOf(project.root).length >= 3)
      const before = processesOf(project.root)
      process.kill(first, 'SIGKILL')
      const second = await waitFor(
        'a restart',
        () => {
          const pid = project.state().services.report?.pid
          return pid && pid !== first && project.state().services.report?.state === 'running' ? pid : undefined
        },
        20_000,
      )
      expect(second).not.toBe(first)
      // The killed run's tini and sleep went with it (--kill-child, then the PID namespace).
      await waitFor('the old run to be gone', () => before.every((pid) => !processesOf(project.root).includes(pid)))

      // rm and prune while it runs: its files stay, since a running service has them mounted.
      expect((await project.run(['image', 'rm', image])).exitCode).toBe(0)
      const kept = await project.run(['image', 'prune', '--json'])
      expect(JSON.parse(kept.stdout).result.rootfs).toBe(0)
      const still = await project.run(['exec', 'report', '--', 'cat', '/bin/report.sh'])
      expect(still.stdout).toContain('Writes what the service sees')
    } finally {
      await project.run(['down', '--no-hosts'])
    }
    expect(processesOf(project.root)).toEqual([])
    const freed = await project.run(['image', 'prune', '--json'])
    expect(JSON.parse(freed.stdout).result.rootfs).toBe(1)
  })
})

describe.skipIf(!HAVE_IMAGE_TOOLS || !CAN_RUN_IMAGES || !existsSync('/usr/sbin/debootstrap'))(
  'a Debian minbase image (debootstrap)',
  () => {
    let registry: LocalRegistry

    beforeAll(async () => {
      registry = await startRegistry()
    })

    afterAll(async () => {
      await registry?.stop()
    })

    it("runs as the image's own nobody, with Debian's files, its dynamic linker and coreutils", async () => {
      const image = publish(registry, 'debian/minbase:bookworm', {
        base: 'minbase',
        config: { cmd: ['sleep', 'infinity'], user: 'nobody', workdir: '/tmp' },
      })
      const project = new ImageProject(sandbox('devenv-image-debian-home-'))
      project.write(`name: debian\nservices:\n  deb:\n    image: ${image}\n`)
      try {
        const up = await project.run(['up', '--no-hosts'], 180_000)
        expect(up.exitCode, up.stdout + up.stderr).toBe(0)
        const seen = await project.run([
          'exec',
          'deb',
          '--',
          'sh',
          '-c',
          'id -un; cat /etc/debian_version; pwd; ls -ld / | cut -c1-10',
        ])
        expect(seen.exitCode, seen.stderr).toBe(0)
        const [user, version, folder, root] = seen.stdout.trim().split('\n')
        expect(user).toBe('nobody')
        expect(version).toMatch(/^12\./)
        expect(folder).toBe('/tmp')
        expect(root).toBe('drwxr-xr-x')
      } finally {
        await project.run(['down', '--no-hosts'])
      }
      expect(processesOf(project.root)).toEqual([])
    }, 300_000)
  },
)
