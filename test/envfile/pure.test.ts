import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { interpolate, isRuntimeVariable, UndefinedVariable } from '../../src/envfile/interpolate.js'
import type { EnvSpec, ServiceSpec } from '../../src/envfile/model.js'
import { findCycle } from '../../src/envfile/rules.js'
import { parseDuration, parseSize } from '../../src/util/duration.js'
import { resolveInside } from '../../src/util/paths.js'
import { maskSecrets, maskUrlPassword } from '../../src/util/secrets.js'

describe('interpolate', () => {
  const vars = { NAME: 'skel', EMPTY: '' }

  it('fills ${VAR} and leaves text without variables alone', () => {
    expect(interpolate('postgres://${NAME}@db/${NAME}', vars)).toBe('postgres://skel@db/skel')
    expect(interpolate('no variables here', vars)).toBe('no variables here')
  })

  it('${VAR:-default} covers unset and empty; ${VAR-default} only unset', () => {
    expect(interpolate('${MISSING:-fallback}', vars)).toBe('fallback')
    expect(interpolate('${EMPTY:-fallback}', vars)).toBe('fallback')
    expect(interpolate('${NAME:-fallback}', vars)).toBe('skel')
    expect(interpolate('${EMPTY-fallback}', vars)).toBe('')
    expect(interpolate('${MISSING-fallback}', vars)).toBe('fallback')
    expect(interpolate('${MISSING:-}', vars)).toBe('')
  })

  it("${VAR:?message} and ${VAR?message} require a value, with the author's message", () => {
    expect(() => interpolate('${MISSING:?ask the team}', vars)).toThrowError(
      'variable MISSING is required: ask the team',
    )
    expect(() => interpolate('${EMPTY:?must not be empty}', vars)).toThrowError(UndefinedVariable)
    expect(interpolate('${EMPTY?set}', vars)).toBe('')
    expect(() => interpolate('${MISSING?}', vars)).toThrowError('variable MISSING is required')
  })

  it('an unset ${VAR} without a default is an error naming it', () => {
    let thrown: unknown
    try {
      interpolate('password: ${FTP_PASSWORD}', vars)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(UndefinedVariable)
    expect((thrown as UndefinedVariable).variable).toBe('FTP_PASSWORD')
  })

  it('$$ is a literal $, and $$ before a brace escapes the variable', () => {
    expect(interpolate('costs $$5', vars)).toBe('costs $5')
    expect(interpolate('$${NAME}', vars)).toBe('${NAME}')
    expect(interpolate('$NAME stays', vars)).toBe('$NAME stays')
  })

  it('leaves HOST, PORT and DEVENV_* for the runtime to fill at start', () => {
    expect(interpolate('serve --listen ${HOST}:${PORT} --name ${DEVENV_SERVICE}', {})).toBe(
      'serve --listen ${HOST}:${PORT} --name ${DEVENV_SERVICE}',
    )
    expect(isRuntimeVariable('PORT')).toBe(true)
    expect(isRuntimeVariable('DEVENV_PROJECT')).toBe(true)
    expect(isRuntimeVariable('PORTS')).toBe(false)
  })
})

describe('findCycle', () => {
  const spec = (graph: Record<string, string[]>): EnvSpec =>
    ({
      services: Object.fromEntries(
        Object.entries(graph).map(([name, deps]) => [
          name,
          { name, dependsOn: deps.map((service) => ({ service, condition: 'healthy' })) } as unknown as ServiceSpec,
        ]),
      ),
    }) as EnvSpec

  it('finds none in a DAG, even with shared dependencies', () => {
    expect(findCycle(spec({ lb: ['www1', 'www2'], www1: ['psql'], www2: ['psql'], psql: [] }))).toBeUndefined()
  })

  it('names the cycle as a closed path', () => {
    expect(findCycle(spec({ a: ['b'], b: ['c'], c: ['a'] }))).toEqual(['a', 'b', 'c', 'a'])
  })

  it('names only the cycle, not the way into it', () => {
    expect(findCycle(spec({ web: ['api'], api: ['db'], db: ['cache'], cache: ['db'] }))).toEqual(['db', 'cache', 'db'])
  })

  it('a self-dependency is a cycle of one', () => {
    expect(findCycle(spec({ a: ['a'] }))).toEqual(['a', 'a'])
  })
})

describe('parseDuration and parseSize', () => {
  it('reads seconds as numbers and units as strings, in milliseconds', () => {
    expect(parseDuration(2)).toBe(2000)
    expect(parseDuration(0.5)).toBe(500)
    expect(parseDuration('500ms')).toBe(500)
    expect(parseDuration('2s')).toBe(2000)
    expect(parseDuration('3')).toBe(3000)
    expect(parseDuration('1.5m')).toBe(90_000)
    expect(parseDuration('1h')).toBe(3_600_000)
  })

  it('refuses what is not a duration', () => {
    expect(() => parseDuration('5x')).toThrowError(/not a duration/)
    expect(() => parseDuration('-1s')).toThrowError(/not a duration/)
  })

  it('reads sizes in bytes and binary units', () => {
    expect(parseSize(1024)).toBe(1024)
    expect(parseSize('512k')).toBe(512 * 1024)
    expect(parseSize('10MB')).toBe(10 * 1024 * 1024)
    expect(() => parseSize('lots')).toThrowError(/not a size/)
  })
})

describe('maskSecrets', () => {
  it('masks secret-looking keys and passwords in URLs, deep, without touching the original', () => {
    const original = {
      env: {
        DATABASE_URL: 'postgres://skel:skel@psql.example.test:5432/skel',
        API_TOKEN: 'abc',
        HOME_PAGE: 'https://example.test',
      },
      users: [{ name: '3pg', password: '3pg-secret' }],
      ports: [21],
    }
    const masked = maskSecrets(original)
    expect(masked).toEqual({
      env: {
        DATABASE_URL: 'postgres://skel:****@psql.example.test:5432/skel',
        API_TOKEN: '****',
        HOME_PAGE: 'https://example.test',
      },
      users: [{ name: '3pg', password: '****' }],
      ports: [21],
    })
    expect(original.users[0]!.password).toBe('3pg-secret')
  })

  it('leaves an empty password empty, and a URL without a password alone', () => {
    expect(maskSecrets({ password: '' })).toEqual({ password: '' })
    expect(maskUrlPassword('smtp://mail.example.test:25')).toBe('smtp://mail.example.test:25')
  })
})

describe('resolveInside', () => {
  const base = mkdtempSync(path.join(tmpdir(), 'devenv-resolve-'))
  const root = path.join(base, 'project')
  mkdirSync(path.join(root, 'app'), { recursive: true })
  mkdirSync(path.join(base, 'elsewhere'))
  symlinkSync(path.join(base, 'elsewhere'), path.join(root, 'out'))
  symlinkSync(path.join(root, 'app'), path.join(root, 'in'))
  afterAll(() => rmSync(base, { recursive: true, force: true }))

  it('accepts paths inside the root, existing or not', () => {
    expect(resolveInside(root, './app')).toBe(path.join(root, 'app'))
    expect(resolveInside(root, 'app/not/yet/there')).toBe(path.join(root, 'app/not/yet/there'))
    expect(resolveInside(root, '.')).toBe(root)
    expect(resolveInside(root, 'app/../app')).toBe(path.join(root, 'app'))
  })

  it('refuses ../ and absolute paths outside', () => {
    expect(resolveInside(root, '../x')).toBeUndefined()
    expect(resolveInside(root, 'app/../../x')).toBeUndefined()
    expect(resolveInside(root, '/etc')).toBeUndefined()
  })

  it('follows symlinks: one leading out is refused, one staying in is fine', () => {
    expect(resolveInside(root, './out')).toBeUndefined()
    expect(resolveInside(root, './out/not/yet/there')).toBeUndefined()
    expect(resolveInside(root, './in')).toBe(path.join(root, 'in'))
  })

  it('does not mistake a sibling with a common prefix for the inside', () => {
    mkdirSync(path.join(base, 'project-evil'), { recursive: true })
    expect(resolveInside(root, '../project-evil')).toBeUndefined()
  })
})
