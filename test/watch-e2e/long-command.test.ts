// A watch command still running when the project goes down is stopped with it (its whole
// process group), and `down` does not wait for it to finish.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor, WatchProject } from './project.js'

describe('a long watch command', () => {
  let project: WatchProject

  beforeAll(async () => {
    project = new WatchProject('watch-long-command')
    const up = await project.run(['up', '--no-hosts'], 60_000)
    if (up.exitCode !== 0) throw new Error(`up failed: ${up.stderr}`)
  })
  afterAll(async () => {
    await project?.cleanup()
  })

  it('is stopped by `devenv down`, which returns without waiting for it', async () => {
    project.save('src/input.txt', 'b\n')
    await waitFor(
      'the command to start',
      async () => (await project.notes('builder', 'watch: build started')).length === 1,
    )
    expect(project.processes().some((entry) => entry.command === 'sleep 60')).toBe(true)

    const down = await project.run(['down', '--no-hosts'], 20_000)
    expect(down.exitCode, down.stderr).toBe(0)
    expect(project.processes()).toEqual([])
    const notes = (await project.logs('builder')).map((line) => line.text)
    expect(notes.some((text) => text.startsWith('watch command failed'))).toBe(true)
    expect(notes).not.toContain('watch: build finished')
  })
})
