import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { python } from '../mail/harness.js'
import { ftpProject, startFtp, type RunningFtp } from './harness.js'

// Python's ftplib, one session, a list of operations; each answers its reply or its error.
const SESSION = `
import ftplib, io, json, sys
address, port, user, password, operations = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], json.loads(sys.argv[5])
ftp = ftplib.FTP()
ftp.connect(address, port, timeout=10)
ftp.login(user, password)
results = []
for op, *args in operations:
    try:
        if op == 'get':
            buffer = io.BytesIO(); ftp.retrbinary('RETR ' + args[0], buffer.write); value = buffer.getvalue().decode()
        elif op == 'put':
            value = ftp.storbinary('STOR ' + args[0], io.BytesIO(args[1].encode()))
        elif op == 'list':
            value = ftp.nlst(*args)
        elif op == 'cwd':
            value = ftp.cwd(args[0])
        elif op == 'pwd':
            value = ftp.pwd()
        elif op == 'mkd':
            value = ftp.mkd(args[0])
        elif op == 'rename':
            value = ftp.rename(args[0], args[1])
        elif op == 'delete':
            value = ftp.delete(args[0])
        else:
            value = ftp.sendcmd(args[0])
        results.append({'ok': value})
    except ftplib.all_errors as error:
        results.append({'error': str(error)})
ftp.quit()
print(json.dumps(results))
`

type Result = { ok: unknown } | { error: string }

let project: ReturnType<typeof ftpProject>
let ftp: RunningFtp
let outside: string
let root: string

async function session(user: string, password: string, operations: unknown[][]): Promise<Result[]> {
  return python<Result[]>(SESSION, [ftp.address, String(ftp.port), user, password, JSON.stringify(operations)])
}

function curl(args: string[]): Promise<{ exitCode?: number; stdout: string; stderr: string }> {
  return execa('curl', ['--silent', '--show-error', '--max-time', '10', ...args], { reject: false })
}

beforeAll(async () => {
  project = ftpProject()
  ftp = await startFtp(project.spec)
  root = path.join(project.root, 'ftp', '3pg')
  // what a confined user must never reach: a file beside the root, and links pointing at it
  outside = path.join(project.root, 'outside')
  mkdirSync(outside)
  writeFileSync(path.join(outside, 'secret.txt'), 'top secret')
  writeFileSync(path.join(project.root, 'ftp', 'beside.txt'), 'beside the root')
  symlinkSync(outside, path.join(root, 'dir-out'))
  symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'file-out'))
  symlinkSync(path.join(outside, 'created-through-link.txt'), path.join(root, 'dangling'))
  mkdirSync(path.join(root, 'docs'))
  symlinkSync('..', path.join(root, 'docs', 'up')) // a link that stays inside is fine
})

afterAll(async () => {
  await ftp?.stop()
  project?.remove()
})

