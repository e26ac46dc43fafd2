import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Launch } from '../../boxes/index.js'
import type { ResourceLimits } from '../../envfile/index.js'
import { DevenvError } from '../../errors.js'

/**
 * `resources:` through cgroups: a group per service, made before it starts, which its first
 * process joins before it execs the service (a shell prefix), so everything it starts is counted.
 * cgroup v2 where /sys/fs/cgroup is the unified hierarchy (memory.max, memory.swap.max, cpu.max);
 * v1 otherwise (memory.limit_in_bytes and memsw so it cannot swap around its limit, cpu.cfs_quota_us).
 */
const ROOT = process.env.DEVENV_CGROUP_ROOT ?? '/sys/fs/cgroup'
const PERIOD_US = 100_000

export interface CgroupPlan {
  /** cgroup.procs files the first process writes itself to. */
  procs: string[]
  /** Folders to remove when the service has stopped. */
  folders: string[]
  /** For status: what the service is held to. */
  description: string
}

function groupName(projectRoot: string, project: string, service: string): string {
  return `${project}-${createHash('sha256').update(projectRoot).digest('hex').slice(0, 8)}-${service}`
}

function write(file: string, value: string): void {
  writeFileSync(file, value)
}

function isV2(): boolean {
  return existsSync(path.join(ROOT, 'cgroup.controllers'))
}

/** Binary units, as the envfile writes them (64m is 64 MiB). */
function binarySize(bytes: number): string {
  if (bytes >= 1024 ** 3 && bytes % 1024 ** 3 === 0) return `${bytes / 1024 ** 3} GiB`
  if (bytes >= 1024 ** 2) return `${Math.round((bytes / 1024 ** 2) * 10) / 10} MiB`
  return `${bytes} bytes`
}

function describe(limits: ResourceLimits, version: string): string {
  const parts = [
    ...(limits.memoryBytes !== undefined ? [`memory ${binarySize(limits.memoryBytes)}`] : []),
    ...(limits.cpus !== undefined ? [`${limits.cpus} CPU${limits.cpus === 1 ? '' : 's'}`] : []),
  ]
  return `limited to ${parts.join(', ')} (cgroup ${version})`
}

function planV2(name: string, limits: ResourceLimits): CgroupPlan {
  const parent = path.join(ROOT, 'devenv')
  mkdirSync(parent, { recursive: true })
  const wanted = [
    ...(limits.memoryBytes !== undefined ? ['memory'] : []),
    ...(limits.cpus !== undefined ? ['cpu'] : []),
  ]
  for (const folder of [ROOT, parent]) {
    const enabled = readFileSync(path.join(folder, 'cgroup.subtree_control'), 'utf8').split(/\s+/)
    const missing = wanted.filter((controller) => !enabled.includes(controller))
    if (missing.length)
      write(path.join(folder, 'cgroup.subtree_control'), missing.map((controller) => `+${controller}`).join(' '))
  }
  const group = path.join(parent, name)
  mkdirSync(group, { recursive: true })
  if (limits.memoryBytes !== undefined) {
    write(path.join(group, 'memory.max'), String(limits.memoryBytes))
    if (existsSync(path.join(group, 'memory.swap.max'))) write(path.join(group, 'memory.swap.max'), '0')
  }
  if (limits.cpus !== undefined)
    write(path.join(group, 'cpu.max'), `${Math.round(limits.cpus * PERIOD_US)} ${PERIOD_US}`)
  return { procs: [path.join(group, 'cgroup.procs')], folders: [group], description: describe(limits, 'v2') }
}

function planV1(name: string, limits: ResourceLimits): CgroupPlan {
  const plan: CgroupPlan = { procs: [], folders: [], description: describe(limits, 'v1') }
  if (limits.memoryBytes !== undefined) {
    const group = path.join(ROOT, 'memory', 'devenv', name)
    mkdirSync(group, { recursive: true })
    // memsw (memory + swap) may not be below the memory limit: raise it last when lowering.
    const memsw = path.join(group, 'memory.memsw.limit_in_bytes')
    if (existsSync(memsw)) write(memsw, '-1')
    write(path.join(group, 'memory.limit_in_bytes'), String(limits.memoryBytes))
    if (existsSync(memsw)) write(memsw, String(limits.memoryBytes))
    plan.procs.push(path.join(group, 'cgroup.procs'))
    plan.folders.push(group)
  }
  if (limits.cpus !== undefined) {
    const controller = ['cpu', 'cpu,cpuacct']
      .map((folder) => path.join(ROOT, folder))
      .find((folder) => existsSync(path.join(folder, 'cgroup.procs')))
    if (!controller) throw new DevenvError('RUNTIME', 'resources.cpus: this machine has no cpu cgroup controller')
    const group = path.join(controller, 'devenv', name)
    mkdirSync(group, { recursive: true })
    write(path.join(group, 'cpu.cfs_period_us'), String(PERIOD_US))
    write(path.join(group, 'cpu.cfs_quota_us'), String(Math.round(limits.cpus * PERIOD_US)))
    plan.procs.push(path.join(group, 'cgroup.procs'))
    plan.folders.push(group)
  }
  return plan
}

/** Makes (or updates) the service's cgroups; says why when this machine cannot. */
export function prepareCgroups(
  projectRoot: string,
  project: string,
  service: string,
  limits: ResourceLimits,
): CgroupPlan {
  if (process.platform !== 'linux')
    throw new DevenvError('RUNTIME', `service ${service}: resources: needs Linux cgroups`, {
      hint: 'Remove resources:, or use runtime: docker.',
    })
  if (process.getuid?.() !== 0)
    throw new DevenvError('RUNTIME', `service ${service}: resources: needs root to make cgroups`, {
      hint: 'Run devenv as root, or remove resources:.',
    })
  const name = groupName(projectRoot, project, service)
  try {
    return isV2() ? planV2(name, limits) : planV1(name, limits)
  } catch (error) {
    if (error instanceof DevenvError) throw error
    throw new DevenvError(
      'RUNTIME',
      `service ${service}: cannot set its resources through cgroups: ${(error as Error).message}`,
    )
  }
}

/** `launch`, started inside the plan's cgroups. */
export function inCgroups(launch: Launch, plan: CgroupPlan): Launch {
  return {
    ...launch,
    command: '/bin/sh',
    args: [
      '-c',
      'while [ "$1" != -- ]; do echo $$ > "$1"; shift; done; shift; exec "$@"',
      'devenv-limits',
      ...plan.procs,
      '--',
      launch.command,
      ...launch.args,
    ],
  }
}

/** Removes the service's cgroups once nothing runs in them (a group with processes stays). */
export function removeCgroups(plan: CgroupPlan): void {
  // The shared devenv/ parent goes too when this was its last group.
  for (const folder of [...plan.folders, ...plan.folders.map((group) => path.dirname(group))]) {
    try {
      rmdirSync(folder)
    } catch {
      // still in use (another service's group, or a process), or gone
    }
  }
}
