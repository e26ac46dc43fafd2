import { statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { writeDerivedFile } from '../state/index.js'
import { withoutExtraCaCerts } from '../util/node-start-env.js'
import type { Launch, ServiceContext } from './driver.js'

/**
 * Most boxes are Node programs of this package: `prepare` writes the program's config as JSON
 * into the service's run folder, and the program finds it through DEVENV_BOX_CONFIG.
 */
export class NodeProgramBox {
  private readonly main: string

  /** `main`: the program's entry, relative to the driver (new URL('./main.js', import.meta.url)). */
  constructor(main: URL, private readonly configName: string) {
    this.main = programEntry(main)
  }

  configFile(context: ServiceContext): string {
    return path.join(context.runDir, `${this.configName}.json`)
  }

  /** `mode` 0600 for configs that hold passwords. Made again before every start, so never fsynced. */
  writeConfig(context: ServiceContext, config: unknown, mode = 0o644): void {
    writeDerivedFile(this.configFile(context), `${JSON.stringify(config, null, 2)}\n`, mode)
  }

  launch(context: ServiceContext, cwd: string): Launch {
    return {
      command: process.execPath,
      args: [this.main],
      // A box program makes no TLS connections out: it starts ~50 ms sooner without the user's extra CA bundle.
      env: { ...withoutExtraCaCerts(context.env), DEVENV_BOX_CONFIG: this.configFile(context) },
      cwd,
    }
  }
}

const DIST = fileURLToPath(new URL('../', import.meta.url))
const BUNDLES = path.join(DIST, 'bundle')

/**
 * The file to run a program of this package from: its bundle (scripts/bundle-cli.mjs names it
 * boxes-lb-main.js for boxes/lb/main.js) while the build made it after tsc's output, as for the
 * supervisor. One file instead of tens or hundreds of modules: the ftp box (ftp-srv and its ~300
 * files) starts in ~120 ms of CPU instead of ~200.
 */
export function programEntry(main: URL): string {
  const file = fileURLToPath(main)
  const relative = path.relative(DIST, file)
  const bundle = path.join(BUNDLES, `${relative.replace(/\.js$/, '').split(path.sep).join('-')}.js`)
  const modifiedAt = (candidate: string): number => statSync(candidate, { throwIfNoEntry: false })?.mtimeMs ?? 0
  return modifiedAt(bundle) >= modifiedAt(file) && modifiedAt(bundle) > 0 ? bundle : file
}
