import { readFileSync } from 'node:fs'
import path from 'node:path'
import { parseEnv } from 'node:util'
import { boxesTakingSetting, BUILTIN_BOXES, describeBox, isBuiltinBox } from './box-catalog.js'
import { DevenvError } from '../errors.js'
import { parseDuration, parseSize } from '../util/duration.js'
import { resolveInside } from '../util/paths.js'
import { didYouMean } from '../util/suggest.js'
import type {
  BoxKind,
  BoxRef,
  BuildSpec,
  ImageBuildSpec,
  DatabaseSpec,
  DependencySpec,
  EnvSpec,
  HealthCheck,
  HealthSpec,
  MountSpec,
  PublishSpec,
  RestartSpec,
  ServiceSpec,
  WatchAction,
} from './model.js'
import type { RawEnvfile, RawHealth, RawMount, RawPublish, RawService, RawWatch } from './raw.js'
import type { EnvfileSource, FieldPath } from './source.js'
import type { LoadRecord } from './load-record.js'
import { normaliseResources } from './resources.js'
import { parseImageReference } from '../util/image-reference.js'
import { DEFAULT_HEALTH_TIMING } from './model.js'

/** Finds the base kind of a committed box (NAME:TAG) in the box store; undefined when unknown. */
export type BoxResolver = (ref: BoxRef) => BoxKind | undefined

export interface NormaliseContext {
  source: EnvfileSource
  root: string
  resolveBox?: BoxResolver
  /** Where the paths resolved and the env_file files read are noted, when the load is recorded. */
  record?: Pick<LoadRecord, 'paths' | 'files'>
}

const SETTING_KEYS = new Set(BUILTIN_BOXES.flatMap((kind) => describeBox(kind).settings))

const DEFAULT_HEALTH = DEFAULT_HEALTH_TIMING
const DEFAULT_RESTART: RestartSpec = { policy: 'on-failure', maxRestarts: 5, backoffMs: 500 }

/** Applies defaults and resolves paths: the raw envfile becomes the EnvSpec everything else uses. */
export function normalise(raw: RawEnvfile, context: NormaliseContext): EnvSpec {
  const { source, root } = context
  const name = raw.name ?? projectNameFromFolder(root)
  const services: Record<string, ServiceSpec> = {}
  for (const [serviceName, rawService] of Object.entries(raw.services ?? {})) {
    services[serviceName] = normaliseService(serviceName, rawService ?? {}, raw, context)
  }
  return {
    name,
    ...(raw.domain ? { domain: raw.domain.toLowerCase() } : {}),
    runtime: raw.runtime ?? 'bundled',
    root,
    file: source.file,
    services,
    integrity: {
      files: (raw.integrity?.files ?? []).map((glob, index) => checkGlob(glob, ['integrity', 'files', index], context)),
      ...(raw.integrity?.manifest ? { manifest: raw.integrity.manifest } : {}),
    },
  }
}

function fail(
  context: NormaliseContext,
  at: FieldPath,
  message: string,
  hint?: string,
  options: { key?: boolean } = {},
): never {
  throw new DevenvError('ENVFILE_INVALID', message, { location: context.source.locate(at, options), hint })
}

