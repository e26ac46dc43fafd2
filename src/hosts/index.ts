import type { EnvSpec } from '../envfile/index.js'
import { renderBlock, type BlockOwner, type HostsEntry } from './block.js'
import { changeHostsFile, currentBlock, readHostsBytes, type HostsChange } from './change.js'
import { runningOwners, type IsRunning } from './claims.js'
import { elevatedCommand, runElevated, saveChangeRequest, shellQuote } from './elevate.js'
import { hostsFilePath } from './file.js'
import type { WriteIo } from './write.js'

export type { BlockOwner, HostsEntry } from './block.js'
export { renderBlock } from './block.js'
export { hostsFilePath } from './file.js'
export type { WriteIo } from './write.js'

export interface HostsOptions {
  /** The hosts file (default: hostsFilePath()). */
  file?: string
  /** false for --no-sudo: never ask for elevation, print the command instead. */
  sudo?: boolean
  /** May sudo ask for a password? Default: stdin and stderr are terminals. */
  interactive?: boolean
  /** Which other projects run now (their hostnames are refused, not taken over); default: none. */
  isRunning?: IsRunning
  /** Where lines for people go (why sudo is asked); default stderr. */
  note?: (line: string) => void
  /** Tests replace file-system calls to make them fail. */
  io?: WriteIo
}

export interface HostsResult {
  action: 'apply' | 'remove'
  file: string
  project: string
  /** The file now holds what was asked (false: permission refused, see `command`). */
  applied: boolean
  /** This call changed the file. */
  changed: boolean
  /** How the file was written: renamed over, rewritten in place (bind mount), or by the sudo helper. */
  method?: 'rename' | 'in-place' | 'sudo'
  /** When not applied: the exact command that applies it with administrator rights. */
  command?: string
  /** The block as asked for (apply), null for remove. */
  block: string | null
  /** One line for people saying what happened. */
  message: string
}

/** The block's lines: each service's hostnames at its address (services without an address or hostnames are left out). */
export function hostsEntries(spec: EnvSpec, addresses: Record<string, string>): HostsEntry[] {
  return Object.values(spec.services)
    .filter((service) => service.hostnames.length > 0 && addresses[service.name])
    .map((service) => ({ address: addresses[service.name]!, hostnames: [...service.hostnames] }))
}

export function ownerOf(spec: EnvSpec): BlockOwner {
  return { project: spec.name, root: spec.root }
}

/** Puts the project's block into the hosts file (replacing its previous one). */
export async function applyHostsBlock(
  owner: BlockOwner,
  entries: HostsEntry[],
  options: HostsOptions = {},
): Promise<HostsResult> {
  return change({ file: options.file ?? hostsFilePath(), owner, entries }, options)
}

/** Takes the project's block out of the hosts file; every other byte stays. */
export async function removeHostsBlock(owner: BlockOwner, options: HostsOptions = {}): Promise<HostsResult> {
  return change({ file: options.file ?? hostsFilePath(), owner, entries: null }, options)
}

/** The project's block as it is in the hosts file now, or undefined. */
export function readHostsBlock(
  owner: BlockOwner,
  options: Pick<HostsOptions, 'file'> = {},
): { text: string; entries: HostsEntry[] } | undefined {
  return currentBlock(options.file ?? hostsFilePath(), owner)
}

/** For `up`: map every service's hostnames to its address. */
export async function syncHosts(
  spec: EnvSpec,
  addresses: Record<string, string>,
  options: HostsOptions = {},
): Promise<HostsResult> {
  return applyHostsBlock(ownerOf(spec), hostsEntries(spec, addresses), options)
}

/** For `down`: take the project's block out. */
export async function clearHosts(spec: EnvSpec, options: HostsOptions = {}): Promise<HostsResult> {
  return removeHostsBlock(ownerOf(spec), options)
}

async function change(request: HostsChange, options: HostsOptions): Promise<HostsResult> {
  const action = request.entries && request.entries.length > 0 ? 'apply' : 'remove'
  const block = action === 'apply' ? renderBlock(request.owner, request.entries!) : null
  const base = { action, file: request.file, project: request.owner.project, block } as const
  const done =
    action === 'apply'
      ? `hostnames of ${request.owner.project} mapped in ${request.file}`
      : `hostnames of ${request.owner.project} removed from ${request.file}`
  if (request.entries && options.isRunning)
    request.running = runningOwners(readHostsBytes(request.file), request.file, request.owner, options.isRunning)
  const outcome = await changeHostsFile(request, options.io)
  if (outcome.status === 'unchanged') {
    return {
      ...base,
      applied: true,
      changed: false,
      message:
        action === 'apply'
          ? `${request.file} already maps the hostnames of ${request.owner.project}`
          : `${request.file} has no block of ${request.owner.project}`,
    }
  }
  if (outcome.status === 'written') {
    const tookOver = outcome.tookOver.length > 0 ? `; took over ${outcome.tookOver.join('; ')}` : ''
    return { ...base, applied: true, changed: true, method: outcome.method, message: `${done}${tookOver}` }
  }

  const note = options.note ?? ((line: string) => process.stderr.write(`${line}\n`))
  const requestFile = saveChangeRequest(request)
  const command = elevatedCommand(requestFile).map(shellQuote).join(' ')
  const interactive = options.interactive ?? Boolean(process.stdin.isTTY && process.stderr.isTTY)
  if (options.sudo !== false && interactive && process.platform !== 'win32') {
    note(
      `devenv needs administrator rights to ${action === 'apply' ? 'add' : 'remove'} the hostnames of ${request.owner.project} in ${request.file}; sudo asks for your password for this one write only.`,
    )
    const elevated = runElevated(requestFile)
    if (elevated.ok) return { ...base, applied: true, changed: true, method: 'sudo', message: done }
    note(`sudo did not write ${request.file}: ${elevated.reason}`)
  }
  return {
    ...base,
    applied: false,
    changed: false,
    command,
    message: `${request.file} is not writable by you (${outcome.reason}); to ${action === 'apply' ? 'map' : 'remove'} the hostnames of ${request.owner.project}, run:\n  ${command}`,
  }
}
