import path from 'node:path'
import type { EnvSpec } from '../../envfile/index.js'
import type { BoxContainerPlanner } from '../plan.js'
import { composeFile } from './document.js'
import { renderCompose } from './render.js'

export type { ComposeFile, ComposeService } from './document.js'
export { composeSchemaErrors } from './render.js'

export interface ComposeResult {
  text: string
  services: string[]
  images: Array<{ image: string; buildHint: string }>
  notes: string[]
}

/**
 * `devenv export compose`: the envfile as one Compose file, checked against compose-spec.
 * `folder` is where the file will be (its paths are relative to it).
 */
export function exportCompose(spec: EnvSpec, planner: BoxContainerPlanner, folder: string = spec.root): ComposeResult {
  const exported = composeFile(spec, planner, folder)
  const header = [
    `Written by \`devenv export compose\` from ${path.relative(folder, spec.file) || spec.file}; edit that, then export again.`,
    `Run: docker compose -p ${spec.name} up -d   (or docker-compose -p ${spec.name} up -d)`,
    ...(exported.images.length > 0
      ? [
          'Images devenv builds locally, to build first:',
          ...exported.images.map((entry) => `  ${entry.image}: ${entry.buildHint}`),
        ]
      : []),
    ...exported.notes.map((note) => `Note: ${note}`),
  ]
  return {
    text: renderCompose(exported, header),
    services: Object.keys(exported.file.services),
    images: exported.images,
    notes: exported.notes,
  }
}
