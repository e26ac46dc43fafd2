import { execFileSync } from 'node:child_process'
import { appendFileSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { BIN, type CliResult } from '../cli/run-cli.js'

/**
 * Image services run by a user who is not root, through the built CLI (setpriv drops root), with
 * a project folder and DEVENV_HOME of that user's, as on a laptop.
 */
export class UserProject {
  readonly base: string
  readonly root: string
  readonly home: string

  constructor(
    readonly uid: number,
    readonly gid: number,
  ) {
    this.base = mkdtempSync(path.join(tmpdir(), 'devenv-image-user-'))
    this.root = path.join(this.base, 'project')
    this.home = path.join(this.base, 'home')
    mkdirSync(this.root)
    mkdirSync(this.home)
    for (const folder of [this.base, this.root, this.home]) chownSync(folder, uid, gid)
  }

  write(yaml: string): this {
    const file = path.join(this.root, 'devenv.yaml')
    writeFileSync(file, yaml)
    chownSync(file, this.uid, this.gid)
    return this
  }

  /** A folder of the project, the user's, with these files in it. */
  folder(relative: string, files: Record<string, string> = {}): string {
    const folder = path.join(this.root, relative)
    mkdirSync(folder, { recursive: true })
    chownSync(folder, this.uid, this.gid)
    for (const [name, content] of Object.entries(files)) {
      writeFileSync(path.join(folder, name), content)
      chownSync(path.join(folder, name), this.uid, this.gid)
    }
    return folder
  }

  /** `input`: what the command reads on its standard input (a shell's commands). */
  async run(args: string[], timeout = 90_000, input = ''): Promise<CliResult> {
    const started = performance.now()
    const result = await execa(
      'setpriv',
      [
        `--reuid=${this.uid}`,
        `--regid=${this.gid}`,
        '--clear-groups',
        'env',
        `HOME=${this.home}`,
        `DEVENV_HOME=${this.home}`,
        `DEVENV_HOSTS_FILE=${path.join(this.root, 'hosts')}`,
        `PATH=${process.env.PATH}`,
        BIN,
        ...args,
      ],
      { cwd: this.root, reject: false, timeout, input },
    )
    return {
      exitCode: result.exitCode ?? -1,
      stdout: result.stdout,
      stderr: result.stderr,
      ms: performance.now() - started,
    }
  }

  state(): { services: Record<string, { pid?: number; address: string; state: string; health: string }> } {
    return JSON.parse(readFileSync(path.join(this.root, '.devenv', 'state.json'), 'utf8')) as never
  }

  /** Removed as root: the writable layers hold files of the namespace's other ids. */
  remove(): void {
    rmSync(this.base, { recursive: true, force: true })
  }
}

/** Can a user who is not root make a user namespace with mount, PID and network namespaces here? */
export function unprivilegedUserNamespaces(uid: number): boolean {
  try {
    execFileSync(
      'setpriv',
      [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', 'unshare', '-U', '-r', '-m', '-n', '-p', '-f', 'true'],
      { stdio: 'ignore', cwd: '/' },
    )
    return true
  } catch {
    return false
  }
}

/**
 * A user made for one test file, with a subordinate range of its own in /etc/subuid and
 * /etc/subgid; `remove` deletes the user and its lines again.
 */
export class SubordinateUser {
  readonly name = `devenv-t${process.pid}`
  readonly uid: number
  readonly gid: number
  /** Where its subordinate uids start (the first is 1 inside its user namespace). */
  readonly start: number

  constructor() {
    execFileSync('useradd', ['--no-create-home', '--user-group', '--shell', '/usr/sbin/nologin', this.name])
    this.uid = Number(execFileSync('id', ['-u', this.name], { encoding: 'utf8' }).trim())
    this.gid = Number(execFileSync('id', ['-g', this.name], { encoding: 'utf8' }).trim())
    // Debian's useradd gives a new user ranges of its own (SUB_UID_MIN in login.defs); where it does not, add them.
    const given = (file: string): number | undefined => {
      const line = readFileSync(file, 'utf8')
        .split('\n')
        .find((entry) => entry.startsWith(`${this.name}:`))
      return line ? Number(line.split(':')[1]) : undefined
    }
    const fallback = 300_000 + (process.pid % 1000) * 65_536
    for (const file of ['/etc/subuid', '/etc/subgid'])
      if (given(file) === undefined) appendFileSync(file, `${this.name}:${fallback}:65536\n`)
    this.start = given('/etc/subuid')!
  }

  /** Gives the user another range (as an administrator might), or back its own. */
  moveRange(start: number): void {
    for (const file of ['/etc/subuid', '/etc/subgid']) {
      const lines = readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => line && !line.startsWith(`${this.name}:`))
      writeFileSync(file, `${[...lines, `${this.name}:${start}:65536`].join('\n')}\n`)
    }
  }

  remove(): void {
    for (const file of ['/etc/subuid', '/etc/subgid']) {
      const kept = readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => line && !line.startsWith(`${this.name}:`))
      writeFileSync(file, kept.length ? `${kept.join('\n')}\n` : '')
    }
    execFileSync('userdel', [this.name])
  }
}