function normaliseService(name: string, raw: RawService, envfile: RawEnvfile, context: NormaliseContext): ServiceSpec {
  const at = (...rest: Array<string | number>): FieldPath => ['services', name, ...rest]
  checkServiceName(name, context)
  const box = parseBoxRef(raw, name, context)
  const kind = resolveKind(box, name, context)
  const description = describeBox(kind)
  for (const key of Object.keys(raw)) {
    if (SETTING_KEYS.has(key) && !description.settings.includes(key)) {
      fail(
        context,
        at(key),
        `service ${name}: "${key}" is a setting of box ${boxesTakingSetting(key).join(' or ')}, and this service's box is ${box.name}`,
        undefined,
        { key: true },
      )
    }
  }
  if (description.needsCommand && !raw.command && !raw.image && !(raw.build && isImageBuild(raw.build))) {
    fail(
      context,
      at(),
      `service ${name}: box ${kind} needs a command`,
      `Add command: "node server.js" (or whatever starts it).`,
    )
  }

  const workdir = raw.workdir ? resolveProjectPath(raw.workdir, at('workdir'), context, raw.mounts) : context.root
  const ports = servicePorts(raw, kind)
  const mounts = (raw.mounts ?? []).map((mount, index) => normaliseMount(mount, at('mounts', index), kind, context))
  const hostnames = [...(raw.hostnames ?? []).map((host) => host.toLowerCase())]
  if (envfile.domain) {
    const own = `${name}.${envfile.domain}`.toLowerCase()
    if (!hostnames.includes(own)) hostnames.push(own)
  }

  if (raw.image) checkImageReference(raw.image, at('image'), context)
  const service: ServiceSpec = {
    name,
    box,
    kind,
    ...(raw.image ? { image: raw.image } : {}),
    ...(raw.build && !isImageBuild(raw.build)
      ? { build: normaliseBuild(raw.build, workdir, at('build'), context) }
      : {}),
    ...(raw.build && isImageBuild(raw.build)
      ? { imageBuild: normaliseImageBuild(raw.build, at('build'), context) }
      : {}),
    ...(raw.command
      ? { command: Array.isArray(raw.command) ? raw.command.map(shellQuote).join(' ') : raw.command }
      : {}),
    workdir,
    env: {
      ...(kind === 'node' ? { NODE_ENV: 'development' } : {}),
      ...loadEnvFiles(raw.env_file, at('env_file'), context),
      ...normaliseEnv(raw.env),
    },
    hostnames,
    ports,
    publish: (raw.publish ?? []).map((entry, index) =>
      normalisePublish(entry, at('publish', index), ports, name, context),
    ),
    mounts,
    dependsOn: normaliseDependsOn(raw.depends_on),
    restart: normaliseRestart(raw.restart),
    stopTimeoutMs: raw.stop_timeout !== undefined ? parseDuration(raw.stop_timeout) : 10_000,
    ...(raw.resources ? { resources: normaliseResources(raw.resources, at('resources'), context.source, name) } : {}),
    integrity: (raw.integrity ?? []).map((glob, index) => checkGlob(glob, at('integrity', index), context)),
  }
  const health = normaliseHealth(raw.health, ports, description.defaultHealth, at('health'), name, context)
  if (health) service.health = health
  else if (raw.health === false || raw.health === 'none') service.healthOff = true
  applyBoxSettings(service, raw, at, context)
  return service
}

/** An image name that cannot be pulled is said at its line, not when `up` gets to it. */
function checkImageReference(image: string, where: FieldPath, context: NormaliseContext): void {
  try {
    parseImageReference(image)
  } catch (error) {
    const problem = error as DevenvError
    fail(context, where, problem.message, problem.hint)
  }
}

function checkServiceName(name: string, context: NormaliseContext): void {
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(name)) {
    fail(
      context,
      ['services', name],
      `service name "${name}" is not a DNS label`,
      'Use lowercase letters, digits and "-", at most 63 characters, not starting or ending with "-" (it becomes a hostname).',
      { key: true },
    )
  }
}

function parseBoxRef(raw: RawService, name: string, context: NormaliseContext): BoxRef {
  if (!raw.box) {
    if (raw.command || raw.image || (raw.build && isImageBuild(raw.build))) return { name: 'process' }
    fail(
      context,
      ['services', name],
      `service ${name} has neither a box nor a command`,
      `Add box: ${BUILTIN_BOXES.join(' | ')}, or a command to run.`,
      { key: true },
    )
  }
  const [boxName, tag] = raw.box.split(':') as [string, string | undefined]
  return tag ? { name: boxName, tag } : { name: boxName }
}

function resolveKind(box: BoxRef, service: string, context: NormaliseContext): BoxKind {
  if (!box.tag && isBuiltinBox(box.name)) return box.name
  const committed = context.resolveBox?.(box)
  if (committed) return committed
  const written = box.tag ? `${box.name}:${box.tag}` : box.name
  if (box.tag) {
    fail(
      context,
      ['services', service, 'box'],
      `service ${service}: box ${written} is not in the box store`,
      'List boxes with `devenv box list`, or import one with `devenv box import FILE`.',
    )
  }
  fail(
    context,
    ['services', service, 'box'],
    `service ${service}: unknown box "${written}"${didYouMean(box.name, BUILTIN_BOXES)}`,
    `Built-in boxes: ${BUILTIN_BOXES.join(', ')}.`,
  )
}

function servicePorts(raw: RawService, kind: BoxKind): number[] {
  if (raw.ports?.length) {
    if (raw.port !== undefined && raw.ports[0] !== raw.port)
      return [raw.port, ...raw.ports.filter((port) => port !== raw.port)]
    return [...new Set(raw.ports)]
  }
  const defaults = [...describeBox(kind).defaultPorts]
  if (raw.port !== undefined) defaults[0] = raw.port
  if (kind === 'lb' && raw.tls === false) return defaults.slice(0, 1)
  return defaults
}

