import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { writeJsonAtomic } from '../state/index.js'
import type { Launch, ServiceContext } from './driver.js'

/**
 * Most boxes are Node programs of this package: `prepare` writes the program's config as JSON
 * into the service's run folder, and the program finds it through DEVENV_BOX_CONFIG.
 */
export class NodeProgramBox {
  private readonly main: string

  /** `main`: the program's entry, relative to the driver (new URL('./main.js', import.meta.url)). */
  constructor(main: URL, private readonly configName: string) {
    this.main = fileURLToPath(main)
  }

  configFile(context: ServiceContext): string {
    return path.join(context.runDir, `${this.configName}.json`)
  }

  /** `mode` 0600 for configs that hold passwords. */
  writeConfig(context: ServiceContext, config: unknown, mode?: number): void {
    writeJsonAtomic(this.configFile(context), config, mode)
  }

  launch(context: ServiceContext, cwd: string): Launch {
    return {
      command: process.execPath,
      args: [this.main],
      env: { ...context.env, DEVENV_BOX_CONFIG: this.configFile(context) },
      cwd,
    }
  }
}
