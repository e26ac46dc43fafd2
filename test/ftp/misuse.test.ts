import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { python } from '../mail/harness.js'
import { ftpProject, startFtp, type RunningFtp } from './harness.js'

/**
 * The ftp box against guessing, bouncing and clients that follow RFC 959: the real server, real
 * sockets (Python's ftplib) and the real lftp client.
 */

// Sessions of raw commands, each on its own connection, all at once (threads); per command its reply and how long it took.
const SESSIONS = `
import ftplib, json, sys, threading, time
address, port, sessions = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
results = [None] * len(sessions)
def run(index, session):
    replies = []
    try:
        ftp = ftplib.FTP()
        ftp.connect(address, port, timeout=20, source_address=(session.get('from', '127.0.0.1'), 0))
        for command in session['commands']:
            started = time.monotonic()
            try:
                reply = ftp.sendcmd(command)
            except ftplib.all_errors as error:
                reply = str(error)
            replies.append({'reply': reply, 'ms': round((time.monotonic() - started) * 1000)})
            if reply.startswith('421') or not reply[:3].isdigit():
                break
        ftp.close()
    except ftplib.all_errors as error:
        replies.append({'reply': 'connection: ' + str(error), 'ms': 0})
    results[index] = replies
threads = [threading.Thread(target=run, args=(index, session)) for index, session in enumerate(sessions)]
for thread in threads: thread.start()
for thread in threads: thread.join()
print(json.dumps(results))
`

interface Step {
  reply: string
  ms: number
}

function sessions(ftp: RunningFtp, list: { commands: string[]; from?: string }[]): Promise<Step[][]> {
  return python<Step[][]>(SESSIONS, [ftp.address, String(ftp.port), JSON.stringify(list)])
}

async function commands(ftp: RunningFtp, list: string[], from?: string): Promise<Step[]> {
  return (await sessions(ftp, [{ commands: list, ...(from ? { from } : {}) }]))[0]!
}

/** lftp, debug output on (it shows each command sent, `--->`, and each reply). */
function lftp(
  ftp: RunningFtp,
  script: string,
  user = '3pg,s3cret-Pass',
): Promise<{ exitCode?: number; stdout: string; stderr: string }> {
  const settings = 'set net:max-retries 1; set net:timeout 10; set net:reconnect-interval-base 1; set cmd:fail-exit yes'
  return execa('lftp', ['-d', '-c', `${settings}; open -u ${user} ftp://${ftp.address}:${ftp.port}; ${script}`], {
    reject: false,
    timeout: 30_000,
  })
}

