import { spawn } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ProjectPaths } from '../../src/state/paths.js'
import { recoverServiceData, RESTORE_CRASH_POINTS, saveSnapshot } from '../../src/snapshots/index.js'
import { cleanup, describeFolder, makeDataFolder, tempDir } from './helpers.js'

const child = fileURLToPath(new URL('../fixtures/snapshots/restore-child.mjs', import.meta.url))
const idle = async () => async () => {}

let root: string
let paths: ProjectPaths
let oldState: Record<string, string>
let newState: Record<string, string>

/** Starts a restore in a child process; resolves with how it ended. */
function runRestore(
  env: Record<string, string>,
  killAfterMs?: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, root, 'db', 'snap'], {
      env: { ...process.env, ...env },
      stdio: 'ignore',
    })
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => proc.kill('SIGKILL'), killAfterMs)
    proc.on('error', reject)
    proc.on('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal })
    })
  })
}

/** Puts the service back in the "old" state, with the snapshot (the "new" state) beside it. */
function resetToOld(): void {
  cleanup(paths.serviceDir('db'))
  makeDataFolder(paths.serviceData('db'), 'old', { bigBytes: 8_000_000 })
  oldState = describeFolder(paths.serviceData('db'))
}

beforeAll(async () => {
  root = tempDir()
  paths = new ProjectPaths(root)
  makeDataFolder(paths.serviceData('db'), 'new', { bigBytes: 8_000_000 })
  newState = describeFolder(paths.serviceData('db'))
  await saveSnapshot({
    paths,
    service: 'db',
    box: 'postgres',
    kind: 'postgres',
    boxVersion: '17',
    name: 'snap',
    quiesce: idle,
  })
})
afterAll(() => cleanup(root))

describe('a restore killed with SIGKILL', () => {
  const committedFrom = RESTORE_CRASH_POINTS.indexOf('restore:committed')

  for (const [index, point] of RESTORE_CRASH_POINTS.entries()) {
    it(`at ${point} recovers to the ${index >= committedFrom ? 'restored' : 'old'} state, whole`, async () => {
      resetToOld()
      const ended = await runRestore({ DEVENV_SNAPSHOT_CRASH_AT: point })
      expect(ended.signal).toBe('SIGKILL')
      const recovery = await recoverServiceData(paths, 'db')
      expect(recovery.interrupted).toBe('restore')
      expect(describeFolder(paths.serviceData('db'))).toEqual(index >= committedFrom ? newState : oldState)
      expect(readdirSync(paths.serviceDir('db'))).toEqual(['data'])
    })
  }

  it('at random moments always leaves wholly old or wholly new data', async () => {
    for (let round = 0; round < 8; round++) {
      resetToOld()
      // Node starts in ~40 ms and the restore takes some tens more: spread the kills over that window.
      const ended = await runRestore({}, 30 + Math.floor(Math.random() * 120))
      await recoverServiceData(paths, 'db')
      const found = describeFolder(paths.serviceData('db'))
      const outcome =
        JSON.stringify(found) === JSON.stringify(newState)
          ? 'new'
          : JSON.stringify(found) === JSON.stringify(oldState)
            ? 'old'
            : 'mixed'
      expect(outcome).not.toBe('mixed')
      // A restore the kill came too late for finished: its data is the restored one.
      if (ended.signal === null) expect(outcome, `round ${round} exited ${ended.code}`).toBe('new')
      expect(readdirSync(paths.serviceDir('db'))).toEqual(['data'])
    }
  })

  it('a second restore after a crash recovers first, then succeeds', async () => {
    resetToOld()
    await runRestore({ DEVENV_SNAPSHOT_CRASH_AT: 'restore:copied' })
    expect(existsSync(path.join(paths.serviceDir('db'), 'snapshot-journal.json'))).toBe(true)
    const ended = await runRestore({})
    expect(ended.code).toBe(0)
    expect(describeFolder(paths.serviceData('db'))).toEqual(newState)
    expect(readdirSync(paths.serviceDir('db'))).toEqual(['data'])
  })
})
