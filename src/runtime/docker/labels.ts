import { createHash } from 'node:crypto'

/** The labels that mark what devenv owns on an engine, as Compose's com.docker.compose.* do. */
export const LABELS = {
  project: 'dev.devenv.project',
  name: 'dev.devenv.project.name',
  service: 'dev.devenv.service',
  configHash: 'dev.devenv.config-hash',
  boxImage: 'dev.devenv.box-image',
} as const

/** A short, stable tag of a project folder: two folders with one project name never share objects. */
export function projectKey(root: string): string {
  return createHash('sha256').update(root).digest('hex').slice(0, 8)
}

export function networkName(project: string, root: string): string {
  return `devenv-${project}-${projectKey(root)}`
}

export function containerName(project: string, root: string, service: string): string {
  return `devenv-${project}-${projectKey(root)}-${service}`
}

/** The filter that finds what devenv made for one project folder, and nothing else. */
export function projectFilter(root: string, service?: string): Record<string, string[]> {
  return { label: [`${LABELS.project}=${root}`, ...(service ? [`${LABELS.service}=${service}`] : [])] }
}
