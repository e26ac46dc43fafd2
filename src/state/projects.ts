import { existsSync } from 'node:fs'
import path from 'node:path'
import { readJson, writeJsonAtomic } from './atomic.js'
import { withFileLock } from './lock.js'
import { machineHome } from './paths.js'

/** The machine's list of devenv projects, for `devenv global-status`. */
export interface KnownProject {
  name: string
  root: string
  envfile: string
  /** When the entry was added or last changed (not every `up`: see rememberProject). */
  lastUsed: string
}

function registryFile(): string {
  return path.join(machineHome(), 'projects.json')
}

export async function rememberProject(project: Omit<KnownProject, 'lastUsed'>): Promise<void> {
  // Every `up` comes here before it starts anything: a project listed as it is needs no lock, no
  // write and no fsync (~20 ms on this disk), so `lastUsed` says when its entry last changed.
  if (isListed(readJson<KnownProject[]>(registryFile()) ?? [], project)) return
  await withFileLock(registryFile(), () => {
    const projects = (readJson<KnownProject[]>(registryFile()) ?? []).filter((known) => known.root !== project.root)
    projects.push({ ...project, lastUsed: new Date().toISOString() })
    writeJsonAtomic(registryFile(), projects)
  })
}

function isListed(projects: KnownProject[], project: Omit<KnownProject, 'lastUsed'>): boolean {
  return projects.some(
    (known) => known.root === project.root && known.name === project.name && known.envfile === project.envfile,
  )
}

/** Known projects whose folder still exists; the others are forgotten. */
export async function knownProjects(): Promise<KnownProject[]> {
  return withFileLock(registryFile(), () => {
    const projects = readJson<KnownProject[]>(registryFile()) ?? []
    const alive = projects.filter((project) => existsSync(project.envfile))
    if (alive.length !== projects.length) writeJsonAtomic(registryFile(), alive)
    return alive
  })
}
