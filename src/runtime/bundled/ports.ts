import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import net from 'node:net'
import { DevenvError } from '../../errors.js'

export type BindCheck = 'free' | 'in-use' | 'denied' | 'no-address'

/** Tries to bind address:port for a moment. */
export function checkBind(address: string, port: number): Promise<BindCheck> {
  return new Promise((resolve) => {
    const server = net.createServer()
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') resolve('in-use')
      else if (error.code === 'EACCES' || error.code === 'EPERM') resolve('denied')
      else resolve('no-address')
    })
    server.listen({ host: address, port, exclusive: true }, () => server.close(() => resolve('free')))
  })
}

/** A port the kernel says is free on `address`. */
export function freePort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen({ host: address, port: 0, exclusive: true }, () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/**
 * Where a privileged port devenv may not bind moves, the same from one run to the next: HTTP and
 * HTTPS to their usual unprivileged twins, the others to 10000 + port (10080, which browsers refuse
 * as unsafe, is never used: 80 goes to 8080).
 */
export function stableHighPort(port: number): number {
  if (port === 80) return 8080
  if (port === 443) return 8443
  return 10_000 + port
}

/** A privileged port's stable high twin when it is free on `address`, else any free port. */
export async function fallbackPort(address: string, port: number, avoid: readonly number[] = []): Promise<number> {
  const stable = stableHighPort(port)
  if (port < 1024 && !avoid.includes(stable) && (await checkBind(address, stable)) === 'free') return stable
  return freePort(address)
}

export interface PortHolder {
  pid: number
  command: string
}

/** Which process listens on `port` (Linux, from /proc), when it can be found. */
export function findPortHolder(port: number): PortHolder | undefined {
  if (process.platform !== 'linux') return undefined
  const inodes = new Set<string>()
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string
    try {
      text = readFileSync(table, 'utf8')
    } catch {
      continue
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/)
      const local = fields[1]
      if (!local || fields[3] !== '0A') continue // 0A: LISTEN
      if (Number.parseInt(local.split(':')[1] ?? '', 16) === port) inodes.add(fields[9]!)
    }
  }
  if (inodes.size === 0) return undefined
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let fds: string[]
    try {
      fds = readdirSync(`/proc/${entry}/fd`)
    } catch {
      continue
    }
    for (const fd of fds) {
      let target: string
      try {
        target = readlinkSync(`/proc/${entry}/fd/${fd}`)
      } catch {
        continue
      }
      const match = /^socket:\[(\d+)\]$/.exec(target)
      if (match && inodes.has(match[1]!)) {
        let command = ''
        try {
          command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ')
        } catch {
          // gone meanwhile
        }
        return { pid: Number(entry), command }
      }
    }
  }
  return undefined
}

export interface PortPlan {
  declared: number
  bound: number
  address: string
  /** Why it differs from the declared one. */
  note?: string
}

/**
 * Decides where each declared port is bound: on the service's own address when possible;
 * a free high port when the port is privileged and we may not bind it (or the address is shared).
 * A port someone else holds is an error naming the holder.
 */
export async function planPorts(
  service: string,
  address: string,
  declared: readonly number[],
  shared: boolean,
): Promise<PortPlan[]> {
  const plans: PortPlan[] = []
  for (const port of declared) {
    const check = await checkBind(address, port)
    if (check === 'free' && !shared) {
      plans.push({ declared: port, bound: port, address })
      continue
    }
    if (check === 'in-use' && !shared) {
      const holder = findPortHolder(port)
      throw new DevenvError(
        'PORT_IN_USE',
        `service ${service}: port ${port} on ${address} is already in use${holder ? ` by pid ${holder.pid} (${holder.command || 'unknown'})` : ''}`,
        {
          hint: holder
            ? `Stop that process (kill ${holder.pid}), or change the port in devenv.yaml.`
            : 'Stop whatever listens there, or change the port in devenv.yaml.',
        },
      )
    }
    if (check === 'no-address' && !shared) {
      // No port can be had there either; the caller decides whether to move the service to 127.0.0.1.
      throw new DevenvError(
        'RUNTIME',
        `service ${service}: cannot listen on ${address}: the address is not available on this machine`,
        {
          hint:
            'On Linux every 127.x.y.z address works; elsewhere add a loopback alias (macOS: sudo ifconfig lo0 alias ' +
            address +
            ').',
        },
      )
    }
    const bound = check === 'denied' ? await fallbackPort(address, port, declared) : await freePort(address)
    const reason = shared
      ? 'services share 127.0.0.1 on this system'
      : check === 'denied'
        ? `port ${port} is privileged and devenv is not root`
        : `${address}:${port} cannot be bound`
    plans.push({ declared: port, bound, address, note: `${reason}: ${port} is served on ${address}:${bound}` })
  }
  return plans
}
