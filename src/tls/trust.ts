import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DevenvError } from '../errors.js'
import type { CaPaths } from './paths.js'

export type TrustSystem = 'debian' | 'fedora' | 'macos' | 'windows' | 'unknown'

/** How the CA gets into this machine's system trust store. */
export interface TrustPlan {
  system: TrustSystem
  /** Where the CA certificate is copied to (Linux stores), if anywhere. */
  destination?: string
  /** Commands to run, in order, after the copy. */
  commands: string[][]
  /** Whether the commands need root. */
  needsRoot: boolean
  /** Folders the commands expect to exist (only for a store under DEVENV_TRUST_ROOT). */
  folders?: string[]
}

export interface TrustResult {
  system: TrustSystem
  destination?: string
  /** How it was done: already as root, or through sudo. */
  via: 'root' | 'sudo' | 'user'
  commands: string[]
}

/**
 * DEVENV_TRUST_ROOT points the Debian store at another folder (tests, image builds): the CA goes to
 * <root>/usr/local/share/ca-certificates and the bundle is rebuilt in <root>/etc/ssl/certs.
 */
export function trustPlan(ca: CaPaths, environment: NodeJS.ProcessEnv = process.env): TrustPlan {
  const fileName = `devenv-${os.hostname().replace(/[^A-Za-z0-9.-]/g, '-')}.crt`
  const root = environment.DEVENV_TRUST_ROOT
  if (root) {
    const local = path.join(root, 'usr/local/share/ca-certificates')
    const etc = path.join(root, 'etc/ssl/certs')
    const hooks = path.join(root, 'etc/ca-certificates/update.d')
    return {
      system: 'debian',
      destination: path.join(local, fileName),
      commands: [['update-ca-certificates', '--localcertsdir', local, '--etccertsdir', etc, '--hooksdir', hooks]],
      needsRoot: false,
      folders: [local, etc, hooks],
    }
  }
  if (process.platform === 'darwin') {
    return {
      system: 'macos',
      commands: [
        [
          'security',
          'add-trusted-cert',
          '-d',
          '-r',
          'trustRoot',
          '-k',
          '/Library/Keychains/System.keychain',
          ca.certificate,
        ],
      ],
      needsRoot: true,
    }
  }
  if (process.platform === 'win32') {
    return { system: 'windows', commands: [['certutil', '-addstore', '-f', 'ROOT', ca.certificate]], needsRoot: true }
  }
  if (existsSync('/usr/local/share/ca-certificates') || onPath('update-ca-certificates')) {
    return {
      system: 'debian',
      destination: `/usr/local/share/ca-certificates/${fileName}`,
      commands: [['update-ca-certificates']],
      needsRoot: true,
    }
  }
  if (existsSync('/etc/pki/ca-trust/source/anchors') || onPath('update-ca-trust')) {
    return {
      system: 'fedora',
      destination: `/etc/pki/ca-trust/source/anchors/${fileName}`,
      commands: [['update-ca-trust', 'extract']],
      needsRoot: true,
    }
  }
  return { system: 'unknown', commands: [], needsRoot: true }
}

/** The plan as shell lines a person can paste. */
export function manualSteps(plan: TrustPlan, ca: CaPaths, sudo: boolean): string[] {
  const prefix = sudo && plan.needsRoot ? 'sudo ' : ''
  const lines: string[] = []
  if (plan.destination) lines.push(`${prefix}install -m 0644 ${quote(ca.certificate)} ${quote(plan.destination)}`)
  for (const command of plan.commands) lines.push(prefix + command.map(quote).join(' '))
  return lines
}

/**
 * Installs the CA into the system store: directly as root, else through sudo, else fails naming
 * the commands to run. execa is loaded here, not at the top: the lb's start imports this module
 * (through tls/index.ts), and execa's ~40 modules took 30-40 ms of the supervisor's CPU in every `up`.
 */
export async function installTrust(plan: TrustPlan, ca: CaPaths): Promise<TrustResult> {
  if (plan.system === 'unknown') {
    throw new DevenvError('TLS', "cannot tell how to add a certificate authority to this system's trust store", {
      hint: `Add ${ca.certificate} to your system's trusted authorities by hand; \`devenv tls ca\` shows how to trust it per client.`,
    })
  }
  const isRoot = process.getuid?.() === 0
  let via: TrustResult['via'] = plan.needsRoot ? 'root' : 'user'
  if (plan.needsRoot && !isRoot) {
    if (!(await sudoUsable())) {
      throw new DevenvError(
        'TLS',
        'installing the CA in the system trust store needs root, and sudo is not available here',
        {
          hint: `As root, run:\n    ${manualSteps(plan, ca, false).join('\n    ')}`,
        },
      )
    }
    via = 'sudo'
  }
  const { execa } = await import('execa')
  const run = async (command: string[]): Promise<void> => {
    const [file, ...args] = via === 'sudo' ? ['sudo', ...command] : command
    try {
      await execa(file!, args, { stdin: 'inherit', stdout: 'pipe', stderr: 'pipe' })
    } catch (error) {
      const detail = (error as { stderr?: string; shortMessage?: string }).stderr?.trim() || (error as Error).message
      throw new DevenvError('TLS', `\`${command.join(' ')}\` failed: ${detail}`, {
        hint: `Run by hand:\n    ${manualSteps(plan, ca, via === 'sudo').join('\n    ')}`,
      })
    }
  }
  for (const folder of plan.folders ?? []) mkdirSync(folder, { recursive: true })
  if (plan.destination) {
    const alreadyThere =
      existsSync(plan.destination) && readFileSync(plan.destination, 'utf8') === readFileSync(ca.certificate, 'utf8')
    if (!alreadyThere) {
      await run(['install', '-D', '-m', '0644', ca.certificate, plan.destination])
    }
  }
  for (const command of plan.commands) await run(command)
  return {
    system: plan.system,
    ...(plan.destination ? { destination: plan.destination } : {}),
    via,
    commands: manualSteps(plan, ca, via === 'sudo'),
  }
}

async function sudoUsable(): Promise<boolean> {
  if (!onPath('sudo')) return false
  // With a terminal, sudo can ask for the password; without one it must not need it.
  if (process.stdin.isTTY) return true
  const { execa } = await import('execa')
  const probe = await execa('sudo', ['-n', 'true'], { reject: false, stdin: 'ignore' })
  return probe.exitCode === 0
}

function onPath(command: string): boolean {
  const folders = (process.env.PATH ?? '').split(path.delimiter).concat(['/usr/sbin', '/sbin'])
  return folders.some((folder) => folder && existsSync(path.join(folder, command)))
}

function quote(word: string): string {
  return /^[A-Za-z0-9_./:=@-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`
}
