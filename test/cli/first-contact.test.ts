import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { cpSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { BIN, cleanSandboxes, devenv, FIXTURES, REPO, sandbox } from './run-cli.js'

afterAll(cleanSandboxes)

/** Runs devenv on a pseudo-terminal of the given width (util-linux `script`), feeding `input` once it asks. */
function onTerminal(args: string[], options: { columns?: number; input?: string } = {}): string {
  const command = `stty cols ${options.columns ?? 80}; NO_COLOR=1 ${BIN} ${args.map((arg) => `'${arg}'`).join(' ')}`
  // script -e exits with devenv's own code; the output is what matters here
  const { stdout } = spawnSync(
    'sh',
    ['-c', `(sleep 2; printf '${options.input ?? ''}') | script -qec "${command}" /dev/null`],
    { cwd: REPO, encoding: 'utf8', timeout: 30_000 },
  )
  return stdout.replace(/\r/g, '').replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '')
}

describe('commands people type from habit', () => {
  it('devenv help up, devenv -h, devenv -v and devenv version', async () => {
    const helpUp = await devenv(['help', 'up'])
    expect(helpUp.exitCode).toBe(0)
    expect(helpUp.stdout).toMatch(/USAGE\n\s+\$ devenv up/)
    const short = await devenv(['-h'])
    expect(short.exitCode).toBe(0)
    expect(short.stdout).toMatch(/COMMANDS\n/)
    for (const args of [['-v'], ['--version'], ['version']]) {
      const version = await devenv(args)
      expect(version.exitCode, args.join(' ')).toBe(0)
      expect(version.stdout).toMatch(/^devenv\/0\.\d+\.\d+ \S+ node-v\d+/)
    }
  })

  it('a mistyped command suggests the right one on a terminal, and exits 127 as a shell does', async () => {
    const typed = onTerminal(['stauts'], { input: 'n\\r' })
    expect(typed).toMatch(/stauts is not a devenv command/)
    expect(typed).toMatch(/Did you mean status\?/)
    const piped = await devenv(['stauts'])
    expect(piped.exitCode).toBe(127)
    expect(piped.stderr).toMatch(/stauts is not a devenv command/)
  })

  // fish: no release of oclif's autocomplete plugin has it (bash, zsh and powershell only).
  it('shell completion scripts for bash and zsh', async () => {
    for (const shell of ['bash', 'zsh']) {
      const script = await devenv(['autocomplete', 'script', shell])
      expect(script.exitCode, script.stderr).toBe(0)
      expect(script.stdout).toMatch(/devenv/)
    }
    const bash = await devenv(['autocomplete', 'bash'])
    expect(bash.exitCode).toBe(0)
    expect(bash.stdout).toMatch(/autocomplete script bash/)
  })

  it('logs -f follows (its own --help example) and the envfile is --file, or -f before the command', async () => {
    const project = path.join(sandbox(), 'p')
    cpSync(path.join(FIXTURES, 'runtime-three'), project, { recursive: true })
    for (const args of [
      ['logs', 'api', '-f', '-n', '0', '--file', project],
      ['-f', project, 'logs', 'api', '-f'],
    ]) {
      const child = spawn(BIN, args, { cwd: sandbox(), env: { ...process.env, DEVENV_HOME: sandbox() } })
      let stderr = ''
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
      // Following: still running after a second and a half, until interrupted, and then exits 0.
      const early = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('following'), 1500))])
      expect(early, `${args.join(' ')}: ${stderr}`).toBe('following')
      child.kill('SIGINT')
      expect(await exited).toBe(0)
      expect(stderr).toBe('')
    }
    const help = await devenv(['logs', '--help'])
    expect(help.stdout).toMatch(/-f, --follow/)
    expect(help.stdout).toMatch(/ --file=PATH/)
  })

  it('db import FILE without a service names what is missing, and takes the only postgres service', async () => {
    const project = sandbox()
    writeFileSync(
      path.join(project, 'devenv.yaml'),
      'services:\n  db:\n    box: postgres\n    databases: [{ name: shop }]\n',
    )
    const none = await devenv(['db', 'import'], { cwd: project })
    expect(none.exitCode).toBe(2)
    expect(none.stderr).toMatch(/missing FILE, the file to import/)
    // One argument is the file; the only postgres service is taken (not running here, so it says so).
    writeFileSync(path.join(project, 'dump.sql'), 'select 1;\n')
    const file = await devenv(['db', 'import', 'dump.sql'], { cwd: project })
    expect(file.stderr).toMatch(/service db is not running/)
    const usage = await devenv(['db', 'import', '--help'])
    expect(usage.stdout).toMatch(/\$ devenv db import \[SERVICE\] FILE/)
  })

  it('a missing required argument is named, with the hint in the words people type', async () => {
    const result = await devenv(['box', 'remove'])
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toMatch(/Missing 1 required arg: box +NAME\[:TAG\] of the box/)
    expect(result.stderr).toMatch(/See devenv box remove --help/)
  })

  it('halt --help does not list halt as its own alias', async () => {
    const halt = await devenv(['halt', '--help'])
    expect(halt.stdout).toMatch(/ALIASES\n\s+\$ devenv stop\n/)
    expect(halt.stdout).not.toMatch(/ALIASES\n\s+\$ devenv halt/)
    expect((await devenv(['stop', '--help'])).stdout).toMatch(/ALIASES\n\s+\$ devenv halt\n/)
  })
})

