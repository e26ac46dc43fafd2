// Images without an engine (issue #16): pull and unpack of a ~50 MB image, and `up` of an image
// service until healthy, against Debian's docker.io doing the same from the same local registry.
// Needs root, docker-registry, umoci, skopeo, busybox-static and a Debian minbase made by
// debootstrap (cached in /var/cache/devenv-bench/minbase; made on first run, which takes minutes).
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'devenv')
const MINBASE = process.env.DEVENV_BENCH_MINBASE ?? '/var/cache/devenv-bench/minbase'
const RUNS = Number(process.env.RUNS ?? 5)

function have(tool) {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0
}
if (process.getuid?.() !== 0 || !['docker-registry', 'umoci', 'skopeo', 'busybox'].every(have)) {
  console.log('images: needs root, docker-registry, umoci, skopeo and busybox-static; skipped')
  process.exit(0)
}
if (!existsSync(path.join(MINBASE, 'etc/debian_version'))) {
  console.log(`making a Debian minbase in ${MINBASE} (once)`)
  execFileSync('debootstrap', ['--variant=minbase', 'bookworm', MINBASE, 'http://deb.debian.org/debian'], {
    stdio: 'ignore',
  })
}

const freePort = () =>
  new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const time = (work) => {
  const started = performance.now()
  work()
  return performance.now() - started
}
async function until(probe, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error('timed out')
}

const work = mkdtempSync(path.join(tmpdir(), 'devenv-bench-images-'))
const port = await freePort()
const registryHost = `127.0.0.1:${port}`
writeFileSync(
  path.join(work, 'registry.yml'),
  `version: 0.1\nlog: { level: error }\nstorage: { filesystem: { rootdirectory: ${work}/storage } }\nhttp: { addr: ${registryHost} }\n`,
)
const registry = spawn('docker-registry', ['serve', path.join(work, 'registry.yml')], { stdio: 'ignore' })
try {
  await until(async () => (await fetch(`http://${registryHost}/v2/`)).ok)
  // The image: Debian minbase with busybox for a web server, one layer.
  const layout = path.join(work, 'layout')
  execFileSync('umoci', ['init', '--layout', layout])
  execFileSync('umoci', ['new', '--image', `${layout}:t`])
  execFileSync('umoci', ['unpack', '--image', `${layout}:t`, path.join(work, 'bundle')], { stdio: 'ignore' })
  const rootfs = path.join(work, 'bundle', 'rootfs')
  execFileSync('cp', ['-a', `${MINBASE}/.`, rootfs])
  cpSync('/bin/busybox', path.join(rootfs, 'usr/local/bin/busybox'))
  mkdirSync(path.join(rootfs, 'srv/www'), { recursive: true })
  writeFileSync(path.join(rootfs, 'srv/www/index.html'), 'up\n')
  execFileSync('umoci', ['repack', '--image', `${layout}:t`, path.join(work, 'bundle')], { stdio: 'ignore' })
  execFileSync('umoci', [
    'config',
    '--image',
    `${layout}:t`,
    '--config.cmd',
    '/usr/local/bin/busybox',
    '--config.cmd',
    'httpd',
    '--config.cmd',
    '-f',
    '--config.cmd',
    '-p',
    '--config.cmd',
    '8080',
    '--config.cmd',
    '-h',
    '--config.cmd',
    '/srv/www',
  ])
  const image = `${registryHost}/bench/minbase:1`
  execFileSync('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:t`, `docker://${image}`])
  const size = JSON.parse(
    execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${image}`], { encoding: 'utf8' }),
  ).layers.reduce((sum, layer) => sum + layer.size, 0)
  const unpacked = Number(execFileSync('du', ['-sb', rootfs], { encoding: 'utf8' }).split('\t')[0])
  console.log(`image: ${(size / 2 ** 20).toFixed(1)} MiB compressed, ${(unpacked / 2 ** 20).toFixed(1)} MiB unpacked`)

  const pulls = []
  const ups = []
  for (let run = 0; run < RUNS; run++) {
    const home = mkdtempSync(path.join(work, 'home-'))
    const env = { ...process.env, DEVENV_HOME: home }
    pulls.push(time(() => execFileSync(BIN, ['image', 'pull', image], { env, stdio: 'ignore' })))
    const project = mkdtempSync(path.join(work, 'project-'))
    writeFileSync(
      path.join(project, 'devenv.yaml'),
      `name: bench${run}\nservices:\n  web:\n    image: ${image}\n    ports: [8080]\n    health: { http: / }\n`,
    )
    ups.push(time(() => execFileSync(BIN, ['up', '--no-hosts'], { cwd: project, env, stdio: 'ignore' })))
    execFileSync(BIN, ['down', '--no-hosts'], { cwd: project, env, stdio: 'ignore' })
  }
  console.log(
    `devenv image pull (download, verify, unpack): median ${median(pulls).toFixed(0)} ms over ${RUNS} runs (${pulls.map((ms) => ms.toFixed(0)).join(', ')})`,
  )
  console.log(
    `devenv up of the image service until healthy: median ${median(ups).toFixed(0)} ms (${ups.map((ms) => ms.toFixed(0)).join(', ')})`,
  )

  if (spawnSync('docker', ['info'], { stdio: 'ignore' }).status === 0) {
    const dockerPulls = []
    const dockerRuns = []
    for (let run = 0; run < RUNS; run++) {
      spawnSync('docker', ['rmi', '-f', image], { stdio: 'ignore' })
      dockerPulls.push(time(() => execFileSync('docker', ['pull', '-q', image], { stdio: 'ignore' })))
      const hostPort = await freePort()
      const started = performance.now()
      const id = execFileSync('docker', ['run', '-d', '--rm', '-p', `127.0.0.1:${hostPort}:8080`, image], {
        encoding: 'utf8',
      }).trim()
      await until(async () => (await fetch(`http://127.0.0.1:${hostPort}/`)).ok)
      dockerRuns.push(performance.now() - started)
      execFileSync('docker', ['rm', '-f', id], { stdio: 'ignore' })
    }
    spawnSync('docker', ['rmi', '-f', image], { stdio: 'ignore' })
    console.log(
      `docker pull: median ${median(dockerPulls).toFixed(0)} ms (${dockerPulls.map((ms) => ms.toFixed(0)).join(', ')})`,
    )
    console.log(
      `docker run until it answers: median ${median(dockerRuns).toFixed(0)} ms (${dockerRuns.map((ms) => ms.toFixed(0)).join(', ')})`,
    )
  } else console.log('docker: no engine answers; its side skipped')
} finally {
  registry.kill()
  rmSync(work, { recursive: true, force: true })
}
