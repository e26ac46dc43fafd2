import { Args, Flags } from '@oclif/core'
import { BaseCommand, projectFlags } from '../cli/index.js'
import { colors } from '../cli/index.js'
import { commitBox, formatRef, parseCommittedRef, type BoxSummary } from '../boxes/store/index.js'
import { ProjectPaths } from '../state/index.js'
import type { EnvSpec } from '../envfile/index.js'
import {
  beginOperation,
  formatBytes,
  journalBase,
  newOperationId,
  removeJournal,
  serviceBoxIdentity,
  serviceCopiesOf,
  statefulService,
  quiesceService,
  withServiceCopies,
  type OpenServiceCopies,
} from '../snapshots/index.js'
import { runtimeFor } from '../engine/index.js'
import path from 'node:path'
import { commitImage, requireImage, type CommitResult } from '../images/index.js'

export default class Commit extends BaseCommand<typeof Commit> {
  static override summary =
    "Turn a service's current state and its box recipe into a box in the machine-wide box store."
  static override description =
    'An envfile can then say `box: NAME:TAG` and a new service boots from that state; seeds are not run again. Share it with devenv box export. For a service of an image, its writable layer becomes a new image in the image store (`image: NAME:TAG`; share it with devenv image export).'
  static override examples = [
    '<%= config.bin %> commit db shop-db',
    '<%= config.bin %> commit db shop-db:2024-05',
    '<%= config.bin %> commit db shop-db:2024-05 --force --json',
  ]
  static override args = {
    service: Args.string({ description: 'service whose state to commit', required: true }),
    box: Args.string({ description: 'NAME[:TAG] of the new box (tag: latest when omitted)', required: true }),
  }
  static override flags = {
    ...projectFlags,
    force: Flags.boolean({ description: 'replace a box of that name and tag' }),
  }

  async run(): Promise<{ box: BoxSummary; image?: { image: string; id: string } } | CommitResult> {
    const spec = this.loadSpec()
    // On the bundled runtime an image service's writable layer becomes an image in devenv's own store.
    if (spec.runtime === 'bundled' && spec.services[this.args.service]?.image) return this.commitStoreImage(spec)
    const ref = parseCommittedRef(this.args.box)
    const service = statefulService(spec, this.args.service)
    const paths = new ProjectPaths(spec.root)
    const dataDir = paths.serviceData(service.name)
    // The journal keeps a snapshot restore of the same service from swapping the folder mid-copy.
    await beginOperation(paths, service.name, { op: 'commit', id: newOperationId(), ...journalBase() })
    let box: BoxSummary
    try {
      const skip = await notStateOf(serviceCopiesOf(runtimeFor(spec), spec, service.name))
      box = await commitBox({
        dataDir,
        service,
        ref,
        baseVersion: serviceBoxIdentity(service, dataDir).boxVersion,
        quiesce: quiesceService(runtimeFor(spec), spec, service.name, 'commit'),
        replace: this.flags.force,
        skip,
      })
    } finally {
      removeJournal(paths, service.name)
    }
    const image = await this.commitImage(spec, service.name, formatRef(ref))
    if (!this.jsonEnabled()) {
      this.log(
        `${colors.green('✔')} committed ${service.name} as box ${colors.bold(formatRef(ref))} (${box.kind}, ${formatBytes(box.size)}, ${box.files} files)`,
      )
      this.log(
        colors.dim(
          `  use it with: box: ${formatRef(ref)}   share it with: devenv box export ${formatRef(ref)} -o ${ref.name}-${ref.tag}.box.tgz`,
        ),
      )
    }
    if (image && !this.jsonEnabled())
      this.log(colors.dim(`  and as image ${image.image} on the engine: another project can say image: ${image.image}`))
    return { box, ...(image ? { image } : {}) }
  }

  /** On an engine, a service run from an image is committed there too. */
  private async commitImage(
    spec: EnvSpec,
    service: string,
    reference: string,
  ): Promise<{ image: string; id: string } | undefined> {
    const runtime = runtimeFor(spec)
    if (!runtime.commitImage) return undefined
    try {
      return await runtime.commitImage(spec, service, reference)
    } catch (error) {
      this.warning(`${service} was not committed as an engine image: ${(error as Error).message}`)
      return undefined
    }
  }

  private async commitStoreImage(spec: EnvSpec): Promise<CommitResult> {
    const result = await commitImageService(spec, this.args.service, this.args.box, this.flags.force)
    if (!this.jsonEnabled())
      this.log(
        `${colors.green('✔')} committed ${this.args.service} as image ${colors.bold(result.image.name)} (a ${formatBytes(result.layerBytes)} layer over ${result.image.base}); use it with: image: ${this.args.box}`,
      )
    return result
  }
}

/** An image service: its writable layer becomes a layer over its image, a new image in the image store. */
async function commitImageService(
  spec: EnvSpec,
  name: string,
  target: string,
  replace: boolean,
): Promise<CommitResult> {
  const base = requireImage(spec.services[name]!.image!)
  const resume = await quiesceService(runtimeFor(spec), spec, name, 'commit')()
  try {
    return await commitImage(
      base,
      path.join(new ProjectPaths(spec.root).serviceData(name), 'rootfs'),
      target,
      name,
      replace,
    )
  } finally {
    await resume()
  }
}

/** Snapshot copies a service keeps inside itself are not its state: a box does not carry them. */
async function notStateOf(copies: OpenServiceCopies | undefined): Promise<string[]> {
  return copies ? withServiceCopies(copies, { start: false }, (service) => service.notState()) : []
}
