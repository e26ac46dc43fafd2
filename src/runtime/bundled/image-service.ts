import { existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import type { Launch, ServiceContext } from '../../boxes/index.js'
import { DevenvError } from '../../errors.js'
import {
  imageOwners,
  pullImage,
  readConfig,
  readImageRecord,
  storedName,
  parseImageReference,
  type ImageOwners,
  type ImageRunConfig,
} from '../../images/index.js'
import { readJson, writeFileAtomic, writeJsonAtomic } from '../../state/index.js'
import { commandProbe, type Probe } from '../probes.js'
import { fillRuntimeVariables } from '../../spec/index.js'
import { imageRootCommand, TINI } from './image-root.js'
import { ownerMark } from './owned-processes.js'
import { insideAddress, ServiceNetwork, type Peer } from './netns.js'
import type { EnvSpec, HealthSpec } from '../../envfile/index.js'
import { resolveImageUser, shellWords } from './image-user.js'
import { checkIdsFit } from './image-userns.js'
import { userNamespaceAllowed, userNamespacePlan } from '../../util/user-namespace.js'
import { imageRootfs } from './image-unpack.js'
import { enterImage, imageExecFile, type ImageExecInfo } from './image-exec.js'

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
/** Variables of devenv's own a service sees inside an image (host paths such as DEVENV_DATA are not). */
const RUNTIME_KEYS = ['HOST', 'PORT', 'DEVENV_PROJECT', 'DEVENV_SERVICE', 'DEVENV_ADDRESS', 'DEVENV_HOSTNAMES']

/** Says why an image cannot run here, before anything is pulled. */
export function checkPlatform(service: string): void {
  if (process.platform !== 'linux')
    throw new DevenvError('RUNTIME', `service ${service}: image: needs Linux on the bundled runtime`, {
      hint: 'Use runtime: docker for images elsewhere.',
    })
  if (process.getuid?.() !== 0 && !userNamespaceAllowed())
    throw new DevenvError(
      'RUNTIME',
      `service ${service}: without root, an image service runs in a user namespace, and this kernel refuses to make one for user ${process.getuid?.()}`,
      {
        hint: 'Allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0, or the AppArmor restriction lifted), run devenv as root, or use runtime: docker.',
      },
    )
  if (!existsSync(TINI))
    throw new DevenvError('RUNTIME', `service ${service}: ${TINI} is missing; it is the init of image services`, {
      hint: 'apt-get install tini',
    })
}

/**
 * The launch of an image service: the image pulled when it is not in the store, its config's
 * Entrypoint, Cmd (the envfile's command replaces it), Env, WorkingDir, User and StopSignal
 * honoured, run in its own namespaces on its own root (image-root.ts).
 */
export async function imageLaunch(
  context: ServiceContext,
  serviceDir: string,
  onPhase: (message: string) => void,
  project: EnvSpec,
): Promise<{ launch: Launch; description: string; health?: HealthSpec }> {
  const service = context.service
  const image = service.image!
  checkPlatform(service.name)
  let record = readImageRecord(storedName(parseImageReference(image)))
  if (!record) {
    onPhase(`pulling ${image}`)
    record = (await pullImage(image)).image
  }
  const config = (await readConfig(record)).config ?? {}
  const userNamespace = userNamespacePlan()
  if (userNamespace)
    context.log(
      userNamespace.limitation
        ? `without root: in a user namespace where only root exists (${userNamespace.limitation.reason})`
        : `without root: in a user namespace of uids 0-${userNamespace.uidCount - 1} and gids 0-${userNamespace.gidCount - 1}`,
    )
  // Without root, an image needing ids its user namespace lacks is refused before it is unpacked.
  const owners = userNamespace ? await imageOwners(record) : { uids: [], gids: [] }
  if (userNamespace) checkIdsFit(service.name, image, neededIds(owners, config.User), userNamespace)
  const lower = await imageRootfs(record, userNamespace, owners)
  const command = service.command
    ? shellWords(fillRuntimeVariables(service.command, { ...context.env, HOST: '0.0.0.0' }))
    : (config.Cmd ?? [])
  const argv = [...(config.Entrypoint ?? []), ...command]
  if (!argv.length)
    throw new DevenvError(
      'RUNTIME',
      `service ${service.name}: image ${image} has no Entrypoint or Cmd, and the envfile gives no command`,
    )
  const user = resolveImageUser(lower, config.User, image)
  if (userNamespace) checkIdsFit(service.name, image, { uids: [user.uid], gids: [user.gid] }, userNamespace)
  const env: Record<string, string> = { PATH: DEFAULT_PATH, HOSTNAME: service.name, HOME: user.home }
  for (const entry of config.Env ?? []) {
    const equals = entry.indexOf('=')
    if (equals > 0) env[entry.slice(0, equals)] = entry.slice(equals + 1)
  }
  for (const key of [...RUNTIME_KEYS, ...Object.keys(service.env)])
    if (context.env[key] !== undefined) env[key] = context.env[key]
  // Its own network namespace: it listens on every address there, as in any container.
  env.HOST = '0.0.0.0'
  const layer = path.join(serviceDir, 'image')
  mkdirSync(context.runDir, { recursive: true })
  const hostsFile = path.join(context.runDir, 'hosts')
  writeFileAtomic(hostsFile, hostsFileText(context, imagePeers(context, project)))
  writeJsonAtomic(
    imageExecFile(context.runDir),
    { env, uid: user.uid, gid: user.gid, ...(userNamespace ? { userNamespace: true } : {}) } satisfies ImageExecInfo,
    0o600,
  )
  const wrapped = imageRootCommand({
    lower,
    // The writable layer is data: snapshots and `devenv commit` take it, `down` keeps it, `destroy` removes it.
    upper: path.join(context.dataDir, 'rootfs'),
    work: path.join(layer, 'work'),
    root: path.join(layer, 'root'),
    hostname: service.name,
    uid: user.uid,
    gid: user.gid,
    workdir: config.WorkingDir || '/',
    hostsFile,
    mounts: service.mounts,
    argv,
    ...(userNamespace ? { userNamespace: userNamespace.unshareArgs } : {}),
  })
  const launch: Launch = {
    ...wrapped,
    env,
    cwd: context.runDir,
    ...(config.StopSignal ? { stopSignal: signalName(config.StopSignal) } : {}),
  }
  const health = imageHealth(config.Healthcheck)
  return { launch, description: `${record.name} ${argv.join(' ')}`, ...(health ? { health } : {}) }
}

/** The ids an image's files belong to, and its User when it is given as numbers. */
function neededIds(owners: ImageOwners, user: string | undefined): { uids: number[]; gids: number[] } {
  const [uid, gid] = (user ?? '').split(':')
  const numeric = (id: string | undefined): number[] => (id && /^\d+$/.test(id) ? [Number(id)] : [])
  return { uids: [...owners.uids, ...numeric(uid)], gids: [...owners.gids, ...numeric(gid ?? uid)] }
}

function signalName(given: string): NodeJS.Signals {
  const upper = given.toUpperCase()
  const named = /^\d+$/.test(upper) ? undefined : upper.startsWith('SIG') ? upper : `SIG${upper}`
  return (named ?? 'SIGTERM') as NodeJS.Signals
}

/** The project's other services as the image service's namespace sees them (netns.ts). */
export function imagePeers(context: ServiceContext, project: EnvSpec): Peer[] {
  return Object.values(project.services)
    .filter((peer) => peer.name !== context.service.name)
    .map((peer) => {
      const endpoint = context.endpoint(peer.name)
      return {
        name: peer.name,
        hostnames: peer.hostnames,
        hostAddress: endpoint.address,
        ports: peer.ports.map((declared) => ({ declared, bound: endpoint.port(declared) })),
      }
    })
}

/** /etc/hosts of an image service: itself, and every other service by its name and hostnames at its address inside. */
function hostsFileText(context: ServiceContext, peers: Peer[]): string {
  const lines = ['127.0.0.1\tlocalhost', `127.0.0.1\t${[context.service.name, ...context.service.hostnames].join(' ')}`]
  for (const peer of peers)
    lines.push(`${insideAddress(peer.hostAddress)}\t${[peer.name, ...peer.hostnames].join(' ')}`)
  return `${lines.join('\n')}\n`
}

/** After spawn: the service's network, reachable from the host at its address (netns.ts). */
export function openImageNetwork(
  context: ServiceContext,
  project: EnvSpec,
  pid: number,
  ports: Array<{ declared: number; bound: number }>,
): Promise<ServiceNetwork> {
  return ServiceNetwork.open(
    pid,
    context.address,
    ports,
    imagePeers(context, project),
    (line) => context.log(line),
    ownerMark(project.root),
    userNamespacePlan() !== undefined,
  )
}

const NANOSECONDS_PER_MS = 1_000_000

/** The image config's Healthcheck as a health spec (Docker's defaults: 30 s, 30 s, 3 retries), when it has one. */
export function imageHealth(check: ImageRunConfig['Healthcheck'] | undefined): HealthSpec | undefined {
  const [kind, ...rest] = check?.Test ?? []
  if (!kind || kind === 'NONE' || !rest.length) return undefined
  const command = kind === 'CMD-SHELL' ? rest.join(' ') : rest.map(quoteWord).join(' ')
  const ms = (value: number | undefined, fallback: number): number =>
    value ? Math.round(value / NANOSECONDS_PER_MS) : fallback
  return {
    check: { kind: 'command', command },
    intervalMs: ms(check?.Interval, 30_000),
    timeoutMs: ms(check?.Timeout, 30_000),
    retries: check?.Retries || 3,
    startPeriodMs: ms(check?.StartPeriod, 0),
  }
}

function quoteWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`
}

/**
 * A health command of an image service runs inside it (its namespaces, its root, its user and
 * environment), as `docker exec` would: the probe enters the namespaces of the unshare's child.
 */
export function imageCommandProbe(command: string, unsharePid: number, runDir: string): Probe {
  const info = readJson<ImageExecInfo>(imageExecFile(runDir))
  const target = `"$(cut -d' ' -f1 /proc/${unsharePid}/task/${unsharePid}/children)"`
  const enter = `exec ${enterImage(target, info).join(' ')} /bin/sh -c ${quoteWord(command)}`
  return commandProbe(enter, info?.env ?? {}, runDir)
}
