import { spawn } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import path from 'node:path'

/**
 * The program that opens a URL in the user's browser: `open` on macOS, `xdg-open` elsewhere when
 * there is a desktop session to open it in (DISPLAY or WAYLAND_DISPLAY); none on a server.
 */
export function browserOpener(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (process.platform === 'darwin') return onPath('open', env)
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return undefined
  return onPath('xdg-open', env)
}

/** Starts the opener detached: the browser outlives devenv, and devenv does not wait for it. */
export function openInBrowser(opener: string, url: string): void {
  const child = spawn(opener, [url], { detached: true, stdio: 'ignore' })
  child.on('error', () => {})
  child.unref()
}

function onPath(program: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const folder of (env.PATH ?? '').split(path.delimiter)) {
    if (!folder) continue
    const candidate = path.join(folder, program)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return undefined
}
