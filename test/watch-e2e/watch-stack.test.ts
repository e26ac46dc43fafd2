// Watched mounts end to end (issue 7): edits made in the project folder go live through the real
// supervisor, after `devenv up` has returned, with no CLI open. One stack for the whole file:
// site (static box, watch: sync), api (small Node app, watch: restart), assets (watch: a command).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { get, sleep, waitFor, WatchProject, type StatusService } from './project.js'

const RESTARTED = 'restarted after the change'

describe('watched mounts through the supervisor', () => {
  let project: WatchProject
  let site: StatusService
  let api: StatusService
  let appSource: string

  const app = (message: string): string =>
    appSource.replace("const message = 'version 0'", `const message = '${message}'`)
  /** The app, answering `message`, whose health check never passes. */
  const sickApp = (message: string): string =>
    app(message).replace(
      "response.end(request.url === '/health'",
      "if (request.url === '/health') response.statusCode = 503\n  response.end(request.url === '/health'",
    )
  const apiAnswer = async (): Promise<string | undefined> =>
    (await get(api.address, api.ports[0]!.bound ?? 8080).catch(() => undefined))?.body
  const restarts = async (): Promise<number> => (await project.notes('api', RESTARTED)).length

  beforeAll(async () => {
    project = new WatchProject('watch-stack')
    appSource = readFileSync(project.file('app/server.mjs'), 'utf8')
    const up = await project.run(['up', '--no-hosts'], 60_000)
    if (up.exitCode !== 0) throw new Error(`up failed: ${up.stderr}`)
    site = await project.service('site')
    api = await project.service('api')
  })
  afterAll(async () => {
    await project?.cleanup()
  })

  it('keeps watching after the CLI has exited: only the supervisor and the services are left', async () => {
    // `up` returned above; what is left running in the project is the supervisor and its services.
    const commands = project.processes().map((entry) => entry.command)
    expect(commands.some((command) => command.includes('supervisor'))).toBe(true)
    expect(commands.filter((command) => command.includes('cli/main.js') || command.includes('bin/devenv'))).toEqual([])
    expect(await apiAnswer()).toBe('version 0')
  })

  it('sync: a saved page is what the static box serves on the very next request', async () => {
    const port = site.ports[0]!.bound ?? 8080
    expect((await get(site.address, port)).body).toBe('<h1>version 0</h1>\n')
    for (let version = 1; version <= 3; version++) {
      project.save('site/index.html', `<h1>version ${version}</h1>\n`)
      expect((await get(site.address, port)).body).toBe(`<h1>version ${version}</h1>\n`)
    }
    writeFileSync(project.file('site/new.html'), 'brand new')
    expect(await get(site.address, port, '/new.html')).toEqual({ status: 200, body: 'brand new' })
  })

  it('restart: the restarted app answers with the saved code', async () => {
    const before = await project.service('api')
    project.save('app/server.mjs', app('version 1'))
    await waitFor('the app to answer version 1', async () => (await apiAnswer()) === 'version 1')
    await waitFor('the restart to be logged', async () => (await restarts()) === 1)
    const after = await project.service('api')
    expect(after).toMatchObject({ state: 'running', health: 'healthy' })
    expect(after.pid).not.toBe(before.pid)
    const changes = await project.notes('api', 'change: ')
    expect(changes.at(-1)).toMatch(/1 change in .*app \(server\.mjs\) → restart/)
  })

  it('restart: a burst of 20 saves restarts the app once, with the last save', async () => {
    const before = await restarts()
    const changesBefore = (await project.notes('api', 'change: ')).length
    for (let save = 1; save <= 20; save++) project.save('app/server.mjs', app(`burst ${save}`))
    await waitFor('the app to answer with the last save', async () => (await apiAnswer()) === 'burst 20')
    await waitFor('the restart to be logged', async () => (await restarts()) > before)
    // Long enough for a second, wrongly split burst to have fired (quiet period 100 ms).
    await sleep(1000)
    expect((await project.notes('api', 'change: ')).slice(changesBefore)).toEqual([
      expect.stringMatching(/1 change in .*\(server\.mjs\) → restart$/),
    ])
    expect((await restarts()) - before).toBe(1)
  })

  it("changes under .git, node_modules, editor swap files and the mount's ignore globs do nothing", async () => {
    const { pid } = await project.service('api')
    const changesBefore = await project.notes('api', 'change: ')
    mkdirSync(project.file('app/.git/refs'), { recursive: true })
    writeFileSync(project.file('app/.git/HEAD'), 'ref: refs/heads/main\n')
    mkdirSync(project.file('app/node_modules/left-pad'), { recursive: true })
    writeFileSync(project.file('app/node_modules/left-pad/index.js'), 'module.exports = 1\n')
    writeFileSync(project.file('app/debug.log'), 'a log line\n')
    mkdirSync(project.file('app/tmp/cache'), { recursive: true })
    writeFileSync(project.file('app/tmp/cache/entry'), 'cached\n')
    writeFileSync(project.file('app/.server.mjs.swp'), 'vim swap')
    await sleep(1000)
    expect(await project.notes('api', 'change: ')).toEqual(changesBefore)
    expect((await project.service('api')).pid).toBe(pid)

    // The same watcher still acts on a file it should see (the silence above was not a dead watcher).
    writeFileSync(project.file('app/notes.txt'), 'seen\n')
    await waitFor('the change to notes.txt', async () =>
      (await project.notes('api', 'change: ')).some((text) => text.includes('(notes.txt)')),
    )
  })

  it("a command mount runs the command in the service's environment, its output in the service's log", async () => {
    const assets = await project.service('assets')
    project.save('assets/src.txt', 'two\n')
    const expected = `built two for assets at ${assets.address}`
    await waitFor(
      'the command to write out.txt',
      () => readFileSync(project.file('assets/out.txt'), 'utf8').trim() === expected,
    )
    await waitFor(
      'the command to be logged as done',
      async () => (await project.notes('assets', 'watch command done')).length === 1,
    )
    const notes = (await project.logs('assets')).filter((line) => line.stream === 'devenv').map((line) => line.text)
    expect(notes).toContain(`watch: ${expected}`)
    expect(notes.some((text) => /change: 1 change in .*assets \(src\.txt\) → run: sh -c/.test(text))).toBe(true)
    // out.txt, which the command writes into the watched folder, is ignored: no second run.
    await sleep(600)
    expect(await project.notes('assets', 'change: ')).toHaveLength(1)
  })

  it('a restart that fails keeps the log, says so in status, and the next good save brings it back', async () => {
    project.save('app/server.mjs', app('broken').replace("const message = 'broken'", 'const message = = ;'))
    const failed = await waitFor(
      'api to be failed',
      async () => {
        const entry = await project.service('api')
        return entry.state === 'failed' ? entry : undefined
      },
      10_000,
      100,
    )
    expect(failed.message).toBeTruthy()
    const logs = await project.logs('api')
    expect(logs.some((line) => line.stream === 'err' && line.text.includes('SyntaxError'))).toBe(true)
    expect(
      logs.some((line) => line.stream === 'devenv' && line.text.startsWith('restart after the change failed')),
    ).toBe(true)
    const status = await project.run(['status'])
    expect(status.stdout).toMatch(/api\s+process\s+failed/)

    project.save('app/server.mjs', app('fixed'))
    await waitFor('the fixed app to answer', async () => (await apiAnswer()) === 'fixed', 10_000)
    expect(await project.service('api')).toMatchObject({ state: 'running', health: 'healthy' })
  })

  it('a save while a restart still waits for health restarts it again at once', async () => {
    project.save('app/server.mjs', sickApp('sick'))
    await waitFor('the sick app to answer', async () => (await apiAnswer()) === 'sick')
    expect((await project.service('api')).health).toBe('starting')
    project.save('app/server.mjs', app('healed'))
    await waitFor(
      'the healed app to be healthy',
      async () => (await project.service('api')).health === 'healthy',
      10_000,
      100,
    )
    expect(await apiAnswer()).toBe('healed')
    expect(await project.notes('api', 'changed again before it was healthy')).toHaveLength(1)
  })

  it('`down` while a restart still waits for health returns at once and leaves nothing running', async () => {
    const failuresBefore = (await project.notes('api', 'restart after the change failed')).length
    project.save('app/server.mjs', sickApp('sick'))
    await waitFor('the sick app to answer', async () => (await apiAnswer()) === 'sick')
    // It runs but never passes its health check: the restart waits for it (up to 2 minutes).
    expect((await project.service('api')).health).toBe('starting')
    const down = await project.run(['down', '--no-hosts'], 20_000)
    expect(down.exitCode, down.stderr).toBe(0)
    expect(project.processes()).toEqual([])
    // Given up because the service was stopped, not failed.
    expect(await project.notes('api', 'restart after the change failed')).toHaveLength(failuresBefore)
  })
})
