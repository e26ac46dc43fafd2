import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import type { IConfigMap, IVolume, IVolumeMount } from 'kubernetes-models/v1'
import type { ContainerMount } from '../plan.js'
import { labels } from './objects.js'

/** A ConfigMap holds at most 1 MiB; past this (with room for its metadata) the files are left out. */
const CONFIG_MAP_LIMIT = 1000 * 1024
const SKIPPED = new Set(['.git', 'node_modules', '.devenv'])

export interface MountedFiles {
  configMap?: IConfigMap
  volume: IVolume
  mount: IVolumeMount
}

/**
 * Project files a service mounts (seeds, config, code) go into a ConfigMap, mounted read-only
 * where the service expects them: a cluster has no project folder to bind, and seeds and config
 * are what ConfigMaps are for (kompose makes PVCs of them, which start empty: kubernetes/kompose#1060).
 */
export function mountedFiles(
  project: string,
  service: string,
  mount: ContainerMount,
  index: number,
  notes: string[],
): MountedFiles {
  const name = `${service}-files-${index}`
  if (!existsSync(mount.source)) {
    notes.push(`${service}: ${mount.source} (mounted at ${mount.target}) does not exist: it is an empty folder`)
    return { volume: { name, emptyDir: {} }, mount: { name, mountPath: mount.target } }
  }
  const single = statSync(mount.source).isFile()
  const files = single ? [path.basename(mount.source)] : listFiles(mount.source)
  const root = single ? path.dirname(mount.source) : mount.source
  const data: Record<string, string> = {}
  const binaryData: Record<string, string> = {}
  const items: Array<{ key: string; path: string }> = []
  let size = 0
  for (const [position, relative] of files.entries()) {
    const content = readFileSync(path.join(root, relative))
    size += content.length
    // Keys are one path segment of [-._a-zA-Z0-9]; items put each file back at its own path.
    const key = `${position}-${relative.replace(/[^-._a-zA-Z0-9]/g, '_')}`.slice(0, 253)
    const text = content.toString('utf8')
    if (Buffer.from(text, 'utf8').equals(content)) data[key] = text
    else binaryData[key] = content.toString('base64')
    items.push({ key, path: relative })
  }
  const volume: IVolume = { name, configMap: { name, items } }
  const target = mount.target
  const volumeMount: IVolumeMount = {
    name,
    mountPath: target,
    readOnly: true,
    ...(single ? { subPath: path.basename(mount.source) } : {}),
  }
  if (size > CONFIG_MAP_LIMIT) {
    notes.push(
      `${service}: ${mount.target} (${files.length} files, ${Math.round(size / 1024)} KiB) is too big for a ConfigMap: it is an empty folder; put those files in the image`,
    )
    return { volume: { name, emptyDir: {} }, mount: { name, mountPath: target } }
  }
  if (!mount.readonly)
    notes.push(`${service}: ${mount.target} is read-only on Kubernetes (a ConfigMap of the project's files)`)
  return {
    configMap: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, labels: labels(project, service) },
      ...(Object.keys(data).length > 0 ? { data } : {}),
      ...(Object.keys(binaryData).length > 0 ? { binaryData } : {}),
    },
    volume,
    mount: volumeMount,
  }
}

function listFiles(folder: string, prefix = ''): string[] {
  return readdirSync(path.join(folder, prefix), { withFileTypes: true })
    .filter((entry) => !SKIPPED.has(entry.name))
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const relative = prefix ? `${prefix}/${entry.name}` : entry.name
      if (entry.isDirectory()) return listFiles(folder, relative)
      return entry.isFile() ? [relative] : []
    })
}
