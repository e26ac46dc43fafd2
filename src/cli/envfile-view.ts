import type { EnvSpec, HealthSpec, MountSpec, ServiceSpec, WatchAction } from '../envfile/index.js'
import { serviceGroups } from '../spec/index.js'

type Plain = Record<string, unknown>

/**
 * The resolved envfile in the envfile's own vocabulary (snake_case keys, durations as "10s",
 * ports as "host:port"), as `docker compose config` prints: variables filled in, defaults
 * written out, paths absolute. It loads back as the same project.
 */
export function envfileView(spec: EnvSpec): Plain {
  return {
    name: spec.name,
    ...(spec.domain ? { domain: spec.domain } : {}),
    runtime: spec.runtime,
    // A replicated service is shown as written (www with replicas: 3), so the view loads back.
    services: Object.fromEntries(
      serviceGroups(spec).map((group) => [
        group.name,
        { ...serviceView(group.service), ...(group.replicas > 1 ? { replicas: group.replicas } : {}) },
      ]),
    ),
    ...(spec.integrity.files.length || spec.integrity.manifest
      ? {
          integrity: {
            files: spec.integrity.files,
            ...(spec.integrity.manifest ? { manifest: spec.integrity.manifest } : {}),
          },
        }
      : {}),
  }
}

function serviceView(service: ServiceSpec): Plain {
  return {
    box: service.box.tag ? `${service.box.name}:${service.box.tag}` : service.box.name,
    ...(service.image ? { image: service.image } : {}),
    ...(service.build
      ? { build: { command: service.build.command, inputs: service.build.inputs, workdir: service.build.workdir } }
      : {}),
    ...(service.command !== undefined ? { command: service.command } : {}),
    workdir: service.workdir,
    env: service.env,
    hostnames: service.hostnames,
    ports: service.ports,
    publish: service.publish.map((entry) => `${entry.hostAddress}:${entry.hostPort}:${entry.port}`),
    mounts: service.mounts.map(mountView),
    // no check although it has ports: the envfile turned the default check off
    ...(service.health ? { health: healthView(service.health) } : service.ports.length ? { health: 'none' } : {}),
    depends_on: Object.fromEntries(
      service.dependsOn.map((dependency) => [dependency.service, { condition: dependency.condition }]),
    ),
    restart: {
      policy: service.restart.policy,
      max_restarts: service.restart.maxRestarts,
      backoff: duration(service.restart.backoffMs),
    },
    stop_timeout: duration(service.stopTimeoutMs),
    integrity: service.integrity,
    ...boxSettingsView(service),
  }
}

function mountView(mount: MountSpec): Plain {
  return {
    source: mount.source,
    target: mount.target,
    readonly: mount.readonly,
    watch: watchView(mount.watch),
    ignore: mount.ignore,
  }
}

function watchView(watch: WatchAction): string | Plain {
  return watch.kind === 'command' ? { command: watch.command } : watch.kind
}

function healthView(health: HealthSpec): Plain {
  const timing = {
    interval: duration(health.intervalMs),
    timeout: duration(health.timeoutMs),
    retries: health.retries,
    start_period: duration(health.startPeriodMs),
  }
  const check = health.check
  switch (check.kind) {
    case 'tcp':
      return { tcp: check.port, ...timing }
    case 'http':
      return {
        http: { path: check.path, port: check.port, ...(check.status !== undefined ? { status: check.status } : {}) },
        ...timing,
      }
    case 'command':
      return { command: check.command, ...timing }
    case 'box':
      // the box's own check: what the envfile writes by leaving `health` out, with its timing
      return timing
  }
}

function boxSettingsView(service: ServiceSpec): Plain {
  const { postgres, lb, mail, ftp } = service
  if (postgres) {
    return {
      ...(postgres.version ? { version: postgres.version } : {}),
      databases: postgres.databases.map((database) => ({
        name: database.name,
        user: database.user,
        password: database.password,
        seed: database.seed,
      })),
      settings: postgres.settings,
    }
  }
  if (lb) {
    return {
      backends: lb.backends,
      ...(lb.stickyCookie ? { sticky: { cookie: lb.stickyCookie } } : {}),
      tls: lb.httpsPort !== undefined,
      ...(lb.backendPort !== undefined ? { backend_port: lb.backendPort } : {}),
    }
  }
  if (mail) return { accounts: mail.accounts, catch_all: mail.catchAll, max_size: mail.maxSizeBytes }
  if (ftp)
    return {
      users: ftp.users.map((user) => ({ name: user.name, password: user.password, root: user.root })),
      pasv_ports: `${ftp.pasvPorts[0]}-${ftp.pasvPorts[1]}`,
    }
  if (service.static) return { root: service.static.root, spa: service.static.spa }
  return {}
}

function duration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`
}
