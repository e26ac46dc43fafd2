import type { BoxKind, HealthCheck } from '../envfile/model.js'

/** What the envfile loader needs to know of each built-in box. The drivers live beside it. */
export interface BoxDescription {
  kind: BoxKind
  summary: string
  /** Envfile keys that only this box understands. */
  settings: readonly string[]
  defaultPorts: readonly number[]
  /** The check used when the envfile declares no health. */
  defaultHealth?: HealthCheck
  /** Does a service of this box need a `command`? */
  needsCommand: boolean
  /** Does it keep state worth snapshotting? */
  stateful: boolean
}

const BOXES: Record<BoxKind, BoxDescription> = {
  process: {
    kind: 'process',
    summary: 'any command, run as a supervised process',
    settings: [],
    defaultPorts: [],
    needsCommand: true,
    stateful: false,
  },
  node: {
    kind: 'node',
    summary: 'a Node.js app: a process box with Node defaults (NODE_ENV=development)',
    settings: [],
    defaultPorts: [],
    needsCommand: true,
    stateful: false,
  },
  static: {
    kind: 'static',
    summary: 'serves a folder over HTTP',
    settings: ['root', 'spa', 'port'],
    defaultPorts: [80],
    defaultHealth: { kind: 'http', path: '/', port: 80 },
    needsCommand: false,
    stateful: false,
  },
  postgres: {
    kind: 'postgres',
    summary: 'PostgreSQL, seeded from files',
    settings: ['version', 'port', 'databases', 'settings'],
    defaultPorts: [5432],
    defaultHealth: { kind: 'box' },
    needsCommand: false,
    stateful: true,
  },
  lb: {
    kind: 'lb',
    summary: 'HTTP and HTTPS load balancer over backends',
    settings: ['backends', 'strategy', 'sticky', 'tls', 'backend_port'],
    defaultPorts: [80, 443],
    defaultHealth: { kind: 'tcp', port: 80 },
    needsCommand: false,
    stateful: false,
  },
  mail: {
    kind: 'mail',
    summary: 'SMTP mail catcher with a web page and JSON API',
    settings: ['accounts', 'catch_all', 'max_size'],
    defaultPorts: [25, 8025],
    defaultHealth: { kind: 'tcp', port: 25 },
    needsCommand: false,
    stateful: true,
  },
  ftp: {
    kind: 'ftp',
    summary: 'FTP server with per-user root folders',
    settings: ['users', 'pasv_ports', 'port'],
    defaultPorts: [21],
    defaultHealth: { kind: 'tcp', port: 21 },
    needsCommand: false,
    stateful: true,
  },
}

export const BUILTIN_BOXES: readonly BoxKind[] = Object.keys(BOXES) as BoxKind[]

export function isBuiltinBox(name: string): name is BoxKind {
  return Object.hasOwn(BOXES, name)
}

export function describeBox(kind: BoxKind): BoxDescription {
  return BOXES[kind]
}

/** Every box-specific key, with the boxes that take it. */
export function boxesTakingSetting(key: string): BoxKind[] {
  return BUILTIN_BOXES.filter((kind) => BOXES[kind].settings.includes(key))
}
