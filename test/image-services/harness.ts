import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { devenv, sandbox, type CliResult } from '../cli/run-cli.js'
import { buildImage, pushImage, removeLayout, type ImageRecipe } from '../images/build-images.js'
import type { LocalRegistry } from '../images/registry.js'

export { HAVE_IMAGE_TOOLS, startRegistry, type LocalRegistry } from '../images/registry.js'

/** These suites run image services as root; non-root.test.ts runs them as other users, which root sets up. */
export const CAN_RUN_IMAGES = process.platform === 'linux' && process.getuid?.() === 0

/** A project of image services with its own DEVENV_HOME, run through the built CLI. */
export class ImageProject {
  readonly root = sandbox('devenv-image-project-')
  constructor(readonly home: string) {}

  write(yaml: string): this {
    writeFileSync(path.join(this.root, 'devenv.yaml'), yaml)
    return this
  }

  folder(relative: string): string {
    const folder = path.join(this.root, relative)
    mkdirSync(folder, { recursive: true, mode: 0o777 })
    execFileSync('chmod', ['0777', folder])
    return folder
  }

  run(args: string[], timeout = 90_000): Promise<CliResult> {
    return devenv(args, {
      cwd: this.root,
      env: { DEVENV_HOME: this.home, DEVENV_HOSTS_FILE: path.join(this.root, 'hosts') },
      timeout,
    })
  }

  state(): { services: Record<string, { pid?: number; address: string; state: string; health: string }> } {
    return JSON.parse(readFileSync(path.join(this.root, '.devenv', 'state.json'), 'utf8')) as never
  }
}

/** Builds and pushes an image; returns its full name in the registry. */
export function publish(registry: LocalRegistry, name: string, recipe: ImageRecipe): string {
  const layout = buildImage(recipe)
  try {
    pushImage(layout, registry.host, name)
  } finally {
    removeLayout(layout)
  }
  return `${registry.host}/${name}`
}

/** Every pid whose environment carries this project's mark (the runtime's DEVENV_OWNER). */
export function processesOf(root: string): number[] {
  const found: number[] = []
  for (const name of readdirSafe('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      if (readFileSync(`/proc/${name}/environ`, 'latin1').split('\0').includes(`DEVENV_OWNER=${root}`))
        found.push(Number(name))
    } catch {
      // gone, or not ours to read
    }
  }
  return found
}

function readdirSafe(folder: string): string[] {
  try {
    return execFileSync('ls', [folder], { encoding: 'utf8' }).split('\n').filter(Boolean)
  } catch {
    return []
  }
}

/** Mounts anywhere on the machine under the project folder (none must be left after down). */
export function mountsUnder(root: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point.startsWith(root))
}

/** Network relays of this project's image services still running (down must end them with their services). */
export function relaysRunning(root: string): number[] {
  return readdirSafe('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        return (
          readFileSync(`/proc/${name}/cmdline`, 'latin1').includes('netns-relay-main.js') &&
          readFileSync(`/proc/${name}/environ`, 'latin1').split('\0').includes(`DEVENV_OWNER=${root}`)
        )
      } catch {
        return false
      }
    })
    .map(Number)
}
