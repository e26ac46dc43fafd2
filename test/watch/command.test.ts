import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runWatchCommand } from '../../src/watch/command.js'
import { temporaryFolder, waitFor } from './fixtures.js'

/** Alive and not a zombie waiting to be reaped (a killed orphan may linger as one in a container). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

function pids(file: string): number[] {
  return readFileSync(file, 'utf8').trim().split(/\s+/).map(Number)
}

let folder: ReturnType<typeof temporaryFolder>
let started: number[] = []

beforeEach(() => {
  folder = temporaryFolder('devenv-cmd-')
  started = []
})

afterEach(() => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone, as it should be
    }
  }
  folder.remove()
})

describe('runWatchCommand', () => {
  it('streams each line as it comes, stdout and stderr, in the given folder and environment', async () => {
    const lines: { line: string; at: number }[] = []
    const begin = Date.now()
    const result = await runWatchCommand('echo "one $GREETING"; pwd; echo two >&2; sleep 0.4; printf last', {
      cwd: folder.path,
      env: { GREETING: 'hello' },
      log: (line) => lines.push({ line, at: Date.now() - begin }),
    })
    expect(result).toMatchObject({ ok: true, exitCode: 0, aborted: false, timedOut: false })
    expect(lines.map((entry) => entry.line)).toEqual(['one hello', folder.path, 'two', 'last'])
    // "one" was logged while the command still ran, not collected at the end.
    expect(lines[3]!.at - lines[0]!.at).toBeGreaterThanOrEqual(300)
  })

  it('reports a failing command without throwing', async () => {
    const lines: string[] = []
    const result = await runWatchCommand('echo broken; exit 3', {
      cwd: folder.path,
      env: {},
      log: (line) => lines.push(line),
    })
    expect(result).toMatchObject({ ok: false, exitCode: 3 })
    expect(lines).toEqual(['broken'])
  })

  it('on abort, kills the whole process group and leaves no process behind', async () => {
    const pidFile = path.join(folder.path, 'pids')
    const controller = new AbortController()
    const running = runWatchCommand(`sleep 300 & sleep 301 & echo "$$ $!" > ${pidFile}; wait`, {
      cwd: folder.path,
      env: {},
      log: () => {},
      signal: controller.signal,
    })
    await waitFor(
      () => (existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n') ? true : undefined),
      5000,
      'the pid file',
    )
    started = pids(pidFile)
    expect(started.every(isRunning)).toBe(true)
    controller.abort()
    const result = await running
    expect(result).toMatchObject({ ok: false, aborted: true })
    await waitFor(() => (started.some(isRunning) ? undefined : true), 3000, 'every process to end')
  }, 10_000)

  it('kills what a finished command left running in the background', async () => {
    const pidFile = path.join(folder.path, 'pids')
    const result = await runWatchCommand(`sleep 300 > /dev/null 2>&1 & echo $! > ${pidFile}; echo done`, {
      cwd: folder.path,
      env: {},
      log: () => {},
    })
    expect(result.ok).toBe(true)
    started = pids(pidFile)
    await waitFor(() => (started.some(isRunning) ? undefined : true), 3000, 'the background sleep to end')
  })

  it('stops a command that outlives its timeout, even one that ignores SIGTERM', async () => {
    const pidFile = path.join(folder.path, 'pids')
    const result = await runWatchCommand(`trap "" TERM; echo $$ > ${pidFile}; sleep 300 & wait; wait`, {
      cwd: folder.path,
      env: {},
      log: () => {},
      timeoutMs: 300,
      killGraceMs: 300,
    })
    expect(result).toMatchObject({ ok: false, timedOut: true })
    started = pids(pidFile)
    await waitFor(() => (started.some(isRunning) ? undefined : true), 3000, 'the command to end')
  }, 10_000)
})