describe('validate checks the files the envfile names', () => {
  it('a missing seed file, mount source or integrity file fails with the envfile line of its field', async () => {
    const project = sandbox()
    writeFileSync(
      path.join(project, 'devenv.yaml'),
      [
        'integrity:',
        '  files: [config/app.ini]',
        'services:',
        '  db:',
        '    box: postgres',
        '    databases:',
        '      - name: shop',
        '        seed: [./db/schema.sql]',
        '  web:',
        '    command: node server.js',
        '    mounts: [{ source: ./public, target: /srv }]',
        '',
      ].join('\n'),
    )
    const result = await devenv(['validate'], { cwd: project })
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toMatch(/✖ seed file db\/schema\.sql does not exist/)
    expect(result.stderr).toContain(`at ${path.join(project, 'devenv.yaml')}:8:`)
    expect(result.stderr).toMatch(/mount source public does not exist \(.*devenv\.yaml:11\)/)
    expect(result.stderr).toMatch(/integrity file config\/app\.ini does not exist \(.*devenv\.yaml:2\)/)
  })
})

describe('output', () => {
  it('the status table fits an 80-column terminal, and is whole with --wide or when piped', async () => {
    const webapp = path.join(REPO, 'templates', 'webapp')
    const widest = (text: string): number => Math.max(...text.split('\n').map((line) => line.length))
    const narrow = onTerminal(['status', '-f', webapp])
    expect(narrow).toMatch(/www\.example\.test/)
    expect(widest(narrow)).toBeLessThanOrEqual(80)
    expect(widest(onTerminal(['status', '--wide', '-f', webapp]))).toBeGreaterThan(80)
    expect((await devenv(['status', '-f', webapp])).stdout).toContain('www.example.test, example.test, lb.example.test')
  })

  it("init --list shows each template's description whole", async () => {
    const result = await devenv(['init', '--list'])
    expect(result.stdout).toMatch(
      /a mail server and an FTP server, each at its own address with a real-looking hostname\./,
    )
  })

  it('the npm package ships the docs the hints point at', async () => {
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO, encoding: 'utf8' }),
    ) as Array<{ files: Array<{ path: string }> }>
    const files = packed[0]!.files.map((file) => file.path)
    expect(files).toContain('docs/envfile.md')
    expect(files).toContain('docs/postgres.md')
  })
})
