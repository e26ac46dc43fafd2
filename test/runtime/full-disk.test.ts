// A full disk (a 96 MB tmpfs holding the project and 32 MB of other files, PostgreSQL writing until it is full): one clear
// message naming the folder, no command hanging, the supervisor never throwing, `status` telling
// the truth, and everything back (nothing acknowledged lost) once space is freed. Needs root (mount).
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, statfsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RuntimeProject, service } from './helpers.js'

const root = process.getuid?.() === 0
if (!root) console.log('full-disk tests skipped: mounting a small tmpfs needs root')

describe.runIf(root)('a full disk', () => {
  // Short: PostgreSQL's socket path under the project must stay within 107 bytes.
  const disk = mkdtempSync('/tmp/fd-')
  let project: RuntimeProject
  let acknowledged = 0
  const filler = path.join(disk, 'filler')

  const fill = (file: string, leaveBytes: number): void => {
    const { bavail, bsize } = statfsSync(disk)
    const megabytes = Math.max(0, Math.floor((bavail * bsize - leaveBytes) / 1024 / 1024))
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${file}`, 'bs=1M', ...(leaveBytes > 0 ? [`count=${megabytes}`] : [])], {
        stdio: 'ignore',
      })
    } catch {
      // dd ends with "No space left on device" when told to fill it all
    }
  }

  beforeAll(async () => {
    // A fresh cluster takes ~60 MB; the other files are what the user deletes to make room.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=96m', 'tmpfs', disk])
    execFileSync('dd', ['if=/dev/zero', `of=${path.join(disk, 'other-files')}`, 'bs=1M', 'count=32'], {
      stdio: 'ignore',
    })
    const previous = process.env.TMPDIR
    // The project on the small disk, the machine home elsewhere (as a project on a full data disk).
    const home = mkdtempSync(path.join(tmpdir(), 'devenv-full-disk-home-'))
    process.env.TMPDIR = disk
    try {
      project = new RuntimeProject('runtime-full-disk', { home })
    } finally {
      if (previous === undefined) delete process.env.TMPDIR
      else process.env.TMPDIR = previous
    }
    mkdirSync(home, { recursive: true })
    const up = await project.run(['up', '--no-hosts'], { timeout: 60_000 })
    if (up.exitCode !== 0) throw new Error(`up failed: ${up.stderr}`)
    const psql = service(await project.status(), 'psql')
    const client = new pg.Client({ host: psql.address, port: 5432, user: 'app', password: 'app', database: 'app' })
    // Connected and the table made first: a backend's start writes files of its own (the relcache
    // init file), which a disk already full refuses with a FATAL before the test has begun.
    await client.connect()
    await client.query('create table fill (id serial primary key, body text)')
    // Leave PostgreSQL a few MB, then let it write until there is no room at all.
    fill(filler, 6 * 1024 * 1024)
    try {
      for (;;) {
        await client.query("insert into fill (body) select repeat('x', 1000) from generate_series(1, 500)")
        acknowledged += 500
      }
    } catch (error) {
      expect(String(error)).toMatch(/no space left on device/i)
    }
    await client.end().catch(() => undefined)
    fill(`${filler}-rest`, 0)
    expect(statfsSync(disk).bavail).toBe(0)
  }, 120_000)

  afterAll(async () => {
    rmSync(filler, { force: true })
    rmSync(`${filler}-rest`, { force: true })
    rmSync(`${filler}-again`, { force: true })
    await project?.cleanup()
    execFileSync('umount', ['-l', disk])
    rmSync(disk, { recursive: true, force: true })
  })

  it('snapshot save says the disk is full, naming the folder, not "unexpected error"', async () => {
    const save = await project.run(['snapshot', 'save', 'psql', 'full'], { timeout: 60_000 })
    expect(save.exitCode).toBe(1)
    expect(save.stderr).toContain(`no space left on the disk holding ${project.root}`)
    expect(save.stderr).toMatch(/free of 96 MiB/)
    expect(save.stderr).not.toContain('unexpected error')
  })

  it('restart of the database ends within seconds, says why it cannot start, and status shows it failed', async () => {
    const started = Date.now()
    const restart = await project.run(['restart', 'psql'], { timeout: 60_000 })
    expect(Date.now() - started).toBeLessThan(15_000)
    expect(restart.exitCode).toBe(1)
    expect(restart.stderr).toContain(`no space left on the disk holding ${project.root}`)
    const psql = service(await project.status(), 'psql')
    expect(psql.state).toBe('failed')
    expect(psql.message).toMatch(/no space left/)
  })

  it('once space is freed, everything works, nothing acknowledged is lost, and the lost log lines are counted', async () => {
    // The earlier steps free a few pages (PostgreSQL's stop removes its pid and stats files), and
    // tmpfs fills a file's last page before refusing: fill again and wait until chatty's log stops
    // growing, so lines are surely being lost before the space comes back.
    fill(`${filler}-again`, 0)
    const chattyLog = path.join(project.root, '.devenv', 'logs', 'chatty.log')
    let size = statSync(chattyLog).size
    let unchangedSince = Date.now()
    const deadline = Date.now() + 20_000
    while (Date.now() - unchangedSince < 500 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      const now = statSync(chattyLog).size
      if (now !== size) [size, unchangedSince] = [now, Date.now()]
    }
    expect(Date.now() - unchangedSince, 'chatty.log kept growing on a full disk').toBeGreaterThanOrEqual(500)
    rmSync(`${filler}-again`, { force: true })
    rmSync(filler, { force: true })
    rmSync(`${filler}-rest`, { force: true })
    rmSync(path.join(disk, 'other-files'))
    const up = await project.run(['up', '--no-hosts'], { timeout: 60_000 })
    expect(up.exitCode, up.stderr).toBe(0)
    const psql = service(await project.status(), 'psql')
    const client = new pg.Client({ host: psql.address, port: 5432, user: 'app', password: 'app', database: 'app' })
    await client.connect()
    const { rows } = await client.query<{ count: string }>('select count(*) from fill')
    await client.end()
    expect(Number(rows[0]!.count)).toBe(acknowledged)
    const logs = JSON.parse((await project.run(['logs', 'chatty', '--json', '-n', '100000'])).stdout).result as {
      lines: Array<{ text: string }>
    }
    expect(logs.lines.some((line) => /^\d+ log lines? (was|were) lost: no space left/.test(line.text))).toBe(true)
    const supervisorLog = readFileSync(path.join(project.root, '.devenv', 'logs', 'supervisor.log'), 'utf8')
    expect(supervisorLog).not.toContain('uncaught')
  })
})
