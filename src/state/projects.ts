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
  lastUsed: string
}

function registryFile(): string {
  return path.join(machineHome(), 'projects.json')
}

export async function rememberProject(project: Omit<KnownProject, 'lastUsed'>): Promise<void> {
  await withFileLock(registryFile(), () => {
    const projects = (readJson<KnownProject[]>(registryFile()) ?? []).filter((known) => known.root !== project.root)
    projects.push({ ...project, lastUsed: new Date().toISOString() })
    writeJsonAtomic(registryFile(), projects)
  })
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
