import net from 'node:net'
import type { ProbeResult } from '../driver.js'

/**
 * Ready when the server greets (220) and says goodbye (221) to a QUIT: an FTP-level answer, and a
 * polite one. A bare TCP connect that hangs up under the greeting makes ftp-srv log a client
 * error (EPIPE, ECONNRESET) on every health check.
 */
export function ftpProbe(address: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const where = `ftp://${address}:${port}`
    const socket = net.connect({ host: address, port })
    let received = ''
    let greeted = false
    const finish = (result: ProbeResult): void => {
      clearTimeout(timer)
      socket.removeAllListeners('data')
      socket.on('error', () => undefined)
      socket.end()
      resolve(result)
    }
    const timer = setTimeout(() => {
      finish({ ok: false, reason: `${where}: no ${greeted ? 'answer to QUIT' : 'greeting'} within ${timeoutMs} ms` })
      socket.destroy()
    }, timeoutMs)
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      received += chunk
      if (received.length > 4096) return finish({ ok: false, reason: `${where}: an unexpectedly long reply` })
      // a reply's last line is "NNN text"; the lines before it of a multi-line reply are "NNN-text"
      const lines = received.split('\r\n')
      for (const line of lines.slice(0, -1)) {
        const code = /^(\d{3}) /.exec(line)?.[1]
        if (!code) continue
        if (!greeted) {
          if (code !== '220') return finish({ ok: false, reason: `${where}: greeted with "${line.slice(0, 80)}"` })
          greeted = true
          socket.write('QUIT\r\n')
        } else {
          return finish(code === '221' ? { ok: true } : { ok: false, reason: `${where}: QUIT answered with "${line.slice(0, 80)}"` })
        }
      }
      received = lines.at(-1) ?? ''
    })
    socket.on('error', (error) => finish({ ok: false, reason: `${where}: ${error.message}` }))
    socket.on('close', () => finish({ ok: false, reason: `${where}: closed the connection ${greeted ? 'before answering QUIT' : 'without a greeting'}` }))
  })
}
