import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, readlinkSync } from 'node:fs'
import net from 'node:net'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { DevenvError } from '../../errors.js'
import { withoutExtraCaCerts } from '../../util/node-start-env.js'

const run = promisify(execFile)

/**
 * An image service's network. The service has a network namespace of its own (so two services
 * can both listen on 0.0.0.0:8080): its side of a veth pair is 10.250.0.2/30, its gateway's
 * 10.250.0.1, and the gateway is another namespace, where the relay (netns-relay-main.ts) runs.
 * The host reaches the service at its 127.64.x.y address: a listener there on each of its ports
 * has the relay connect to 10.250.0.2. The service reaches a peer by hostname: /etc/hosts names
 * it 10.x.y.z (the peer's 127.64.x.y with 10 in front), an address on the gateway's lo, where the
 * relay accepts and the supervisor connects to the peer's own address on the host. Every
 * non-loopback address lives in namespaces devenv made; nothing is added to the host's.
 */
export const SERVICE_SIDE = '10.250.0.2'
const GATEWAY_SIDE = '10.250.0.1'

/** The address a peer has inside image services' namespaces. */
export function insideAddress(hostAddress: string): string {
  return hostAddress.replace(/^127\./, '10.')
}

export interface Peer {
  name: string
  hostnames: string[]
  hostAddress: string
  /** Declared port → port bound on the host. */
  ports: Array<{ declared: number; bound: number }>
}

function netnsOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`)
  } catch {
    return undefined
  }
}

async function waitForOwnNamespace(pid: number, timeoutMs = 5000): Promise<void> {
  const host = netnsOf(process.pid)
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const found = netnsOf(pid)
    if (found === undefined) throw new DevenvError('SERVICE_FAILED', 'the service exited before its network was made')
    if (found !== host) return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new DevenvError('SERVICE_FAILED', `the service's network namespace did not appear within ${timeoutMs} ms`)
}

/**
 * unshare has newuidmap write the ids of a new user namespace after it is made: until then no one
 * is anyone in it, and what enters it may do nothing.
 */
