import { createReadStream, lstatSync, mkdirSync, readdirSync, readlinkSync } from 'node:fs'
import path from 'node:path'
import type Docker from 'dockerode'
import type tar from 'tar-stream'
import { DevenvError } from '../../errors.js'
import { LABELS } from './labels.js'

/** Where a committed image keeps the data folder it was committed with, for the first boot of another project. */
export const SEED_FOLDER = '/devenv/seed'
export const SEED_LABEL = 'dev.devenv.data'

async function dataLayerContext(base: string, dataDir: string): Promise<tar.Pack> {
  const { default: tarStream } = await import('tar-stream')
  const archive = tarStream.pack()
  const write = async (): Promise<void> => {
    // The container's ownership labels stay behind: a project that runs the image labels its own containers.
    const cleared = [LABELS.project, LABELS.name, LABELS.service, LABELS.configHash]
      .map((label) => `${label}=""`)
      .join(' ')
    const dockerfile = `FROM ${base}\nCOPY data/ ${SEED_FOLDER}/\nLABEL ${SEED_LABEL}=${SEED_FOLDER} ${cleared}\n`
    archive.entry({ name: 'Dockerfile' }, dockerfile)
    archive.entry({ name: 'data', type: 'directory', mode: 0o755 })
    const visit = async (folder: string, into: string): Promise<void> => {
      for (const name of readdirSync(folder)) {
        const file = path.join(folder, name)
        const stat = lstatSync(file)
        const entryName = `${into}/${name}`
        const owner = { uid: stat.uid, gid: stat.gid, mode: stat.mode & 0o7777, mtime: stat.mtime }
        if (stat.isDirectory()) {
          archive.entry({ name: entryName, type: 'directory', ...owner })
          await visit(file, entryName)
        } else if (stat.isSymbolicLink())
          archive.entry({ name: entryName, type: 'symlink', linkname: readlinkSync(file), ...owner })
        else if (stat.isFile()) {
          await new Promise<void>((resolve, reject) => {
            const sink = archive.entry({ name: entryName, size: stat.size, ...owner }, (error) =>
              error ? reject(error) : resolve(),
            )
            createReadStream(file).on('error', reject).pipe(sink)
          })
        }
      }
    }
    await visit(dataDir, 'data')
    archive.finalize()
  }
  write().catch((error: Error) => archive.destroy(error))
  return archive
}

/** `docker commit` of the service's container, then its data folder as a layer on top, tagged `reference`. */
export async function commitContainerImage(
  docker: Docker,
  container: string,
  dataDir: string,
  reference: string,
  labels: Record<string, string>,
): Promise<{ image: string; id: string }> {
  const committed = (await docker.getContainer(container).commit({ comment: 'devenv commit' })) as { Id: string }
  const stream = await docker.buildImage(
    (await dataLayerContext(committed.Id, dataDir)) as unknown as NodeJS.ReadableStream,
    {
      t: reference,
      labels,
      rm: true,
    },
  )
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(stream, (error: Error | null, output: Array<{ error?: string }>) => {
      const failed = error?.message ?? output.find((entry) => entry.error)?.error
      if (failed) reject(new DevenvError('RUNTIME', `could not add the data folder to image ${reference}: ${failed}`))
      else resolve()
    }),
  )
  await docker
    .getImage(committed.Id)
    .remove()
    .catch(() => undefined)
  const id = (await docker.getImage(reference).inspect()).Id
  return { image: reference, id }
}

/**
 * The first boot of a service from an image committed by devenv: its empty data folder gets the
 * data the image was committed with. Entries that would land outside the folder are refused.
 */
export async function seedFromImage(docker: Docker, image: string, dataDir: string): Promise<boolean> {
  const info = await docker.getImage(image).inspect()
  const seed = info.Config.Labels?.[SEED_LABEL]
  mkdirSync(dataDir, { recursive: true })
  if (!seed || readdirSync(dataDir).length > 0) return false
  const holder = await docker.createContainer({ Image: image, Cmd: ['/'], Labels: { [LABELS.name]: 'seed-reader' } })
  try {
    const archive = (await holder.getArchive({ path: seed })) as unknown as NodeJS.ReadableStream
    const { default: tarStream } = await import('tar-stream')
    const { extractInside } = await import('./safe-extract.js')
    await extractInside(archive, dataDir, tarStream)
  } finally {
    await holder.remove({ force: true }).catch(() => undefined)
  }
  return true
}