describe('ftp box, default settings: RFC 959 clients, bounces and TLS', () => {
  let project: ReturnType<typeof ftpProject>
  let ftp: RunningFtp
  let root: string

  beforeAll(async () => {
    project = ftpProject()
    ftp = await startFtp(project.spec)
    root = path.join(project.root, 'ftp', '3pg')
    mkdirSync(path.join(root, 'docs'), { recursive: true })
    writeFileSync(path.join(root, 'docs', 'existing.txt'), 'old')
    symlinkSync('docs/existing.txt', path.join(root, 'to-existing.txt'))
    symlinkSync('docs/not-yet.txt', path.join(root, 'to-not-yet.txt'))
    symlinkSync('docs', path.join(root, 'docs-link'))
    symlinkSync('loop-b', path.join(root, 'loop-a'))
    symlinkSync('loop-a', path.join(root, 'loop-b'))
  })
  afterAll(async () => {
    await ftp?.stop()
    project?.remove()
  })

  it('delays each failed login by a second, as vsftpd does', async () => {
    const steps = await commands(ftp, [
      'USER 3pg',
      'PASS guess-1',
      'USER 3pg',
      'PASS guess-2',
      'USER nobody',
      'PASS guess-3',
    ])
    const passes = steps.filter((_, index) => index % 2 === 1)
    expect(passes.map((step) => step.reply.slice(0, 3))).toEqual(['530', '530', '530'])
    for (const pass of passes) expect(pass.ms).toBeGreaterThanOrEqual(950)
  })

  it('starts a new login on USER after a failed one (RFC 959), instead of "Username already set"', async () => {
    const steps = await commands(ftp, ['USER 3pg', 'PASS wrong', 'USER other', 'PASS other-pass', 'PWD'])
    expect(steps.map((step) => step.reply.slice(0, 3))).toEqual(['331', '530', '331', '230', '257'])
    // and once logged in, another USER does not change who it is
    const after = await commands(ftp, ['USER other', 'PASS other-pass', 'USER 3pg', 'PWD'])
    expect(after[2]!.reply).toMatch(/^5\d\d /)
    expect(after[3]!.reply).toMatch(/^257 /)
  })

  it("refuses PORT and EPRT to a privileged port, even of the client's own address (no bounce to SMTP)", async () => {
    const steps = await commands(ftp, [
      'USER 3pg',
      'PASS s3cret-Pass',
      'PORT 127,0,0,1,0,25',
      'EPRT |1|127.0.0.1|25|',
      'PORT 127,0,0,1,3,255',
      'PORT 127,0,0,1,300,1',
      'PORT 127,0,0,1,4,0',
    ])
    const [, , port25, eprt25, port1023, malformed, port1024] = steps.map((step) => step.reply)
    expect(port25).toMatch(/^504 /)
    expect(eprt25).toMatch(/^504 /)
    expect(port1023).toMatch(/^504 /)
    expect(malformed).toMatch(/^501 /)
    expect(port1024).toMatch(/^200 /)
  })

  it('still serves active mode (PORT to an unprivileged port) to lftp', async () => {
    const listing = await lftp(ftp, 'set ftp:passive-mode off; cls -1 /docs')
    expect(listing.stderr).toMatch(/---> (PORT|EPRT) /)
    expect(listing.exitCode).toBe(0)
    expect(listing.stdout).toContain('existing.txt')
  })

  it('advertises in FEAT only what it does: no AUTH TLS (no FTPS), so lftp does not try it', async () => {
    const [feat, auth] = await commands(ftp, ['FEAT', 'AUTH TLS'])
    expect(feat!.reply).toMatch(/^211[ -]/)
    expect(feat!.reply).not.toMatch(/AUTH|PBSZ|PROT/)
    expect(feat!.reply).toContain('SIZE')
    expect(auth!.reply).toMatch(/^502 /)
    // lftp tries AUTH TLS whenever FEAT offers it (ftp:ssl-allow is on by default)
    const listing = await lftp(ftp, 'cls -1 /docs')
    expect(listing.stderr).not.toContain('AUTH TLS')
    expect(listing.exitCode).toBe(0)
    expect(listing.stdout).toContain('existing.txt')
    // and what it does advertise works
    const advertised = await commands(ftp, [
      'USER 3pg',
      'PASS s3cret-Pass',
      'SIZE /docs/existing.txt',
      'MDTM /docs/existing.txt',
      'TYPE A',
      'TYPE I',
      'TYPE L 8',
      'OPTS UTF8 ON',
    ])
    const [, , size, mdtm, ...rest] = advertised.map((step) => step.reply)
    expect(size).toBe('213 3')
    expect(mdtm).toMatch(/^213 \d{14}/)
    for (const reply of rest) expect(reply).toMatch(/^200 /)
  })

  it('writes through symlinks that stay inside the folder, with lftp', async () => {
    const source = path.join(project.root, 'upload.txt')
    writeFileSync(source, 'new contents\n')
    const toExisting = await lftp(ftp, `put ${source} -o /to-existing.txt`)
    expect(toExisting.stderr).toMatch(/^<--- 226 /m)
    expect(toExisting.exitCode).toBe(0)
    expect(readFileSync(path.join(root, 'docs', 'existing.txt'), 'utf8')).toBe('new contents\n')

    const toNotYet = await lftp(ftp, `put ${source} -o /to-not-yet.txt`)
    expect(toNotYet.exitCode).toBe(0)
    expect(readFileSync(path.join(root, 'docs', 'not-yet.txt'), 'utf8')).toBe('new contents\n')

    const throughFolderLink = await lftp(ftp, `put ${source} -o /docs-link/via-link.txt`)
    expect(throughFolderLink.exitCode).toBe(0)
    expect(readFileSync(path.join(root, 'docs', 'via-link.txt'), 'utf8')).toBe('new contents\n')

    // a loop of links leads nowhere: refused, and the server is none the worse
    const loop = await lftp(ftp, `put ${source} -o /loop-a`)
    expect(loop.exitCode).not.toBe(0)
    expect(loop.stderr).toContain('<--- 550 Permission denied: outside your folder')
    expect((await lftp(ftp, 'cls -1 /docs')).stdout).toContain('via-link.txt')
  })
})