describe('ftp box', () => {
  it("creates each user's folder and keeps the passwords in a config only its owner can read", () => {
    expect(statSync(path.join(project.root, 'ftp', 'other')).isDirectory()).toBe(true)
    expect(statSync(path.join(ftp.runDir, 'ftp.json')).mode & 0o777).toBe(0o600)
  })

  it('uploads and downloads a file with curl as a declared user, in passive mode', async () => {
    const file = path.join(project.root, 'upload.txt')
    writeFileSync(file, 'hello over ftp\n')
    const upload = await curl(['-T', file, `ftp://3pg:s3cret-Pass@${ftp.address}:${ftp.port}/`])
    expect(upload.stderr).toBe('')
    expect(upload.exitCode).toBe(0)
    expect(readFileSync(path.join(root, 'upload.txt'), 'utf8')).toBe('hello over ftp\n')

    const download = await curl([`ftp://3pg:s3cret-Pass@${ftp.address}:${ftp.port}/upload.txt`])
    expect(download.stdout).toBe('hello over ftp') // execa drops the final newline

    // PASV must name the service's own address (curl would fail otherwise); ports from pasv_ports
    const epsv = await curl([
      '--ftp-pasv',
      '--disable-epsv',
      '-v',
      `ftp://3pg:s3cret-Pass@${ftp.address}:${ftp.port}/upload.txt`,
    ])
    const pasv = /227 PASV OK \((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(epsv.stderr)
    expect(pasv).not.toBeNull()
    expect(pasv!.slice(1, 5).join('.')).toBe(ftp.address)
    const port = Number(pasv![5]) * 256 + Number(pasv![6])
    expect(port).toBeGreaterThanOrEqual(30100)
    expect(port).toBeLessThanOrEqual(30109)

    const listing = await curl([`ftp://3pg:s3cret-Pass@${ftp.address}:${ftp.port}/`, '--list-only'])
    expect(listing.stdout.split(/\r?\n/).filter(Boolean).sort()).toEqual(['docs', 'upload.txt'])
  })

  it('refuses a wrong password and an unknown user, never logging a password', async () => {
    const wrong = await curl([`ftp://3pg:wrong-guess@${ftp.address}:${ftp.port}/upload.txt`])
    expect(wrong.exitCode).toBe(67) // login denied
    expect(wrong.stderr).toContain('530')
    const unknown = await curl([`ftp://mallory:s3cret-Pass@${ftp.address}:${ftp.port}/`])
    expect(unknown.exitCode).toBe(67)
    expect(ftp.output()).toContain('refused login as "3pg"')
    expect(ftp.output()).not.toContain('wrong-guess')
    expect(ftp.output()).not.toContain('s3cret-Pass')
  })

  it('keeps a user inside the root: `..`, absolute paths and symlinks out are refused', async () => {
    const results = await session('3pg', 's3cret-Pass', [
      ['get', '../beside.txt'],
      ['get', '../../outside/secret.txt'],
      ['get', path.join(outside, 'secret.txt')],
      ['get', 'file-out'],
      ['cwd', 'dir-out'],
      ['get', 'dir-out/secret.txt'],
      ['put', 'dir-out/planted.txt', 'planted'],
      ['put', 'dangling', 'through a dangling link'],
      ['rename', 'upload.txt', 'dir-out/moved.txt'],
      ['mkd', 'dir-out/newdir'],
      ['cwd', '..'],
      ['pwd'],
      ['cwd', '/docs/up'],
      ['get', 'upload.txt'],
      ['raw', `SIZE ${path.join(outside, 'secret.txt')}`],
      ['list', '/'],
    ])
    const [
      dotdot,
      dotdot2,
      absolute,
      fileLink,
      dirLink,
      throughDirLink,
      plant,
      dangling,
      rename,
      mkdir,
      up,
      pwd,
      insideLink,
      readInside,
      size,
      list,
    ] = results
    for (const refused of [
      dotdot,
      dotdot2,
      absolute,
      fileLink,
      dirLink,
      throughDirLink,
      plant,
      dangling,
      rename,
      mkdir,
      size,
    ]) {
      expect(refused).toHaveProperty('error')
      expect((refused as { error: string }).error).toMatch(/^5\d\d /)
      // replies name no server path
      expect((refused as { error: string }).error).not.toContain(project.root)
    }
    expect(up).toHaveProperty('ok') // `..` at the root stays at the root
    expect(pwd).toEqual({ ok: '/' })
    expect(insideLink).toHaveProperty('ok')
    expect(readInside).toEqual({ ok: 'hello over ftp\n' })
    expect((list as { ok: string[] }).ok.sort()).toEqual(['docs', 'upload.txt'])

    expect(existsSync(path.join(outside, 'planted.txt'))).toBe(false)
    expect(existsSync(path.join(outside, 'created-through-link.txt'))).toBe(false)
    expect(existsSync(path.join(outside, 'moved.txt'))).toBe(false)
    expect(existsSync(path.join(outside, 'newdir'))).toBe(false)
    expect(readFileSync(path.join(root, 'upload.txt'), 'utf8')).toBe('hello over ftp\n')
  })

  it('gives each user only their own folder', async () => {
    const [mine, theirs, put] = await session('other', 'other-pass', [
      ['list', '/'],
      ['get', '../3pg/upload.txt'],
      ['put', 'note.txt', 'mine'],
    ])
    expect((mine as { ok: string[] }).ok.filter(Boolean)).toEqual([])
    expect(theirs).toHaveProperty('error')
    expect(put).toHaveProperty('ok')
    expect(readFileSync(path.join(project.root, 'ftp', 'other', 'note.txt'), 'utf8')).toBe('mine')
  })

  it('stops cleanly on SIGTERM', async () => {
    expect(await ftp.stop()).toBe(0)
    expect(ftp.output()).toContain('ftp: SIGTERM, stopping')
  })
})
