import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ignoreTest } from '../../src/watch/ignore.js'
import { DevenvError } from '../../src/errors.js'

const source = path.resolve('/project/app')
const at = (relative: string) => path.join(source, relative)

describe('ignoreTest', () => {
  const ignored = ignoreTest(source, ['dist/**', '*.log', '/build', 'cache/'])

  it('always skips .git and node_modules at any depth', () => {
    expect(ignored(at('.git'))).toBe(true)
    expect(ignored(at('.git/index'))).toBe(true)
    expect(ignored(at('node_modules/x/index.js'))).toBe(true)
    expect(ignored(at('packages/a/node_modules/y.js'))).toBe(true)
  })

  it('matches name patterns at any depth and slash patterns from the source', () => {
    expect(ignored(at('dist'))).toBe(true)
    expect(ignored(at('dist/app.js'))).toBe(true)
    expect(ignored(at('src/dist/app.js'))).toBe(false)
    expect(ignored(at('server.log'))).toBe(true)
    expect(ignored(at('logs/deep/server.log'))).toBe(true)
    expect(ignored(at('build/out.js'))).toBe(true)
    expect(ignored(at('src/build/out.js'))).toBe(false)
    expect(ignored(at('src/cache/x'))).toBe(true)
  })

  it('skips editor swap and backup files but not the files being edited', () => {
    expect(ignored(at('src/.index.js.swp'))).toBe(true)
    expect(ignored(at('src/index.js~'))).toBe(true)
    expect(ignored(at('src/.#index.js'))).toBe(true)
    expect(ignored(at('src/4913'))).toBe(true)
    expect(ignored(at('src/index.js'))).toBe(false)
    expect(ignored(at('.env'))).toBe(false)
  })

  it('never ignores the source itself or paths outside it', () => {
    expect(ignored(source)).toBe(false)
    expect(ignored(path.resolve('/elsewhere/dist/x'))).toBe(false)
  })

  it('refuses patterns that climb out of the source', () => {
    expect(() => ignoreTest(source, ['../secret/**'])).toThrow(DevenvError)
    expect(() => ignoreTest(source, [''])).toThrow(/not a path below the mount/)
  })
})