function resolveProjectPath(given: string, at: FieldPath, context: NormaliseContext, mounts?: RawMount[]): string {
  // A path inside a mount target (workdir: /app) means the mount's source on the host.
  for (const mount of mounts ?? []) {
    const { source, target } = splitMount(mount)
    if (given === target || given.startsWith(`${target.replace(/\/$/, '')}/`)) {
      return resolveProjectPath(path.join(source, given.slice(target.length)), at, context)
    }
  }
  const resolved = resolveInside(context.root, given)
  if (!resolved) {
    fail(
      context,
      at,
      `path "${given}" leads outside the project folder ${context.root}`,
      'Paths in the envfile must stay inside the folder that holds devenv.yaml.',
    )
  }
  context.record?.paths.add(resolved)
  return resolved
}

function splitMount(mount: RawMount): { source: string; target: string; readonly: boolean } {
  if (typeof mount !== 'string')
    return { source: mount.source, target: mount.target, readonly: mount.readonly ?? false }
  const [source, target, mode] = mount.split(':') as [string, string, string | undefined]
  return { source, target, readonly: mode === 'ro' }
}

function normaliseMount(mount: RawMount, at: FieldPath, kind: BoxKind, context: NormaliseContext): MountSpec {
  const { source, target, readonly } = splitMount(mount)
  const sourcePath = typeof mount === 'string' ? at : [...at, 'source']
  if (!target.startsWith('/'))
    fail(
      context,
      typeof mount === 'string' ? at : [...at, 'target'],
      `mount target "${target}" must be an absolute path`,
    )
  const rawWatch = typeof mount === 'string' ? undefined : mount.watch
  return {
    source: resolveProjectPath(source, sourcePath, context),
    target,
    readonly,
    watch: normaliseWatch(rawWatch, kind),
    ignore: typeof mount === 'string' ? [] : (mount.ignore ?? []),
  }
}

function normaliseWatch(watch: RawWatch | undefined, kind: BoxKind): WatchAction {
  if (watch === undefined || watch === 'sync') return { kind: 'sync' }
  if (watch === false || watch === 'none') return { kind: 'none' }
  if (watch === true) return kind === 'static' ? { kind: 'sync' } : { kind: 'restart' }
  if (watch === 'restart') return { kind: 'restart' }
  if (typeof watch === 'string') return { kind: 'command', command: watch }
  return { kind: 'command', command: (watch as { command: string }).command }
}

type RawImageBuild = Extract<NonNullable<RawService['build']>, { context: string }>

function isImageBuild(build: NonNullable<RawService['build']>): build is RawImageBuild {
  return typeof build === 'object' && 'context' in build
}

function normaliseImageBuild(build: RawImageBuild, at: FieldPath, context: NormaliseContext): ImageBuildSpec {
  const dockerfile = path.posix.normalize((build.dockerfile ?? 'Dockerfile').replace(/\\/g, '/'))
  if (path.posix.isAbsolute(dockerfile) || dockerfile === '..' || dockerfile.startsWith('../')) {
    fail(
      context,
      [...at, 'dockerfile'],
      `build.dockerfile ${build.dockerfile} is outside the build context`,
      'Name the Dockerfile relative to the context, inside it.',
    )
  }
  return {
    context: resolveProjectPath(build.context, [...at, 'context'], context),
    dockerfile,
    args: Object.fromEntries(Object.entries(build.args ?? {}).map(([key, value]) => [key, String(value)])),
    ...(build.target ? { target: build.target } : {}),
  }
}

function normaliseBuild(
  build: Exclude<NonNullable<RawService['build']>, RawImageBuild>,
  workdir: string,
  at: FieldPath,
  context: NormaliseContext,
): BuildSpec {
  if (typeof build === 'string') return { command: build, inputs: [], workdir }
  return {
    command: build.command,
    inputs: (build.inputs ?? []).map((glob, index) => checkGlob(glob, [...at, 'inputs', index], context)),
    workdir: build.workdir ? resolveProjectPath(build.workdir, [...at, 'workdir'], context) : workdir,
  }
}

function checkGlob(glob: string, at: FieldPath, context: NormaliseContext): string {
  const normalised = path.posix.normalize(glob.replace(/\\/g, '/'))
  if (path.posix.isAbsolute(normalised) || normalised === '..' || normalised.startsWith('../')) {
    fail(
      context,
      at,
      `"${glob}" leads outside the project folder`,
      'Write it relative to the folder that holds devenv.yaml.',
    )
  }
  return normalised
}

function normaliseEnv(env: RawService['env']): Record<string, string> {
  if (!env) return {}
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const index = entry.indexOf('=')
        return [entry.slice(0, index), entry.slice(index + 1)]
      }),
    )
  }
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value === null ? '' : String(value)]))
}

