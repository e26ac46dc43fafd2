import { writeFileSync } from 'node:fs'
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

/** `devenv config` speaks the envfile's own vocabulary (docs/envfile.md), not the internal model. */
interface Resolved {
  name: string
  services: Record<
    string,
    {
      box: string
      hostnames: string[]
      ports: number[]
      publish: string[]
      mounts: Array<{ source: string; target: string; watch: string }>
      env: Record<string, string>
      depends_on: Record<string, { condition: string }>
      stop_timeout: string
      databases?: Array<{ name: string; password: string; seed: string[] }>
      users?: Array<{ name: string; password: string; root: string }>
      backends?: string[]
      tls?: boolean
    }
  >
}

describe('devenv config', () => {
  it('--json prints the resolved envfile with passwords masked', async () => {
    const result = await devenv(['config', '--json'], { cwd: folder, env: { FTP_PASSWORD: undefined } })
    expect(result.exitCode).toBe(0)
    const spec = JSON.parse(result.stdout).result as Resolved
    expect(spec.name).toBe('shop')
    const { lb, www1, www2, psql, ftp, mail } = spec.services
    expect(lb).toMatchObject({ box: 'lb', backends: ['www1', 'www2'], ports: [80, 443], tls: true })
    expect(lb!.hostnames).toEqual(['www.example.test', 'example.test', 'lb.example.test'])
    expect(www1!.publish).toEqual(['127.0.0.1:81:8080'])
    expect(www2!.publish).toEqual(['127.0.0.1:82:8080'])
    expect(www2!.mounts).toEqual([
      expect.objectContaining({ source: path.join(folder, 'app'), target: '/app', watch: 'restart' }),
    ])
    expect(www1!.depends_on).toEqual({ psql: { condition: 'healthy' } })
    expect(www1!.stop_timeout).toBe('10s')
    expect(www1!.env.NODE_ENV).toBe('development')
    expect(mail!.box).toBe('mail')
    expect(www1!.env.DATABASE_URL).toBe('postgres://skel:****@psql.example.test:5432/skel')
    expect(psql!.databases![0]).toMatchObject({
      name: 'skel',
      password: '****',
      seed: [path.join(folder, 'db/schema.sql'), path.join(folder, 'db/data.sql')],
    })
    expect(ftp!.users![0]).toMatchObject({ name: '3pg', password: '****', root: path.join(folder, 'ftp/3pg') })
    expect(result.stdout).not.toContain('3pg-secret')
  })

  it('--show-secrets shows them, with ${FTP_PASSWORD} filled from .env', async () => {
    const result = await devenv(['config', '--json', '--show-secrets'], {
      cwd: folder,
      env: { FTP_PASSWORD: undefined },
    })
    expect(result.exitCode).toBe(0)
    const spec = JSON.parse(result.stdout).result as Resolved
    expect(spec.services.ftp!.users![0]!.password).toBe('3pg-secret')
    expect(spec.services.psql!.databases![0]!.password).toBe('skel')
    expect(spec.services.www1!.env.DATABASE_URL).toBe('postgres://skel:skel@psql.example.test:5432/skel')
  })

  it('without --json prints the same model as YAML, masked', async () => {
    const result = await devenv(['config'], { cwd: folder, env: { FTP_PASSWORD: 'from-the-shell' } })
    expect(result.exitCode).toBe(0)
    const spec = parse(result.stdout) as Resolved
    expect(Object.keys(spec.services)).toEqual(['lb', 'www1', 'www2', 'psql', 'mail', 'ftp'])
    expect(spec.services.ftp!.users![0]!.password).toBe('****')
    expect(result.stdout).not.toMatch(/dependsOn|stopTimeoutMs|hostAddress|httpPort/)
    expect(result.stdout).not.toContain('from-the-shell')
  })

  it('its output loads back as the same project, as docker compose config', async () => {
    const printed = await devenv(['config', '--show-secrets'], { cwd: folder, env: { FTP_PASSWORD: undefined } })
    expect(printed.exitCode).toBe(0)
    writeFileSync(path.join(folder, 'resolved.yaml'), printed.stdout)
    const validate = await devenv(['validate', '-f', 'resolved.yaml'], { cwd: folder })
    expect(validate.exitCode, validate.stderr).toBe(0)
    const again = await devenv(['config', '--show-secrets', '-f', 'resolved.yaml'], { cwd: folder })
    expect(again.stdout.replace(/^name: .*$/m, '')).toBe(printed.stdout.replace(/^name: .*$/m, ''))
  })
})
