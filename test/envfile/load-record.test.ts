import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadEnvfile, newLoadRecord } from '../../src/envfile/index.js'

const root = mkdtempSync(path.join(tmpdir(), 'devenv-load-record-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

describe('a recorded load notes everything it read', () => {
  it('files with their text, variables with their shell value, project paths, the runtime, committed boxes', () => {
    writeFileSync(
      path.join(root, 'devenv.yaml'),
      [
        'name: recorded',
        'services:',
        '  web:',
        '    command: node -e 0 ${FROM_SHELL}',
        '    env: { A: "${FROM_DOTENV}", B: "${UNSET:-x}", C: "$${LITERAL}", D: "${PORT}" }',
        '    env_file: [web.env]',
        '    mounts: [./app:/app]',
        '  box:',
        '    box: mine:v1',
        '    port: 80',
        '',
      ].join('\n'),
    )
    writeFileSync(path.join(root, '.env'), 'FROM_DOTENV=dot\n')
    writeFileSync(path.join(root, 'web.env'), 'E=1\n')
    mkdirSync(path.join(root, 'app'), { recursive: true })
    const record = newLoadRecord()
    const spec = loadEnvfile({
      cwd: root,
      variables: { FROM_SHELL: 'shell' },
      resolveBox: () => 'static',
      runtime: () => 'docker',
      record,
    })
    expect(spec.services.web!.env).toMatchObject({ A: 'dot', B: 'x', C: '${LITERAL}', E: '1' })
    expect([...record.files]).toEqual([
      [path.join(root, 'devenv.yaml'), expect.stringContaining('name: recorded')],
      [path.join(root, '.env'), 'FROM_DOTENV=dot\n'],
      [path.join(root, 'web.env'), 'E=1\n'],
    ])
    // The shell's value: FROM_DOTENV came from .env, which is among the files; PORT is the runtime's.
    expect(Object.fromEntries(record.variables)).toEqual({
      FROM_SHELL: 'shell',
      FROM_DOTENV: undefined,
      UNSET: undefined,
    })
    expect(record.paths).toContain(path.join(root, 'app'))
    expect(record.runtime).toBe('docker')
    expect(record.committedBoxes).toBe(1)
  })

  it('notes a .env that is not there', () => {
    rmSync(path.join(root, '.env'))
    writeFileSync(path.join(root, 'devenv.yaml'), 'name: recorded\nservices:\n  web:\n    command: node -e 0\n')
    const record = newLoadRecord()
    loadEnvfile({ cwd: root, variables: {}, record })
    expect(record.files.get(path.join(root, '.env'))).toBeUndefined()
    expect(record.files.has(path.join(root, '.env'))).toBe(true)
    expect(record.committedBoxes).toBe(0)
  })
})
