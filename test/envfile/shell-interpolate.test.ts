import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parseEnvfile } from '../../src/envfile/index.js'
import { interpolateShellCommand } from '../../src/envfile/shell-interpolate.js'
import { DevenvError } from '../../src/errors.js'

const scratch = mkdtempSync(path.join(tmpdir(), 'devenv-shell-interpolate-'))
const marker = path.join(scratch, 'pwned')
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/** Values a hostile or careless .env could hold: each must reach the command as its very text. */
const HOSTILE = [
  `$(touch ${marker})`,
  `\`touch ${marker}\``,
  `a; touch ${marker}`,
  `a && touch ${marker} || true`,
  `it's "quoted" \\ $HOME`,
  `'; touch ${marker}; echo '`,
  `"; touch ${marker}; echo "`,
  'line one\nline two',
  '*',
  `) ; touch ${marker} ; (`,
]

/** Commands with ${V} in each place it can stand; what each prints for V, as the shell would print the text. */
const PLACES: Array<{ command: string; expected: (value: string) => string }> = [
  { command: 'echo A ${V}', expected: (value) => `A ${value}\n` },
  { command: 'echo "A ${V} B"', expected: (value) => `A ${value} B\n` },
  { command: "echo 'A ${V} B'", expected: (value) => `A ${value} B\n` },
  { command: 'echo "$(echo "${V}")"', expected: (value) => `${value}\n` },
  { command: 'printf "%s|" ${V} && echo', expected: (value) => `${value}|\n` },
  { command: '(printf %s ${V}); echo', expected: (value) => `${value}\n` },
  { command: 'x="${V}"; printf "%s\\n" "$x"', expected: (value) => `${value}\n` },
]

function run(line: string): string {
  return execFileSync('/bin/sh', ['-c', line], { encoding: 'utf8' })
}

describe('a variable interpolated into a shell command is data, never code', () => {
  for (const value of HOSTILE) {
    for (const place of PLACES) {
      it(`${JSON.stringify(place.command)} with V=${JSON.stringify(value)}`, () => {
        const line = interpolateShellCommand(place.command, { V: value })
        expect(run(line)).toBe(place.expected(value))
        expect(existsSync(marker)).toBe(false)
      })
    }
  }

  it("keeps the command's own code, $$ and the runtime variables as written", () => {
    expect(interpolateShellCommand('echo $$HOME ${PORT} ${DEVENV_NAME} && ls', {})).toBe(
      'echo $HOME ${PORT} ${DEVENV_NAME} && ls',
    )
    expect(interpolateShellCommand('echo ${V:-two words}', {})).toBe("echo 'two words'")
  })

  it('refuses a variable inside backticks, where no quoting is safe, naming the line', () => {
    const text = 'services:\n  web:\n    command: echo `echo ${V}`\n'
    let thrown: unknown
    try {
      parseEnvfile('/project/devenv.yaml', text, { variables: { V: 'x' } })
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(DevenvError)
    expect((thrown as DevenvError).message).toMatch(/\$\{V\} is inside backticks/)
    expect((thrown as DevenvError).location?.line).toBe(3)
  })

  it('quotes in command, build, health and watch commands; a list command and env values are left to their own quoting', () => {
    const text = [
      'services:',
      '  web:',
      '    command: echo ${V}',
      '    build: make ${V}',
      '    health: { command: "test ${V}" }',
      '    mounts: [{ source: ., target: /app, watch: "echo ${V}" }]',
      '    env: { RAW: "${V}" }',
      '  other:',
      '    command: [echo, "${V}"]',
      '    mounts: [{ source: ., target: /app, watch: "${MODE}" }]',
    ].join('\n')
    const spec = parseEnvfile(path.join(scratch, 'devenv.yaml'), text, { variables: { V: 'a;b', MODE: 'restart' } })
    const web = spec.services.web!
    expect(web.command).toBe("echo 'a;b'")
    expect(web.build?.command).toBe("make 'a;b'")
    expect(web.health?.check).toEqual({ kind: 'command', command: "test 'a;b'" })
    expect(web.mounts[0]!.watch).toEqual({ kind: 'command', command: "echo 'a;b'" })
    expect(web.env.RAW).toBe('a;b')
    expect(spec.services.other!.command).toBe("echo 'a;b'")
    expect(spec.services.other!.mounts[0]!.watch).toEqual({ kind: 'restart' })
  })
})
