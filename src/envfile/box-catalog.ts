import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { parse as parseYaml } from 'yaml'
import type { BoxKind, HealthCheck } from './model.js'

/**
 * What the envfile loader needs to know of each built-in box, read from the box definitions the
 * package ships (boxes/<name>/box.yaml). The drivers that run them live in src/boxes/<name>/.
 */
export interface BoxDescription {
  kind: BoxKind
  version: string
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
  /** Its files are replaced (written aside, renamed), never changed in place: a snapshot may hard-link them. */
  immutableFiles: boolean
}

export const BUILTIN_BOXES: readonly BoxKind[] = ['process', 'node', 'static', 'postgres', 'lb', 'mail', 'ftp']

const BOXES_DIR = new URL('../../boxes/', import.meta.url)

interface BoxFile {
  name: string
  version: number | string
  summary: string
  settings: string[]
  ports: number[]
  health?: 'box' | { tcp: number } | { http: string; port: number }
  needs_command: boolean
  stateful: boolean
  immutable_files?: boolean
}

let catalog: Record<BoxKind, BoxDescription> | undefined

/**
 * box.yaml files parsed at build (scripts/compile-boxes.mjs), each with its text: a box whose file
 * still reads the same is taken from here, not parsed again (~15 ms of every command's start).
 */
const PARSED = new URL('./box-catalog.json', import.meta.url)

function parsedAtBuild(): Partial<Record<BoxKind, { text: string; box: BoxFile }>> {
  try {
    return JSON.parse(readFileSync(PARSED, 'utf8')) as Partial<Record<BoxKind, { text: string; box: BoxFile }>>
  } catch {
    return {}
  }
}

/** The box definition files the package ships, one per built-in box. */
export function boxDefinitionFile(kind: BoxKind): string {
  return fileURLToPath(new URL(`${kind}/box.yaml`, BOXES_DIR))
}

/** yaml is loaded only for a box.yaml edited since the build: a start that parses no envfile saves its ~20 ms. */
function parseYamlNow(text: string): unknown {
  const { parse } = createRequire(import.meta.url)('yaml') as { parse: typeof parseYaml }
  return parse(text)
}

function load(): Record<BoxKind, BoxDescription> {
  const built = parsedAtBuild()
  const entries = BUILTIN_BOXES.map((kind): [BoxKind, BoxDescription] => {
    const file = boxDefinitionFile(kind)
    const text = readFileSync(file, 'utf8')
    const box = built[kind]?.text === text ? built[kind].box : (parseYamlNow(text) as BoxFile)
    if (box.name !== kind) throw new Error(`${file}: name ${box.name} does not match its folder ${kind}`)
    return [
      kind,
      {
        kind,
        version: String(box.version),
        summary: box.summary,
        settings: box.settings,
        defaultPorts: box.ports,
        ...(box.health ? { defaultHealth: healthOf(box.health) } : {}),
        needsCommand: box.needs_command,
        stateful: box.stateful,
        immutableFiles: box.immutable_files === true,
      },
    ]
  })
  return Object.fromEntries(entries) as Record<BoxKind, BoxDescription>
}

function healthOf(health: NonNullable<BoxFile['health']>): HealthCheck {
  if (health === 'box') return { kind: 'box' }
  if ('tcp' in health) return { kind: 'tcp', port: health.tcp }
  return { kind: 'http', path: health.http, port: health.port }
}

export function isBuiltinBox(name: string): name is BoxKind {
  return (BUILTIN_BOXES as readonly string[]).includes(name)
}

export function describeBox(kind: BoxKind): BoxDescription {
  catalog ??= load()
  return catalog[kind]
}

/** Every box-specific key, with the boxes that take it. */
export function boxesTakingSetting(key: string): BoxKind[] {
  return BUILTIN_BOXES.filter((kind) => describeBox(kind).settings.includes(key))
}