describe('ftp box, tuned login guard: a lockout per client address', () => {
  let project: ReturnType<typeof ftpProject>
  let ftp: RunningFtp
  const guess = (password: string, from?: string): { commands: string[]; from?: string } => ({
    commands: ['USER 3pg', `PASS ${password}`],
    ...(from ? { from } : {}),
  })

  beforeAll(async () => {
    project = ftpProject({
      FTP_FAILED_LOGIN_DELAY: '300ms',
      FTP_LOCKOUT_AFTER: '4',
      FTP_LOCKOUT: '1500ms',
      FTP_LOCKOUT_MAX: '3s',
    })
    ftp = await startFtp(project.spec)
  })
  afterAll(async () => {
    await ftp?.stop()
    project?.remove()
  })

  it("takes its settings from the service's env", () => {
    const config = JSON.parse(readFileSync(path.join(ftp.runDir, 'ftp.json'), 'utf8')) as { loginGuard: unknown }
    expect(config.loginGuard).toEqual({ failedLoginDelayMs: 300, lockoutAfter: 4, lockoutMs: 1500, maxLockoutMs: 3000 })
  })

  it('locks an address out after the set number of failures, even when 30 guesses come at once on 30 connections', async () => {
    const started = Date.now()
    const results = await sessions(
      ftp,
      Array.from({ length: 30 }, (_, index) => guess(`guess-${index}`)),
    )
    const replies = results.map((steps) => steps.at(-1)!.reply)
    // exactly as many passwords were checked as the lockout allows; every other guess was refused unchecked
    expect(replies.filter((reply) => reply === '530 Login incorrect')).toHaveLength(4)
    for (const reply of replies.filter((reply) => reply !== '530 Login incorrect'))
      expect(reply).toMatch(/^(421|530) Too many failed logins from your address: try again in \d+ s$/)
    expect(Date.now() - started).toBeGreaterThanOrEqual(300)

    // locked: the right password is refused too, so guessing learns nothing
    const [, right] = await commands(ftp, ['USER 3pg', 'PASS s3cret-Pass'])
    expect(right!.reply).toMatch(/^421 Too many failed logins from your address: try again in [12] s$/)
    // per address: another client is not locked out
    const [, elsewhere] = await commands(ftp, ['USER 3pg', 'PASS s3cret-Pass'], '127.0.0.2')
    expect(elsewhere!.reply).toMatch(/^230 /)
    expect(ftp.output()).toMatch(/127\.0\.0\.1 is locked out for 2 s after 4 failed logins/)
  })

  it('lets the address in again once the lockout is over, and doubles the next lockout', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1600))
    const [, right] = await commands(ftp, ['USER 3pg', 'PASS s3cret-Pass'])
    expect(right!.reply).toMatch(/^230 /)
    // a success forgets the failures: four more are needed to lock it out again, for the first lockout's time
    const steps = await commands(ftp, [
      'USER 3pg',
      'PASS a',
      'USER 3pg',
      'PASS b',
      'USER 3pg',
      'PASS c',
      'USER 3pg',
      'PASS d',
      'USER 3pg',
      'PASS s3cret-Pass',
    ])
    expect(steps.map((step) => step.reply.slice(0, 3))).toEqual([
      '331',
      '530',
      '331',
      '530',
      '331',
      '530',
      '331',
      '530',
      '331',
      '421',
    ])
    // without a success in between, the next lockout lasts twice as long (at most FTP_LOCKOUT_MAX)
    await new Promise((resolve) => setTimeout(resolve, 1600))
    const again = await commands(ftp, [
      'USER 3pg',
      'PASS a',
      'USER 3pg',
      'PASS b',
      'USER 3pg',
      'PASS c',
      'USER 3pg',
      'PASS d',
      'USER 3pg',
      'PASS s3cret-Pass',
    ])
    expect(again.at(-1)!.reply).toMatch(/^421 Too many failed logins from your address: try again in 3 s$/)
  })

  it('refuses an env value that is not a duration, naming the service and the variable', async () => {
    const broken = ftpProject({ FTP_LOCKOUT: 'soon' })
    try {
      await expect(startFtp(broken.spec)).rejects.toThrow(
        'service ftp: env FTP_LOCKOUT="soon" is not a duration such as 500ms, 2s or 5m (0: none)',
      )
    } finally {
      broken.remove()
    }
  })
})
