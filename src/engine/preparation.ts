import path from 'node:path'
import type { ServiceSpec } from '../envfile/index.js'
import type { PreparationContext, ServicePreparation } from '../runtime/index.js'
import { recoverServiceData } from '../snapshots/index.js'
import { ProjectPaths } from '../state/index.js'

/**
 * The engine's part of every start, on any runtime: the build when its inputs changed, the data
 * folder put right after an interrupted snapshot operation, and a first boot seeded from a committed box.
 */
export const preparation: ServicePreparation = {
  async build(
    service: ServiceSpec,
    context: PreparationContext,
    force: boolean,
    onPhase: (message: string) => void,
  ): Promise<boolean> {
    const build = service.build
    if (!build) return false
    // Loaded for a service with a build only: its file matching is ~10 ms of every supervisor's start.
    const { buildNeeded, runBuild } = await import('./build.js')
    const cache = path.join(new ProjectPaths(context.project.root).buildCache, `${service.name}.json`)
    if (!force && !buildNeeded(build, cache).needed) return false
    onPhase(`building: ${build.command}`)
    context.note(`build: ${build.command}`)
    await runBuild(service.name, build, context.env, cache, context.output, context.signal)
    context.note('build: done')
    return true
  },

  async prepareData(service: ServiceSpec, context: PreparationContext): Promise<void> {
    const recovered = await recoverServiceData(new ProjectPaths(context.project.root), service.name, {
      whenBusy: 'skip',
    })
    if (recovered.action !== 'none')
      context.note(
        `recovered its data after an interrupted ${recovered.interrupted ?? 'operation'}: ${recovered.action}`,
      )
    const box = service.box.tag ? `${service.box.name}:${service.box.tag}` : service.box.name
    // The box store is imported only for a service made from a committed box: with it comes the
    // envfile's YAML parser (one bundle chunk), which the supervisor has no other use for.
    if (
      service.box.tag &&
      (await (await import('../boxes/store/index.js')).seedServiceData(service.box, context.dataDir))
    )
      context.note(`first boot from box ${box}: state copied from the box store`)
  },
}