function loadEnvFiles(files: RawService['env_file'], at: FieldPath, context: NormaliseContext): Record<string, string> {
  if (!files) return {}
  const list = Array.isArray(files) ? files : [files]
  const env: Record<string, string> = {}
  list.forEach((file, index) => {
    const where = Array.isArray(files) ? [...at, index] : at
    const resolved = resolveProjectPath(file, where, context)
    let text: string
    try {
      text = readFileSync(resolved, 'utf8')
    } catch {
      fail(context, where, `env_file "${file}" cannot be read (${resolved})`)
    }
    context.record?.files.set(resolved, text)
    Object.assign(env, parseEnv(text))
  })
  return env
}

function normalisePublish(
  entry: RawPublish,
  at: FieldPath,
  ports: number[],
  service: string,
  context: NormaliseContext,
): PublishSpec {
  let spec: PublishSpec
  if (typeof entry === 'number') spec = { hostAddress: '127.0.0.1', hostPort: entry, port: entry }
  else if (typeof entry === 'object')
    spec = { hostAddress: entry.address ?? '127.0.0.1', hostPort: entry.host, port: entry.port }
  else {
    const match = /^(?:(\[[0-9a-fA-F:]+\]|[0-9.]+):)?([0-9]+):([0-9]+)$/.exec(entry)!
    spec = {
      hostAddress: match[1]?.replace(/^\[|\]$/g, '') ?? '127.0.0.1',
      hostPort: Number(match[2]),
      port: Number(match[3]),
    }
  }
  for (const [label, value] of [
    ['host port', spec.hostPort],
    ['port', spec.port],
  ] as const) {
    if (!Number.isInteger(value) || value < 1 || value > 65535) {
      fail(context, at, `service ${service}: published ${label} ${value} is out of range (ports are 1-65535)`)
    }
  }
  if (!ports.includes(spec.port)) {
    fail(
      context,
      at,
      `service ${service}: publishes port ${spec.port}, which it does not listen on (ports: ${ports.join(', ') || 'none'})`,
      `Add ${spec.port} to ports.`,
    )
  }
  return spec
}

function normaliseDependsOn(raw: RawService['depends_on']): DependencySpec[] {
  if (!raw) return []
  if (Array.isArray(raw)) return raw.map((service) => ({ service, condition: 'healthy' }))
  return Object.entries(raw).map(([service, options]) => ({ service, condition: options?.condition ?? 'healthy' }))
}

function normaliseRestart(raw: RawService['restart']): RestartSpec {
  if (raw === undefined) return { ...DEFAULT_RESTART }
  if (raw === false) return { ...DEFAULT_RESTART, policy: 'no' }
  if (typeof raw === 'string') return { ...DEFAULT_RESTART, policy: raw }
  return {
    policy: raw.policy ?? DEFAULT_RESTART.policy,
    maxRestarts: raw.max_restarts ?? DEFAULT_RESTART.maxRestarts,
    backoffMs: raw.backoff !== undefined ? parseDuration(raw.backoff) : DEFAULT_RESTART.backoffMs,
  }
}

function normaliseHealth(
  raw: RawHealth | false | 'none' | undefined,
  ports: number[],
  boxDefault: HealthCheck | undefined,
  at: FieldPath,
  service: string,
  context: NormaliseContext,
): HealthSpec | undefined {
  if (raw === false || raw === 'none') return undefined
  const timing = {
    intervalMs: raw?.interval !== undefined ? parseDuration(raw.interval) : DEFAULT_HEALTH.intervalMs,
    timeoutMs: raw?.timeout !== undefined ? parseDuration(raw.timeout) : DEFAULT_HEALTH.timeoutMs,
    retries: raw?.retries ?? DEFAULT_HEALTH.retries,
    startPeriodMs: raw?.start_period !== undefined ? parseDuration(raw.start_period) : DEFAULT_HEALTH.startPeriodMs,
  }
  const checks = raw ? (['tcp', 'http', 'command'] as const).filter((kind) => raw[kind] !== undefined) : []
  if (checks.length > 1) fail(context, at, `service ${service}: health declares ${checks.join(' and ')}; choose one`)
  const firstPort = (): number => {
    if (ports[0] === undefined)
      fail(
        context,
        at,
        `service ${service}: the health check needs a port, and the service declares none`,
        'Add ports: [8080], or give the check its own port.',
      )
    return ports[0]
  }
  let check: HealthCheck | undefined
  if (raw?.tcp !== undefined) check = { kind: 'tcp', port: raw.tcp === true ? firstPort() : raw.tcp }
  else if (raw?.http !== undefined) {
    const http = typeof raw.http === 'string' ? { path: raw.http } : raw.http
    check = {
      kind: 'http',
      path: http.path,
      port: 'port' in http && http.port !== undefined ? http.port : firstPort(),
      ...('status' in http && http.status ? { status: http.status } : {}),
    }
  } else if (raw?.command !== undefined) check = { kind: 'command', command: raw.command }
  else if (boxDefault) {
    check =
      boxDefault.kind === 'tcp' || boxDefault.kind === 'http'
        ? { ...boxDefault, port: ports[0] ?? boxDefault.port }
        : boxDefault
  } else if (ports[0] !== undefined) check = { kind: 'tcp', port: ports[0] }
  return check ? { check, ...timing } : undefined
}

