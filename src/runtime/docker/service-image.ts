import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import type Docker from 'dockerode'
import type { EnvSpec, ImageBuildSpec, ServiceSpec } from '../../envfile/index.js'
import { DevenvError } from '../../errors.js'
import { LABELS, projectKey } from './labels.js'

/** The build context's files and a key of their contents, so an unchanged context is not sent to the engine again. */
function readContext(build: ImageBuildSpec): { key: string; files: string[] } {
  const files: string[] = []
  const hash = createHash('sha256').update(JSON.stringify({ ...build, context: undefined }))
  const visit = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name === '.git' || entry.name === '.devenv') continue
      const file = path.join(folder, entry.name)
      if (entry.isDirectory()) visit(file)
      else if (entry.isFile()) {
        const stat = statSync(file)
        files.push(path.relative(build.context, file))
        hash.update(`${path.relative(build.context, file)}:${stat.size}:${stat.mtimeMs}\n`)
        if (stat.size < 1 << 20) hash.update(readFileSync(file))
      }
    }
  }
  visit(build.context)
  return { key: hash.digest('hex').slice(0, 16), files }
}

async function imageId(docker: Docker, reference: string): Promise<string | undefined> {
  try {
    return (await docker.getImage(reference).inspect()).Id
  } catch {
    return undefined
  }
}

async function followBuild(
  docker: Docker,
  stream: NodeJS.ReadableStream,
  onLine: (line: string) => void,
): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(
      stream,
      (error: Error | null, output: Array<{ error?: string }>) => {
        const failed = error?.message ?? output.find((entry) => entry.error)?.error
        if (failed) reject(new Error(failed))
        else resolve()
      },
      (event: { stream?: string; status?: string; error?: string }) => {
        const text = (event.stream ?? event.status ?? '').trimEnd()
        if (text) onLine(text)
      },
    ),
  )
}

/** Builds a service's Dockerfile when its context changed (or always, forced); the reference it runs. */
export async function buildServiceImage(
  docker: Docker,
  project: EnvSpec,
  service: ServiceSpec & { imageBuild: ImageBuildSpec },
  force: boolean,
  onLine: (line: string) => void,
): Promise<{ reference: string; id: string; built: boolean }> {
  const context = readContext(service.imageBuild)
  const reference = `devenv-${project.name}-${projectKey(project.root)}-${service.name}:${context.key}`
  const existing = await imageId(docker, reference)
  if (existing && !force) return { reference, id: existing, built: false }
  const build = service.imageBuild
  try {
    const stream = await docker.buildImage(
      { context: build.context, src: context.files },
      {
        t: reference,
        dockerfile: build.dockerfile,
        buildargs: build.args,
        ...(build.target ? { target: build.target } : {}),
        labels: { [LABELS.project]: project.root, [LABELS.service]: service.name },
        rm: true,
      },
    )
    await followBuild(docker, stream, onLine)
  } catch (error) {
    throw new DevenvError(
      'BUILD_FAILED',
      `service ${service.name}: docker build of ${path.join(build.context, build.dockerfile)} failed: ${(error as Error).message}`,
      {
        hint: 'Its output is in `devenv logs ' + service.name + '`.',
      },
    )
  }
  const id = await imageId(docker, reference)
  if (!id) throw new DevenvError('BUILD_FAILED', `service ${service.name}: the engine built no image ${reference}`)
  return { reference, id, built: true }
}

/** A service's `image:`, from the engine's store, pulled when missing. */
export async function resolveServiceImage(
  docker: Docker,
  service: ServiceSpec & { image: string },
  onLine: (line: string) => void,
): Promise<{ reference: string; id: string }> {
  const present = await imageId(docker, service.image)
  if (present) return { reference: service.image, id: present }
  try {
    onLine(`pulling ${service.image}`)
    const stream = (await docker.pull(service.image)) as NodeJS.ReadableStream
    await followBuild(docker, stream, onLine)
  } catch (error) {
    throw new DevenvError(
      'RUNTIME',
      `service ${service.name}: image ${service.image} is not on this engine and could not be pulled: ${(error as Error).message}`,
      {
        hint: `Build or load it first (\`docker build -t ${service.image} .\`, \`docker load\`), or check the name.`,
      },
    )
  }
  const id = await imageId(docker, service.image)
  if (!id)
    throw new DevenvError(
      'RUNTIME',
      `service ${service.name}: image ${service.image} was pulled but the engine does not have it`,
    )
  return { reference: service.image, id }
}