async function waitForIdMaps(pid: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  const mapped = (file: string): boolean => {
    try {
      return readFileSync(`/proc/${pid}/${file}`, 'utf8').trim() !== ''
    } catch {
      throw new DevenvError('SERVICE_FAILED', 'the service exited before its network was made')
    }
  }
  while (!(mapped('uid_map') && mapped('gid_map'))) {
    if (Date.now() > deadline)
      throw new DevenvError('SERVICE_FAILED', `the service's user namespace got no ids within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

function pipeBoth(a: net.Socket, b: net.Socket, sockets: Set<net.Socket>): void {
  for (const socket of [a, b]) {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  }
  a.pipe(b)
  b.pipe(a)
  const close = (): void => {
    a.destroy()
    b.destroy()
  }
  for (const socket of [a, b]) {
    socket.once('error', close)
    socket.once('close', close)
  }
  a.resume()
  b.resume()
}

type RelayMessage =
  | { type: 'accepted'; localAddress: string; localPort: number }
  | { type: 'connected'; id: number }
  | { type: 'failed'; id: number; message: string }
  | { type: 'listening' }

export class ServiceNetwork {
  private readonly sockets = new Set<net.Socket>()
  private readonly servers: net.Server[] = []
  private readonly pending = new Map<number, (socket: net.Socket | Error) => void>()
  private nextId = 1

  private constructor(private readonly relay: ChildProcess) {}

  /**
   * Joins the namespace of `servicePid` (the service's unshare, in its new network namespace) to a
   * gateway with the relay in it, and listens on the host at `address` for each of `ports`.
   */
  static async open(
    servicePid: number,
    address: string,
    ports: Array<{ declared: number; bound: number }>,
    peers: Peer[],
    log: (line: string) => void,
    /** The project's mark (owned-processes.ts): recovery after a dead supervisor finds the relay by it. */
    mark: Record<string, string>,
    /**
     * Without root the service's namespaces belong to a user namespace of the user's: the
     * gateway's is made in it too, and the pair is made from inside it, where the user may.
     */
    userNamespace = false,
  ): Promise<ServiceNetwork> {
    await waitForOwnNamespace(servicePid)
    if (userNamespace) await waitForIdMaps(servicePid)
    const main = fileURLToPath(new URL('./netns-relay-main.js', import.meta.url))
    const owner = userNamespace ? [`--user=/proc/${servicePid}/ns/user`, '--preserve-credentials'] : []
    const relayArgv = [
      ...(userNamespace ? ['nsenter', ...owner, '--'] : []),
      'unshare',
      '--net',
      '--',
      process.execPath,
      main,
    ]
    const relay = spawn(relayArgv[0]!, relayArgv.slice(1), {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...withoutExtraCaCerts(process.env), ...mark },
    })
    relay.stderr?.on('data', (chunk: Buffer) => log(`network relay: ${chunk.toString().trim()}`))
    const network = new ServiceNetwork(relay)
    try {
      await waitForOwnNamespace(relay.pid!)
      const gateway = ['nsenter', ...owner, `--net=/proc/${relay.pid}/ns/net`, '--']
      if (userNamespace)
        await run(gateway[0]!, [
          ...gateway.slice(1),
          'ip',
          ...['link', 'add', 'gw0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(servicePid)],
        ])
      else
        await run('ip', [
          ...['link', 'add', 'eth0', 'netns', String(servicePid), 'type', 'veth'],
          ...['peer', 'name', 'gw0', 'netns', String(relay.pid)],
        ])
      const inGateway = async (...args: string[]): Promise<unknown> =>
        run(gateway[0]!, [...gateway.slice(1), 'ip', ...args])
      await inGateway('link', 'set', 'lo', 'up')
      await inGateway('addr', 'add', `${GATEWAY_SIDE}/30`, 'dev', 'gw0')
      await inGateway('link', 'set', 'gw0', 'up')
      for (const peer of peers) await inGateway('addr', 'add', `${insideAddress(peer.hostAddress)}/32`, 'dev', 'lo')
      await network.startRelay(peers)
      for (const port of ports) await network.listenOnHost(address, port)
    } catch (error) {
      await network.close()
      throw error instanceof DevenvError
        ? error
        : new DevenvError('SERVICE_FAILED', `cannot make the service's network: ${(error as Error).message}`)
    }
    return network
  }

  private async startRelay(peers: Peer[]): Promise<void> {
    const byInside = new Map(peers.map((peer) => [insideAddress(peer.hostAddress), peer]))
    const listening = new Promise<void>((resolve, reject) => {
      this.relay.once('exit', (code) => reject(new Error(`the network relay exited (${code})`)))
      this.relay.on('message', (message: RelayMessage, handle?: unknown) => {
        const socket = handle instanceof net.Socket ? handle : undefined
        if (message.type === 'listening') resolve()
        else if (message.type === 'accepted' && socket) {
          const peer = byInside.get(message.localAddress)
          const port = peer?.ports.find((entry) => entry.declared === message.localPort)
          if (!peer || !port) {
            socket.destroy()
            return
          }
          const upstream = net.connect({ host: peer.hostAddress, port: port.bound, noDelay: true })
          upstream.pause()
          pipeBoth(socket, upstream, this.sockets)
        } else if (message.type === 'connected' && socket) this.pending.get(message.id)?.(socket)
        else if (message.type === 'failed') this.pending.get(message.id)?.(new Error(message.message))
      })
    })
    const ports = [...new Set(peers.flatMap((peer) => peer.ports.map((port) => port.declared)))]
    this.relay.send({ type: 'listen', ports })
    await listening
  }

  private connectInside(port: number): Promise<net.Socket> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, (result) => {
        this.pending.delete(id)
        if (result instanceof Error) reject(result)
        else resolve(result)
      })
      this.relay.send({ type: 'connect', id, host: SERVICE_SIDE, port })
    })
  }

  private async listenOnHost(address: string, port: { declared: number; bound: number }): Promise<void> {
    const server = net.createServer({ pauseOnConnect: true, noDelay: true }, (client) => {
      this.sockets.add(client)
      this.connectInside(port.declared).then(
        (inside) => pipeBoth(client, inside, this.sockets),
        () => client.destroy(),
      )
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host: address, port: port.bound }, () => resolve())
    })
    this.servers.push(server)
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    await Promise.all(this.servers.map((server) => new Promise((resolve) => server.close(resolve))))
    if (this.relay.exitCode === null && this.relay.signalCode === null) {
      const exited = new Promise((resolve) => this.relay.once('exit', resolve))
      this.relay.kill('SIGTERM')
      await exited
    }
  }
}
