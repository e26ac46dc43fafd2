import type { ChildProcess } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { loadEnvfile, type EnvSpec } from '../../src/envfile/index.js'
import type { ProjectState } from '../../src/state/project-state.js'
import { FIXTURES } from '../cli/run-cli.js'
import { launchBox } from '../support/launch-box.js'
import { testServiceContext } from '../support/service-context.js'
import { processStartTicks } from '../../src/runtime/bundled/process.js'

// The driver launches dist/boxes/mail/main.js: build first with `npx tsc -p tsconfig.build.json`.
const { mailDriver } = (await import(
  new URL('../../dist/boxes/mail/driver.js', import.meta.url).href
)) as typeof import('../../src/boxes/mail/driver.js')

/** A loopback address of its own for each server, so tests never fight over ports. */

export function randomLoopback(): string {
  const byte = (low: number, high: number): number => low + Math.floor(Math.random() * (high - low))
  return `127.${byte(100, 250)}.${byte(0, 255)}.${byte(2, 254)}`
}

/** A copy of the mail-project fixture in a temp folder, loaded as devenv would load it. */
export function mailProject(): { root: string; spec: EnvSpec; remove(): void } {
  const root = mkdtempSync(path.join(tmpdir(), 'devenv-mail-'))
  cpSync(path.join(FIXTURES, 'mail-project'), root, { recursive: true })
  return { root, spec: loadEnvfile({ cwd: root }), remove: () => rmSync(root, { recursive: true, force: true }) }
}

export interface RunningMail {
  address: string
  smtpPort: number
  webPort: number
  dataDir: string
  url: string
  output(): string
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>
  child: ChildProcess
}

/** Prepares and launches a mail service of the project through its driver, as the runtime does. */
export async function startMail(spec: EnvSpec, service: string, address = randomLoopback()): Promise<RunningMail> {
  const serviceSpec = spec.services[service]!
  // declared 25 and 8025 stay; only the address is the test's own (binding 25 needs root)
  const ports = new Map([
    [serviceSpec.mail!.smtpPort, 2525],
    [serviceSpec.mail!.webPort, 8025],
  ])
  const context = testServiceContext(spec, service, address, (declared) => ports.get(declared) ?? declared)
  const box = await launchBox(mailDriver, context, 'mail: SMTP on')
  const webPort = ports.get(serviceSpec.mail!.webPort)!
  return {
    address,
    smtpPort: ports.get(serviceSpec.mail!.smtpPort)!,
    webPort,
    dataDir: context.dataDir,
    url: `http://${address}:${webPort}`,
    ...box,
  }
}

/**
 * A raw SMTP conversation, for what a polite client never sends: each command (or DATA body) is
 * written, and the reply code it earned is collected. `null` means the server closed the connection.
 * With `hangUpMidway`, the last step is written without its line end and the client hangs up.
 */
export async function smtpDialog(
  address: string,
  port: number,
  steps: string[],
  options: { hangUpMidway?: boolean } = {},
): Promise<(number | null)[]> {
  const socket = createConnection({ host: address, port })
  let buffer = ''
  let closed = false
  const waiters: (() => void)[] = []
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('latin1')
    waiters.splice(0).forEach((wake) => wake())
  })
  socket.on('close', () => {
    closed = true
    waiters.splice(0).forEach((wake) => wake())
  })
  socket.on('error', () => {})
  const nextReply = async (): Promise<number | null> => {
    for (;;) {
      // a complete reply ends with a line "NNN text" (a space, not a dash, after the code)
      const match = /^(\d{3}) [^\n]*\r?\n/m.exec(buffer)
      if (match) {
        buffer = buffer.slice(match.index + match[0].length)
        return Number(match[1])
      }
      if (closed) return null
      await new Promise<void>((resolve) => waiters.push(resolve))
    }
  }
  const codes: (number | null)[] = [await nextReply()]
  for (const [index, step] of steps.entries()) {
    if (options.hangUpMidway && index === steps.length - 1) {
      // the last step is sent as is and the connection dropped without waiting for an answer
      await new Promise<void>((resolve) => socket.write(step, () => resolve()))
      break
    }
    socket.write(step.endsWith('\r\n') ? step : `${step}\r\n`)
    codes.push(await nextReply())
  }
  socket.destroy()
  return codes
}

/** Runs a Python script (real smtplib/ftplib clients); its stdout, parsed as JSON. */
export async function python<T>(script: string, args: string[] = []): Promise<T> {
  const { execa } = await import('execa')
  const result = await execa('python3', ['-c', script, ...args], { timeout: 30_000 })
  return JSON.parse(result.stdout) as T
}

/** The state file the supervisor would write: the mail service running at the test's address. */
export function writeRunningState(root: string, running: RunningMail): void {
  const state: ProjectState = {
    project: 'mailtest',
    root,
    envfile: path.join(root, 'devenv.yaml'),
    updatedAt: new Date().toISOString(),
    services: {
      mail: {
        name: 'mail',
        box: 'mail',
        kind: 'mail',
        state: 'running',
        health: 'healthy',
        address: running.address,
        hostnames: ['mail.example.test'],
        ports: [
          { port: 25, bound: running.smtpPort, address: running.address },
          { port: 8025, bound: running.webPort, address: running.address },
        ],
        restarts: 0,
        // A live pid (this test process stands in for the server) so the runtime takes the service for running.
        pid: process.pid,
        pidStart: processStartTicks(process.pid),
      },
    },
  }
  writeFileSync(path.join(root, '.devenv', 'state.json'), JSON.stringify(state))
}