function applyBoxSettings(
  service: ServiceSpec,
  raw: RawService,
  at: (...rest: Array<string | number>) => FieldPath,
  context: NormaliseContext,
): void {
  switch (service.kind) {
    case 'postgres':
      service.postgres = {
        ...(raw.version !== undefined ? { version: String(raw.version) } : {}),
        port: service.ports[0]!,
        databases: (raw.databases ?? []).map((database, index): DatabaseSpec => {
          const user = database.user ?? database.name
          const seeds =
            database.seed === undefined ? [] : Array.isArray(database.seed) ? database.seed : [database.seed]
          return {
            name: database.name,
            user,
            password: database.password ?? user,
            seed: seeds.map((seed, seedIndex) =>
              resolveProjectPath(
                seed,
                Array.isArray(database.seed)
                  ? at('databases', index, 'seed', seedIndex)
                  : at('databases', index, 'seed'),
                context,
              ),
            ),
          }
        }),
        settings: Object.fromEntries(Object.entries(raw.settings ?? {}).map(([key, value]) => [key, String(value)])),
      }
      return
    case 'lb': {
      if (!raw.backends?.length)
        fail(context, at(), `service ${service.name}: a load balancer needs backends`, 'Add backends: [www1, www2].')
      const sticky =
        raw.sticky === true
          ? 'DEVENV_BACKEND'
          : raw.sticky && typeof raw.sticky === 'object'
            ? (raw.sticky.cookie ?? 'DEVENV_BACKEND')
            : undefined
      service.lb = {
        backends: raw.backends,
        strategy: raw.strategy ?? 'round-robin',
        ...(sticky ? { stickyCookie: sticky } : {}),
        httpPort: service.ports[0]!,
        ...(raw.tls !== false && service.ports[1] !== undefined ? { httpsPort: service.ports[1] } : {}),
        ...(raw.backend_port !== undefined ? { backendPort: raw.backend_port } : {}),
      }
      return
    }
    case 'mail':
      service.mail = {
        accounts: raw.accounts ?? [],
        catchAll: raw.catch_all ?? true,
        smtpPort: service.ports[0]!,
        webPort: service.ports[1] ?? 8025,
        maxSizeBytes: raw.max_size !== undefined ? sizeOrFail(raw.max_size, at('max_size'), context) : 10 * 1024 * 1024,
      }
      return
    case 'ftp': {
      const range = (raw.pasv_ports ?? '30000-30009').split('-').map(Number) as [number, number]
      if (range[0] < 1024 || range[1] > 65535 || range[0] > range[1])
        fail(
          context,
          at('pasv_ports'),
          `service ${service.name}: pasv_ports ${raw.pasv_ports} must be a range within 1024-65535, low to high`,
        )
      service.ftp = {
        port: service.ports[0]!,
        pasvPorts: range,
        users: (raw.users ?? []).map((user, index) => ({
          name: user.name,
          password: user.password,
          root: resolveProjectPath(user.root ?? `ftp/${user.name}`, at('users', index, 'root'), context, raw.mounts),
        })),
      }
      return
    }
    case 'static':
      service.static = {
        root: raw.root
          ? resolveProjectPath(raw.root, at('root'), context, raw.mounts)
          : (service.mounts[0]?.source ?? service.workdir),
        port: service.ports[0]!,
        spa: raw.spa ?? false,
      }
      return
    default:
      return
  }
}

function sizeOrFail(value: number | string, at: FieldPath, context: NormaliseContext): number {
  try {
    return parseSize(value)
  } catch {
    fail(context, at, `"${value}" is not a size (use bytes, or 512KB, 10MB)`)
  }
}

function projectNameFromFolder(root: string): string {
  const cleaned = path
    .basename(root)
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
  return cleaned || 'devenv'
}

function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./${}-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`
}
