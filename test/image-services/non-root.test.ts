import { execFileSync } from 'node:child_process'
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { STACK_LINE } from '../cli/run-cli.js'
import { waitFor } from '../support/net.js'
import { SubordinateUser, unprivilegedUserNamespaces, UserProject } from './as-user.js'
import { HAVE_IMAGE_TOOLS, processesOf, publish, relaysRunning, startRegistry, type LocalRegistry } from './harness.js'

const NOBODY = 65534
const NOGROUP = 65534
const SERVE = `#!/bin/sh
mkdir -p /tmp/www
echo "I am $(hostname), uid $(id -u)" > /tmp/www/index.html
exec httpd -f -p 0.0.0.0:8080 -h /tmp/www
`

const AS_ROOT_ON_LINUX = process.platform === 'linux' && process.getuid?.() === 0
const USERNS = AS_ROOT_ON_LINUX && unprivilegedUserNamespaces(NOBODY)
if (AS_ROOT_ON_LINUX && !USERNS)
  console.warn('skipped: this kernel refuses unprivileged user namespaces (rootless image services need them)')

function unpackedImages(home: string): string[] {
  try {
    return readdirSync(path.join(home, 'images', 'rootfs'))
  } catch {
    return []
  }
}

describe.skipIf(!HAVE_IMAGE_TOOLS || !USERNS)('image services without root, in user namespaces', () => {
  let registry: LocalRegistry
  let allRoot: string
  let owned: string
  const projects: UserProject[] = []
  const project = (uid = NOBODY, gid = NOGROUP): UserProject => {
    const made = new UserProject(uid, gid)
    projects.push(made)
    return made
  }

  beforeAll(async () => {
    registry = await startRegistry()
    allRoot = publish(registry, 'tools/web:1', {
      files: { 'bin/serve.sh': SERVE },
      config: { cmd: ['/bin/serve.sh'] },
    })
    owned = publish(registry, 'tools/app:1', {
      files: { 'bin/serve.sh': SERVE, 'home/app/mine': 'mine\n' },
      owners: { 'home/app': '1000:1000', 'home/app/mine': '1000:1000' },
      config: { cmd: ['/bin/serve.sh'], user: '1000' },
    })
  }, 90_000)

  afterAll(async () => {
    await registry?.stop()
    for (const made of projects) made.remove()
  })

  it('an all-root image with no subordinate ids: runs, answers at its address, exec enters it, down leaves nothing', async () => {
    const stack = project()
    stack.folder('site', { page: 'from the host\n' })
    stack.folder('out')
    stack.write(
      `name: rootless\nservices:\n  web:\n    image: ${allRoot}\n    ports: [8080]\n    health: { http: / }\n    restart: always\n    mounts:\n      - ./site:/site:ro\n      - ./out:/out\n`,
    )
    try {
      const up = await stack.run(['up', '--no-hosts'])
      expect(up.exitCode, up.stdout + up.stderr).toBe(0)
      const { web } = stack.state().services
      expect(web!.health).toBe('healthy')
      expect(await (await fetch(`http://${web!.address}:8080/`)).text()).toBe('I am web, uid 0\n')
      const inside = await stack.run(['exec', 'web', '--', 'sh', '-c', 'id -u; hostname; cat /proc/1/cmdline'])
      expect(inside.exitCode, inside.stderr).toBe(0)
      const [uid, hostname, init] = inside.stdout.split('\n')
      expect(uid).toBe('0')
      expect(hostname).toBe('web')
      expect(init).toContain('/dev/init')
      // The envfile's mounts are bound in (read-only where it says so), the user's files root's inside.
      const mounts = await stack.run([
        'exec',
        'web',
        '--',
        'sh',
        '-c',
        'cat /site/page; touch /out/made; touch /site/no',
      ])
      expect(mounts.stdout.trim()).toBe('from the host')
      expect(mounts.stderr).toMatch(/Read-only file system/)
      expect(lstatSync(path.join(stack.root, 'out', 'made')).uid).toBe(NOBODY)
      // shell opens the image's /bin/sh in the same namespaces.
      const shell = await stack.run(['shell', 'web'], 30_000, 'hostname; id -u; ls /proc | grep -c "^[0-9]"\n')
      expect(shell.exitCode, shell.stderr).toBe(0)
      const [shellHost, shellUid, processes] = shell.stdout.trim().split('\n')
      expect([shellHost, shellUid]).toEqual(['web', '0'])
      // Its own PID namespace: init, httpd, the shell and grep's pipeline, not the host's hundreds.
      expect(Number(processes)).toBeLessThan(10)
      const log = readFileSync(path.join(stack.root, '.devenv', 'logs', 'web.log'), 'utf8')
      expect(log).toContain('without root: in a user namespace where only root exists (user nobody has no range in')
      // Root inside is the user outside: the service's processes are nobody's on the host.
      expect(lstatSync(`/proc/${web!.pid}`).uid).toBe(NOBODY)
      // A deletion in the writable layer (an overlayfs whiteout, in user.* xattrs here) outlives a restart.
      expect((await stack.run(['exec', 'web', '--', 'rm', '/bin/false'])).exitCode).toBe(0)
      expect((await stack.run(['restart', 'web'])).exitCode).toBe(0)
      const gone = await stack.run(['exec', 'web', '--', 'ls', '/bin/false'])
      expect(gone.exitCode).not.toBe(0)
      // kill -9 of the service: restarted by its policy, the old run's processes gone with their namespace.
      const first = stack.state().services.web!.pid!
      const before = processesOf(stack.root)
      process.kill(first, 'SIGKILL')
      await waitFor(
        'a restart',
        () => {
          const now = stack.state().services.web
          return now?.pid && now.pid !== first && now.health === 'healthy' ? true : undefined
        },
        20_000,
      )
      await waitFor('the old run to be gone', () => before.every((pid) => !processesOf(stack.root).includes(pid)))
      expect(await (await fetch(`http://${web!.address}:8080/`)).text()).toBe('I am web, uid 0\n')
    } finally {
      const down = await stack.run(['down', '--no-hosts'])
      expect(down.exitCode, down.stderr).toBe(0)
    }
    expect(processesOf(stack.root)).toEqual([])
    expect(relaysRunning(stack.root)).toEqual([])
  })

  it('an image with files of another owner, without a subordinate range: refused before anything starts, saying why and the fix', async () => {
    const stack = project().write(`name: rootowned\nservices:\n  app:\n    image: ${owned}\n    ports: [8080]\n`)
    try {
      const up = await stack.run(['up', '--no-hosts'])
      expect(up.exitCode).toBe(1)
      expect(up.stderr).toContain(`service app: image ${owned} needs uid 1000 and gid 1000`)
      expect(up.stderr).toContain('/etc/subuid and /etc/subgid')
      expect(up.stderr).toMatch(/"nobody:100000:65536"/)
      expect(up.stderr).not.toMatch(STACK_LINE)
      expect(stack.state().services.app!.state).toBe('failed')
      expect(processesOf(stack.root)).toEqual([])
      // Refused before it was unpacked: nothing half-made in the store.
      expect(unpackedImages(stack.home)).toEqual([])
    } finally {
      await stack.run(['down', '--no-hosts'])
    }
  })

  it('with a subordinate range: that image runs as uid 1000, and the file it gives uid 1000 is 1000 inside', async () => {
    const user = new SubordinateUser()
    try {
      const stack = project(user.uid, user.gid).write(
        `name: subids\nservices:\n  app:\n    image: ${owned}\n    ports: [8080]\n    health: { http: / }\n`,
      )
      try {
        const up = await stack.run(['up', '--no-hosts'])
        expect(up.exitCode, up.stdout + up.stderr).toBe(0)
        const { app } = stack.state().services
        expect(await (await fetch(`http://${app!.address}:8080/`)).text()).toBe('I am app, uid 1000\n')
        const id = await stack.run(['exec', 'app', '--', 'id', '-u'])
        expect(id.stdout.trim(), id.stderr).toBe('1000')
        const owner = await stack.run(['exec', 'app', '--', 'ls', '-ln', '/home/app/mine'])
        expect(owner.stdout.split(/\s+/).slice(2, 4), owner.stderr).toEqual(['1000', '1000'])
        // Outside, it is the subordinate id that is 1000 inside.
        const stored = path.join(stack.home, 'images', 'rootfs', unpackedImages(stack.home)[0]!, 'home/app/mine')
        expect(lstatSync(stored).uid).toBe(user.start + 999)
        // The service writes as uid 1000: its writable layer holds a file of a subordinate id.
        expect((await stack.run(['exec', 'app', '--', 'touch', '/home/app/written'])).exitCode).toBe(0)
        // Committed, the layer says 1000 (the id inside), not the subordinate id outside.
        const commit = await stack.run(['commit', 'app', 'mine/app:2'])
        expect(commit.exitCode, commit.stdout + commit.stderr).toBe(0)
        stack.write(
          `name: subids\nservices:\n  app:\n    image: ${owned}\n    ports: [8080]\n    health: { http: / }\n  copy:\n    image: mine/app:2\n    ports: [8080]\n    health: { http: / }\n`,
        )
        const again = await stack.run(['up', '--no-hosts'])
        expect(again.exitCode, again.stdout + again.stderr).toBe(0)
        const copied = await stack.run(['exec', 'copy', '--', 'ls', '-ln', '/home/app/written'])
        expect(copied.stdout.split(/\s+/).slice(2, 4), copied.stderr).toEqual(['1000', '1000'])
        // A file only uid 1000 may read cannot be copied from outside the namespace: refused, saying so, nothing saved.
        await stack.run(['exec', 'app', '--', 'sh', '-c', 'echo s > /home/app/secret; chmod 600 /home/app/secret'])
        const snapshot = await stack.run(['snapshot', 'save', 'app', 'one'])
        expect(snapshot.exitCode).toBe(1)
        expect(snapshot.stderr).toContain('cannot copy rootfs/home/app/secret: only its owner')
        expect(snapshot.stderr).not.toMatch(STACK_LINE)
        expect((await stack.run(['snapshot', 'list', 'app'])).stdout).toContain('no snapshots of app')
        expect(stack.state().services.app!.state).toBe('running')
      } finally {
        const down = await stack.run(['down', '--no-hosts'])
        expect(down.exitCode, down.stderr).toBe(0)
      }
      expect(processesOf(stack.root)).toEqual([])
      expect(relaysRunning(stack.root)).toEqual([])
      // Another range since: the stored files' owners would be wrong; refused, saying how to unpack again.
      user.moveRange(user.start + 65_536)
      try {
        const moved = await stack.run(['up', '--no-hosts'])
        expect(moved.exitCode).toBe(1)
        expect(moved.stderr).toContain('was unpacked with other subordinate ids')
      } finally {
        user.moveRange(user.start)
        await stack.run(['down', '--no-hosts'])
      }
      // What the user cannot remove from outside the namespace is removed from inside it.
      const destroy = await stack.run(['destroy', '--force', '--no-hosts'])
      expect(destroy.exitCode, destroy.stderr).toBe(0)
      expect(existsSync(path.join(stack.root, '.devenv'))).toBe(false)
      for (const name of [owned, 'mine/app:2']) expect((await stack.run(['image', 'rm', name])).exitCode).toBe(0)
      const prune = await stack.run(['image', 'prune', '--json'])
      expect(prune.exitCode, prune.stderr).toBe(0)
      expect(JSON.parse(prune.stdout).result.rootfs).toBe(2)
      expect(unpackedImages(stack.home)).toEqual([])
    } finally {
      user.remove()
    }
  })

  it.skipIf(!existsSync('/usr/sbin/debootstrap'))(
    "a Debian minbase (files of root, mail, shadow…) runs as its own nobody with a subordinate range, Debian's owners intact",
    async () => {
      const image = publish(registry, 'debian/minbase:bookworm', {
        base: 'minbase',
        config: { cmd: ['sleep', 'infinity'], user: 'nobody', workdir: '/tmp' },
      })
      const user = new SubordinateUser()
      try {
        const stack = project(user.uid, user.gid).write(
          `name: rootlessdebian\nservices:\n  deb:\n    image: ${image}\n`,
        )
        try {
          const up = await stack.run(['up', '--no-hosts'], 180_000)
          expect(up.exitCode, up.stdout + up.stderr).toBe(0)
          const seen = await stack.run([
            'exec',
            'deb',
            '--',
            'sh',
            '-c',
            'id -un; cat /etc/debian_version; stat -c "%U:%G %a" /etc/shadow /var/mail /usr/bin/passwd',
          ])
          expect(seen.exitCode, seen.stderr).toBe(0)
          const [name, version, shadow, mail, passwd] = seen.stdout.trim().split('\n')
          expect(name).toBe('nobody')
          expect(version).toMatch(/^12\./)
          expect(shadow).toBe('root:shadow 640')
          expect(mail).toBe('root:mail 2775')
          // setuid kept: unpacked as root of the user namespace, not as the user.
          expect(passwd).toBe('root:root 4755')
        } finally {
          await stack.run(['down', '--no-hosts'])
        }
        expect(processesOf(stack.root)).toEqual([])
      } finally {
        user.remove()
      }
    },
    300_000,
  )

  it('two services of one image on one port reach each other by hostname', async () => {
    const stack = project().write(
      `name: rootlesstwins\nservices:\n  left:\n    image: ${allRoot}\n    ports: [8080]\n    health: { http: / }\n  right:\n    image: ${allRoot}\n    ports: [8080]\n    hostnames: [right.twins.test]\n    health: { command: "wget -qO- http://127.0.0.1:8080/ | grep -q right" }\n`,
    )
    try {
      const up = await stack.run(['up', '--no-hosts'])
      expect(up.exitCode, up.stdout + up.stderr).toBe(0)
      const { left, right } = stack.state().services
      // right's health command ran inside it (127.0.0.1 there is its own): it passed.
      expect(right!.health).toBe('healthy')
      expect(await (await fetch(`http://${left!.address}:8080/`)).text()).toBe('I am left, uid 0\n')
      expect(await (await fetch(`http://${right!.address}:8080/`)).text()).toBe('I am right, uid 0\n')
      const byName = await stack.run(['exec', 'left', '--', 'wget', '-qO-', 'http://right.twins.test:8080/'])
      expect(byName.stdout.trim(), byName.stderr).toBe('I am right, uid 0')
      const back = await stack.run(['exec', 'right', '--', 'wget', '-qO-', 'http://left:8080/'])
      expect(back.stdout.trim(), back.stderr).toBe('I am left, uid 0')
      // Every non-loopback address is in namespaces devenv made: none on the host.
      const hostAddresses = execFileSync('ip', ['-o', 'addr', 'show'], { encoding: 'utf8' })
      expect(hostAddresses).not.toContain('10.250.0.')
      expect(hostAddresses).not.toContain(left!.address.replace(/^127\./, '10.'))
      // A supervisor killed with -9: its relays go with it, and the next up clears and restarts the rest.
      const supervisor = (
        JSON.parse(readFileSync(path.join(stack.root, '.devenv', 'supervisor.json'), 'utf8')) as { pid: number }
      ).pid
      process.kill(supervisor, 'SIGKILL')
      await waitFor('the relays to go', () => relaysRunning(stack.root).length === 0)
      const again = await stack.run(['up', '--no-hosts'])
      expect(again.exitCode, again.stdout + again.stderr).toBe(0)
      const byNameAgain = await stack.run(['exec', 'left', '--', 'wget', '-qO-', 'http://right:8080/'])
      expect(byNameAgain.stdout.trim(), byNameAgain.stderr).toBe('I am right, uid 0')
    } finally {
      const down = await stack.run(['down', '--no-hosts'])
      expect(down.exitCode, down.stderr).toBe(0)
    }
    expect(processesOf(stack.root)).toEqual([])
    expect(relaysRunning(stack.root)).toEqual([])
  })

  it('resources: still needs root to make cgroups', async () => {
    const stack = project().write(
      'name: rootlimits\nservices:\n  web:\n    command: sleep 100\n    resources: { memory: 64m }\n',
    )
    try {
      const up = await stack.run(['up', '--no-hosts'])
      expect(up.exitCode).toBe(1)
      expect(up.stderr).toContain('service web: resources: needs root to make cgroups')
    } finally {
      await stack.run(['down', '--no-hosts'])
    }
  })
})
