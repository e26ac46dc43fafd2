import { readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { loadEnvfile, parseEnvfile } from '../../src/envfile/index.js'
import { DevenvError } from '../../src/errors.js'

const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url))
/** Fixtures that load; every other envfile-* folder holds one bad input. */
const VALID = new Set(['envfile-variables', 'envfile-mount-symlink', 'envfile-commands'])

function cpuMs(work: () => void): number {
  const before = process.cpuUsage()
  work()
  const used = process.cpuUsage(before)
  return (used.user + used.system) / 1000
}

describe('loading every bad fixture in-process', () => {
  const bad = readdirSync(FIXTURES).filter((name) => name.startsWith('envfile-') && !VALID.has(name))

  it('has the scenarios the CLI tests name', () => {
    expect(bad.length).toBeGreaterThanOrEqual(15)
  })

  for (const name of bad) {
    it(`${name}: a DevenvError with exit code 2 and a location, in well under a second of CPU`, () => {
      let thrown: unknown
      // CPU time, not wall time: the machine may be busy, but the loader's own work must stay small.
      const spent = cpuMs(() => {
        try {
          loadEnvfile({ cwd: path.join(FIXTURES, name), variables: {} })
        } catch (error) {
          thrown = error
        }
      })
      expect(thrown).toBeInstanceOf(DevenvError)
      const error = thrown as DevenvError
      expect(error.exitCode).toBe(2)
      expect(error.location?.file).toBe(path.join(FIXTURES, name, 'devenv.yaml'))
      expect(error.location?.line).toBeGreaterThan(0)
      expect(spent).toBeLessThan(1000)
    })
  }
})

describe('the alias bomb', () => {
  it('is refused after bounded work, even ten levels deep', () => {
    const levels = ['x0: &x0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for (let level = 1; level <= 10; level++)
      levels.push(
        `x${level}: &x${level} [${Array(10)
          .fill(`*x${level - 1}`)
          .join(',')}]`,
      )
    const text = `${levels.join('\n')}\nservices:\n  web: { command: node server.js, env: { BOMB: *x10 } }\n`
    let thrown: unknown
    const spent = cpuMs(() => {
      try {
        parseEnvfile('/project/devenv.yaml', text, { variables: {} })
      } catch (error) {
        thrown = error
      }
    })
    expect((thrown as DevenvError).code).toBe('ENVFILE_SYNTAX')
    expect(spent).toBeLessThan(1000)
  })

  it('does not stop a merge key or a few honest aliases', () => {
    const text =
      'services:\n  www1: &www { command: node server.js, ports: [8080] }\n  www2: { <<: *www, ports: [8081] }\n'
    const spec = parseEnvfile('/project/devenv.yaml', text, { variables: {} })
    expect(spec.services.www2!.command).toBe('node server.js')
    expect(spec.services.www2!.ports).toEqual([8081])
  })
})

describe('positions and paths', () => {
  it('a depends_on mapping names the dependency by key', () => {
    const text = 'services:\n  a: { command: x, depends_on: { bb: { condition: started } } }\n  b: { command: y }\n'
    expect(() => parseEnvfile('/project/devenv.yaml', text, { variables: {} })).toThrowError(
      expect.objectContaining({
        location: expect.objectContaining({ path: 'services.a.depends_on.bb', line: 2 }),
      }) as Error,
    )
  })

  it('a misspelt top-level key is reported before the missing key it explains', () => {
    const text = 'name: x\nservics:\n  a: { command: x }\n'
    expect(() => parseEnvfile('/project/devenv.yaml', text, { variables: {} })).toThrowError(
      /unknown key "servics" \(did you mean services\?\)/,
    )
  })

  it('an undefined variable names the field it is in', () => {
    const text = 'services:\n  a:\n    command: x\n    env: { TOKEN: "${API_TOKEN:?ask the team for one}" }\n'
    let thrown: DevenvError | undefined
    try {
      parseEnvfile('/project/devenv.yaml', text, { variables: {} })
    } catch (error) {
      thrown = error as DevenvError
    }
    expect(thrown?.code).toBe('ENVFILE_VARIABLE')
    expect(thrown?.message).toBe('variable API_TOKEN is required: ask the team for one')
    expect(thrown?.location).toEqual({
      file: '/project/devenv.yaml',
      path: 'services.a.env.TOKEN',
      line: 4,
      column: 19,
    })
  })

  it('a variable gives a number where the schema wants one, and a string where it wants one', () => {
    const text =
      'services:\n  web:\n    command: x\n    ports:\n      - ${WEB_PORT}\n      - "${ADMIN_PORT:-9090}"\n  db:\n    box: postgres\n    port: ${PG_PORT}\n    databases:\n      - name: app\n        user: app\n        password: ${DB_PASSWORD}\n'
    const spec = parseEnvfile('/project/devenv.yaml', text, {
      variables: { WEB_PORT: '8081', PG_PORT: '5433', DB_PASSWORD: '12345' },
    })
    expect(spec.services.web!.ports).toEqual([8081, 9090])
    expect(spec.services.db!.postgres!.port).toBe(5433)
    expect(spec.services.db!.postgres!.databases[0]!.password).toBe('12345')
    let thrown: DevenvError | undefined
    try {
      parseEnvfile('/project/devenv.yaml', text, {
        variables: { WEB_PORT: 'eighty', PG_PORT: '5433', DB_PASSWORD: 'x' },
      })
    } catch (error) {
      thrown = error as DevenvError
    }
    expect(thrown?.code).toBe('ENVFILE_SCHEMA')
    expect(thrown?.message).toMatch(/services\.web\.ports\[0\].*integer/)
    expect(thrown?.location?.line).toBe(5)
  })

  it('an FTP user may not be named so that its default root is the project itself', () => {
    const text = 'services:\n  ftp: { box: ftp, users: [{ name: "..", password: x }] }\n'
    expect(() => parseEnvfile('/project/devenv.yaml', text, { variables: {} })).toThrowError(
      /services\.ftp\.users\[0\]\.name/,
    )
  })
})
