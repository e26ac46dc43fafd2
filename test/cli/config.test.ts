import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { cleanSandboxes, devenv, sandbox } from './run-cli.js'

afterAll(cleanSandboxes)

let folder: string
beforeAll(async () => {
  folder = sandbox()
  const init = await devenv(['init', '--template', 'webapp', '--name', 'shop'], { cwd: folder })
  expect(init.exitCode).toBe(0)
})

interface Resolved {
  name: string
  root: string
  services: Record<string, {
    kind: string
    hostnames: string[]
    publish: Array<{ hostAddress: string; hostPort: number; port: number }>
    mounts: Array<{ source: string; target: string; watch: { kind: string } }>
    env: Record<string, string>
    postgres?: { databases: Array<{ name: string; password: string; seed: string[] }> }
    ftp?: { users: Array<{ name: string; password: string; root: string }> }
    lb?: { backends: string[]; httpPort: number; httpsPort?: number }
  }>
}

describe('devenv config', () => {
  it('--json prints the resolved model with passwords masked', async () => {
    const result = await devenv(['config', '--json'], { cwd: folder, env: { FTP_PASSWORD: undefined } })
    expect(result.exitCode).toBe(0)
    const spec = JSON.parse(result.stdout).result as Resolved
    expect(spec.name).toBe('shop')
    expect(spec.root).toBe(folder)
    const { lb, www1, www2, psql, ftp, mail } = spec.services
    expect(lb!.lb).toMatchObject({ backends: ['www1', 'www2'], httpPort: 80, httpsPort: 443 })
    expect(lb!.hostnames).toEqual(['www.example.test', 'example.test', 'lb.example.test'])
    expect(www1!.publish).toEqual([{ hostAddress: '127.0.0.1', hostPort: 81, port: 8080 }])
    expect(www2!.publish).toEqual([{ hostAddress: '127.0.0.1', hostPort: 82, port: 8080 }])
    expect(www2!.mounts).toEqual([expect.objectContaining({ source: path.join(folder, 'app'), target: '/app', watch: { kind: 'restart' } })])
    expect(www1!.env.NODE_ENV).toBe('development')
    expect(mail!.kind).toBe('mail')
    expect(www1!.env.DATABASE_URL).toBe('postgres://skel:****@psql.example.test:5432/skel')
    expect(psql!.postgres!.databases[0]).toMatchObject({ name: 'skel', password: '****', seed: [path.join(folder, 'db/schema.sql'), path.join(folder, 'db/data.sql')] })
    expect(ftp!.ftp!.users[0]).toMatchObject({ name: '3pg', password: '****', root: path.join(folder, 'ftp/3pg') })
    expect(result.stdout).not.toContain('3pg-secret')
  })

  it('--show-secrets shows them, with ${FTP_PASSWORD} filled from .env', async () => {
    const result = await devenv(['config', '--json', '--show-secrets'], { cwd: folder, env: { FTP_PASSWORD: undefined } })
    expect(result.exitCode).toBe(0)
    const spec = JSON.parse(result.stdout).result as Resolved
    expect(spec.services.ftp!.ftp!.users[0]!.password).toBe('3pg-secret')
    expect(spec.services.psql!.postgres!.databases[0]!.password).toBe('skel')
    expect(spec.services.www1!.env.DATABASE_URL).toBe('postgres://skel:skel@psql.example.test:5432/skel')
  })

  it('without --json prints the same model as YAML, masked', async () => {
    const result = await devenv(['config'], { cwd: folder, env: { FTP_PASSWORD: 'from-the-shell' } })
    expect(result.exitCode).toBe(0)
    const spec = parse(result.stdout) as Resolved
    expect(Object.keys(spec.services)).toEqual(['lb', 'www1', 'www2', 'psql', 'mail', 'ftp'])
    expect(spec.services.ftp!.ftp!.users[0]!.password).toBe('****')
    expect(result.stdout).not.toContain('from-the-shell')
  })
})
