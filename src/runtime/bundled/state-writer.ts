import { rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { ProjectPaths } from '../../state/index.js'
import { writeProjectState, writeProjectStateAsync, type ProjectState } from '../../state/index.js'

/** Room kept aside for state.json: many times its size, so it stays current on a full disk. */
const RESERVE_BYTES = 256 * 1024

/**
 * Writes state.json for the supervisor without ever throwing. A full disk would leave `status`
 * showing a stale state (services "healthy" that have died), so the supervisor keeps a reserve
 * file beside it: when a write finds no room, the reserve is given up and the write tried again
 * (still write-aside and rename), and the reserve is taken again once there is room.
 */
export class StateWriter {
  private readonly reserve: string
  private reserved = false
  /** Why the last write failed, reported once; cleared when a write goes through. */
  private failure?: string
  /** Counts writes begun: a write off the main thread lands only if none began after it. */
  private generation = 0
  private inFlight?: Promise<void>
  private pending?: ProjectState

  constructor(
    root: string,
    private readonly report: (message: string) => void,
  ) {
    this.reserve = path.join(new ProjectPaths(root).dir, 'state.reserve')
  }

  /**
   * Written before this returns: for the states a reply depends on (an `up` done, a stop, the
   * supervisor ending). Any write still in flight off the main thread is outdated by it.
   */
  write(state: ProjectState): void {
    this.generation++
    this.pending = undefined
    try {
      writeProjectState(state)
    } catch (error) {
      if (!this.reserved || !isDiskFull(error)) return this.failed(error)
      rmSync(this.reserve, { force: true })
      this.reserved = false
      try {
        writeProjectState(state)
      } catch (again) {
        return this.failed(again)
      }
    }
    if (this.failure) this.report(`state.json is written again (it could not be: ${this.failure})`)
    this.failure = undefined
    if (!this.reserved) this.takeReserve()
  }

  /**
   * Written soon, off the main thread: for the many changes while services start, which must
   * not hold the supervisor up (each flush is a few ms, more on a busy disk). One write at a
   * time; changes that come meanwhile are coalesced into the next. A write that finds the disk
   * full is made again the synchronous way, which gives up the reserve for it.
   */
  writeSoon(state: ProjectState): void {
    if (this.inFlight) {
      this.pending = state
      return
    }
    const generation = ++this.generation
    this.inFlight = writeProjectStateAsync(state, () => this.generation === generation)
      .then(
        () => {
          if (this.failure) this.report(`state.json is written again (it could not be: ${this.failure})`)
          this.failure = undefined
        },
        (error: unknown) => {
          if (this.generation !== generation) return
          if (isDiskFull(error)) this.write(state)
          else this.failed(error)
        },
      )
      .finally(() => {
        this.inFlight = undefined
        const next = this.pending
        this.pending = undefined
        if (next) this.writeSoon(next)
      })
  }

  private takeReserve(): void {
    try {
      writeFileSync(this.reserve, Buffer.alloc(RESERVE_BYTES), { mode: 0o600 })
      this.reserved = true
    } catch {
      rmSync(this.reserve, { force: true })
    }
  }

  private failed(error: unknown): void {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message
    if (this.failure === undefined)
      this.report(`cannot write state.json: ${reason}; \`devenv status\` may show an older state until it can`)
    this.failure = reason
  }
}

function isDiskFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code
  return code === 'ENOSPC' || code === 'EDQUOT'
}
