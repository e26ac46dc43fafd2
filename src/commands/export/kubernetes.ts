import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { Flags } from '@oclif/core'
import { stringify } from 'yaml'
import { BaseCommand, colors, projectFlags } from '../../cli/index.js'
import { exportKubernetes, loadForExport, boxPlanner } from '../../exporting/index.js'
import { writeFileAtomic } from '../../state/index.js'

export default class ExportKubernetes extends BaseCommand<typeof ExportKubernetes> {
  static override summary =
    'Write the envfile as Kubernetes objects: Deployments (StatefulSets for data), Services, Ingress, ConfigMaps, Secrets, PVCs.'
  static override description =
    "Every service with ports gets a Service named as it, and hostnames in env and commands are rewritten to those names; depends_on becomes init containers that wait for the Service, health checks readiness probes, seeds and mounted files ConfigMaps, passwords Secrets, data PersistentVolumeClaims, the lb an Ingress for its hostnames, replicas a Deployment's replicas. Each object is checked against the Kubernetes schema (kubernetes-models), unknown fields included. Apply with `kubectl apply -f DIR`. docs/export-kubernetes.md has the whole mapping."
  static override examples = [
    '<%= config.bin %> export kubernetes -o k8s && kubectl apply -f k8s',
    '<%= config.bin %> export kubernetes | kubectl apply --dry-run=client -f -',
    '<%= config.bin %> export kubernetes -o k8s --storage 10Gi --json',
  ]
  static override flags = {
    ...projectFlags,
    output: Flags.string({
      char: 'o',
      description: 'folder to write one file per object into (Secrets 0600); default: all objects to stdout',
      helpValue: 'DIR',
    }),
    storage: Flags.string({
      description: 'size each PersistentVolumeClaim asks for',
      default: '1Gi',
      helpValue: 'SIZE',
    }),
    'wait-image': Flags.string({
      description: 'image of the init containers that wait for dependencies (needs sh and nc)',
      default: 'busybox:1.36',
      helpValue: 'IMAGE',
    }),
  }

  async run(): Promise<{
    folder?: string
    files: string[]
    objects: Array<{ kind: string; name: string }>
    images: Array<{ image: string; buildHint: string }>
    notes: string[]
  }> {
    const spec = loadForExport(this.flags.file)
    const result = exportKubernetes(spec, boxPlanner, {
      storage: this.flags.storage,
      waitImage: this.flags['wait-image'],
    })
    const objects = result.files.map((file) => ({ kind: file.object.kind, name: file.object.metadata?.name ?? '' }))
    const report = { objects, images: result.images, notes: result.notes }
    for (const note of result.notes) this.warning(note)
    if (!this.flags.output) {
      if (!this.jsonEnabled())
        this.log(
          result.files
            .map((file) => file.text)
            .join('---\n')
            .trimEnd(),
        )
      return { files: [], ...report }
    }
    const folder = path.resolve(this.flags.output)
    mkdirSync(folder, { recursive: true })
    const files = result.files.map((file) => {
      const target = path.join(folder, file.name)
      writeFileAtomic(target, file.text, file.secret ? 0o600 : 0o644)
      return target
    })
    if (result.images.length > 0)
      this.note(
        `Images to build first:\n${stringify(Object.fromEntries(result.images.map((entry) => [entry.image, entry.buildHint]))).trimEnd()}`,
      )
    this.note(
      `${colors.green('✔')} ${folder}: ${files.length} object(s) for Kubernetes (kubectl apply -f ${this.flags.output})`,
    )
    return { folder, files, ...report }
  }
}
