import { mkdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { cleanSandboxes, devenv, sandbox } from './run-cli.js'

afterAll(cleanSandboxes)

const ENVFILE = [
  'name: ${PROJECT_NAME}',
  'services:',
  '  web:',
  '    command: node -e 0',
  '    env_file: web.env',
  '    mounts: [./app:/app]',
  '',
].join('\n')

/** A project devenv has state for (.devenv/, as after a first `up`): where the cache may be written. */
function project(): string {
  const root = sandbox('devenv-resolved-')
  writeFileSync(path.join(root, 'devenv.yaml'), ENVFILE)
  writeFileSync(path.join(root, '.env'), 'PROJECT_NAME=from-dotenv\nSECRET=hunter2\n')
  writeFileSync(path.join(root, 'web.env'), 'GREETING=hello\n')
  mkdirSync(path.join(root, 'app'))
  mkdirSync(path.join(root, '.devenv'))
  return root
}

const cacheOf = (root: string): string => path.join(root, '.devenv', 'resolved-envfile.json')

async function projectName(root: string, env: Record<string, string | undefined> = {}): Promise<string> {
  const run = await devenv(['status', '--json'], { cwd: root, env: { PROJECT_NAME: undefined, ...env } })
  expect(run.exitCode, run.stderr).toBe(0)
  return (JSON.parse(run.stdout) as { result: { project: string } }).result.project
}

/**
 * Every module file a run of the CLI loaded, ES modules (through a load hook) and CommonJS ones
 * (require.cache at exit), each with whether its text bundles yaml (esbuild names every module it
 * inlines in a `// node_modules/…` comment).
 */
async function loadedFiles(args: string[], cwd: string): Promise<string[]> {
  const dir = sandbox('devenv-resolved-trace-')
  const esm = path.join(dir, 'esm.txt')
  const cjs = path.join(dir, 'cjs.json')
  const hooks = path.join(dir, 'hooks.mjs')
  writeFileSync(
    hooks,
    `import { appendFileSync } from 'node:fs'\nexport async function load(url, context, next) {\n  appendFileSync(${JSON.stringify(esm)}, url + '\\n')\n  return next(url, context)\n}\n`,
  )
  const preload = path.join(dir, 'trace.cjs')
  writeFileSync(
    preload,
    [
      `require('node:module').register(${JSON.stringify(`file://${hooks}`)})`,
      `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(cjs)}, JSON.stringify(Object.keys(require.cache))))`,
      '',
    ].join('\n'),
  )
  const run = await devenv(args, { cwd, env: { NODE_OPTIONS: `--require ${preload}` } })
  expect(run.exitCode, run.stderr).toBe(0)
  const modules = readFileSync(esm, 'utf8')
    .split('\n')
    .filter((url) => url.startsWith('file://'))
    .map((url) => new URL(url).pathname)
  return [...modules, ...(JSON.parse(readFileSync(cjs, 'utf8')) as string[])]
}

function parsingModules(files: string[]): string[] {
  return files.filter(
    (file) =>
      /[/\\]node_modules[/\\](yaml|ajv)[/\\]/.test(file) ||
      file.endsWith('schema-validator.js') ||
      (file.endsWith('.js') && readFileSync(file, 'utf8').includes('// node_modules/yaml/')),
  )
}

describe('the resolved envfile kept in .devenv/ (direct route)', () => {
  it('a warm status, ps --json and down load no yaml and no schema validator; a cold one does', async () => {
    const root = project()
    const cold = await loadedFiles(['status'], root)
    expect(parsingModules(cold).length, 'the first status parses the envfile').toBeGreaterThan(0)
    for (const args of [['status'], ['ps', '--json'], ['down', '--no-hosts']]) {
      expect(parsingModules(await loadedFiles(args, root)), args.join(' ')).toEqual([])
    }
  })

  it('is written 0600 (it holds what .env gave), and only where devenv keeps state already', async () => {
    const root = project()
    expect(await projectName(root)).toBe('from-dotenv')
    expect(statSync(cacheOf(root)).mode & 0o777).toBe(0o600)
    const fresh = sandbox('devenv-resolved-fresh-')
    writeFileSync(path.join(fresh, 'devenv.yaml'), 'name: fresh\nservices:\n  web:\n    command: node -e 0\n')
    expect(await projectName(fresh)).toBe('fresh')
    expect(() => statSync(path.join(fresh, '.devenv'))).toThrow()
  })

  it('sees an edit of the envfile, of .env, and a variable set in the shell', async () => {
    const root = project()
    expect(await projectName(root)).toBe('from-dotenv')
    expect(await projectName(root)).toBe('from-dotenv')
    writeFileSync(path.join(root, '.env'), 'PROJECT_NAME=edited-dotenv\n')
    expect(await projectName(root)).toBe('edited-dotenv')
    expect(await projectName(root, { PROJECT_NAME: 'from-shell' })).toBe('from-shell')
    expect(await projectName(root, { PROJECT_NAME: 'other-shell' })).toBe('other-shell')
    expect(await projectName(root)).toBe('edited-dotenv')
    writeFileSync(path.join(root, 'devenv.yaml'), ENVFILE.replace('${PROJECT_NAME}', 'written-out'))
    expect(await projectName(root)).toBe('written-out')
  })

  it('sees an env_file gone and a mount source that became a symlink out of the project', async () => {
    const root = project()
    expect(await projectName(root)).toBe('from-dotenv')
    renameSync(path.join(root, 'web.env'), path.join(root, 'web.env.away'))
    const missing = await devenv(['status'], { cwd: root })
    expect(missing.exitCode).toBe(2)
    expect(missing.stderr).toMatch(/env_file "web\.env" cannot be read/)
    renameSync(path.join(root, 'web.env.away'), path.join(root, 'web.env'))
    expect(await projectName(root)).toBe('from-dotenv')
    rmSync(path.join(root, 'app'), { recursive: true })
    symlinkSync(sandbox('devenv-resolved-outside-'), path.join(root, 'app'))
    const escaped = await devenv(['status'], { cwd: root })
    expect(escaped.exitCode).toBe(2)
    expect(escaped.stderr).toMatch(/leads outside the project folder/)
  })

  it('sees `hosts allow` and `hosts disallow` of a hostname the envfile claims', async () => {
    const root = project()
    // The allowed names live in the machine home: this test gets a home of its own.
    const home = sandbox('devenv-resolved-home-')
    const env = { DEVENV_HOME: home }
    writeFileSync(
      path.join(root, 'devenv.yaml'),
      ENVFILE.replace('    mounts:', '    hostnames: [app.resolved-cache.dev]\n    mounts:'),
    )
    const status = (): Promise<{ exitCode: number; stderr: string }> => devenv(['status'], { cwd: root, env })
    expect((await status()).stderr).toMatch(/app\.resolved-cache\.dev/)
    expect((await devenv(['hosts', 'allow', 'app.resolved-cache.dev'], { env })).exitCode).toBe(0)
    expect((await status()).exitCode).toBe(0)
    expect((await status()).exitCode).toBe(0)
    expect((await devenv(['hosts', 'disallow', 'app.resolved-cache.dev'], { env })).exitCode).toBe(0)
    const refused = await status()
    expect(refused.exitCode).toBe(2)
    expect(refused.stderr).toMatch(/app\.resolved-cache\.dev/)
  })

  it('is used while its key matches; a damaged one or another key is a miss, silently', async () => {
    const root = project()
    expect(await projectName(root)).toBe('from-dotenv')
    const entry = JSON.parse(readFileSync(cacheOf(root), 'utf8')) as { key: string; spec: { name: string } }
    entry.spec.name = 'forged'
    writeFileSync(cacheOf(root), JSON.stringify(entry))
    expect(await projectName(root), 'the entry is what a matching key returns').toBe('forged')
    writeFileSync(cacheOf(root), JSON.stringify({ ...entry, key: 'not the key' }))
    expect(await projectName(root)).toBe('from-dotenv')
    writeFileSync(cacheOf(root), '{"key": 1')
    expect(await projectName(root)).toBe('from-dotenv')
    // The runtime remembered by `up --runtime` is in the key: the same spec, another runtime, a miss.
    writeFileSync(cacheOf(root), JSON.stringify(entry))
    expect(await projectName(root)).toBe('forged')
    writeFileSync(path.join(root, '.devenv', 'runtime.json'), JSON.stringify({ runtime: 'bundled' }))
    expect(await projectName(root)).toBe('from-dotenv')
  })
})
