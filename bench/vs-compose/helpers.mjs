// Helpers of bench/vs-compose.mjs: running commands, the readiness probes both stacks are judged by,
// and /proc accounting of a stack's processes.
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import http from 'node:http'
import pg from 'pg'

const CLK_TCK = 100 // Linux USER_HZ: /proc/<pid>/stat times are in 1/100 s
const PAGE_KIB = 4

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
export const now = () => performance.now()
export const log = (line) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`)

export function run(command, args, options = {}) {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 300_000, maxBuffer: 64 << 20, ...options }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr })
    })
  })
}
export async function must(command, args, options) {
  const result = await run(command, args, options)
  if (result.code !== 0)
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}:\n${result.stderr}${result.stdout}`)
  return result
}

// ---------------------------------------------------------------------------------------------
// probes shared by both sides

export async function usersCount(target) {
  const client = new pg.Client({ ...target, connectionTimeoutMillis: 1000 })
  client.on('error', () => {})
  try {
    await client.connect()
    const { rows } = await client.query('SELECT count(*)::int AS n FROM users')
    return rows[0].n
  } catch {
    return undefined
  } finally {
    await client.end().catch(() => {})
  }
}

export function httpGet(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const request = http.get({ host, port, path: '/', timeout: timeoutMs, agent: false }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk) => (body += chunk))
      response.on('end', () => resolve(response.statusCode === 200 ? body : undefined))
    })
    request.on('timeout', () => request.destroy())
    request.on('error', () => resolve(undefined))
  })
}

/** Polls every `everyMs` until `check` holds; the conditions only go from false to true while a stack starts. */
export async function until(check, what, deadlineMs = 180_000, everyMs = 50) {
  const started = now()
  while (!(await check())) {
    if (now() - started > deadlineMs) throw new Error(`${what}: not true after ${deadlineMs / 1000} s`)
    await sleep(everyMs)
  }
}

/**
 * Starts `command`, waits for it to exit and for every readiness condition; ms to the later of the
 * two. `pollWhileRunning` false: the command itself waits for health (devenv up), so the conditions
 * are checked once it exits, rather than spending the machine's two cores on polling it meanwhile.
 * Each condition is given the command's result ({ code, stdout, stderr }) once it has exited.
 */
export async function timedUntilReady(command, args, options, conditions, pollWhileRunning = true) {
  const started = now()
  let finished
  const exited = run(command, args, options).then((result) => {
    if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.code}:\n${result.stderr}`)
    finished = result
    return now()
  })
  let failure
  exited.catch((error) => (failure = error))
  if (!pollWhileRunning) await exited
  for (const [what, check] of conditions) {
    await until(async () => {
      if (failure) throw failure
      return check(finished)
    }, what)
  }
  const exitAt = await exited
  return Math.max(exitAt, now()) - started
}

// ---------------------------------------------------------------------------------------------
// /proc accounting

export function procStat(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // fields[0] is field 3: utime 14, stime 15, cutime 16, cstime 17 (reaped children), rss 24
    return {
      ppid: Number(fields[1]),
      ticks: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]),
      rssKib: Number(fields[21]) * PAGE_KIB,
      state: fields[0],
      comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
    }
  } catch {
    return undefined
  }
}

export function processTable() {
  const table = new Map()
  for (const entry of readdirSync('/proc'))
    if (/^\d+$/.test(entry)) {
      const info = procStat(entry)
      if (info && info.state !== 'Z') table.set(Number(entry), info)
    }
  return table
}

export function descendants(table, roots) {
  const children = new Map()
  for (const [pid, info] of table) children.set(info.ppid, [...(children.get(info.ppid) ?? []), pid])
  const found = new Set()
  const walk = (pid) => {
    if (found.has(pid)) return
    found.add(pid)
    for (const child of children.get(pid) ?? []) walk(child)
  }
  for (const root of roots) walk(root)
  return found
}

/** CPU (% of one core over the window) and summed RSS of the processes `pidsOf()` names, plus extra CPU ns (cgroups). */
export async function idleFigures({ settleS, idleS }, pidsOf, cgroupNs = () => 0) {
  await sleep(settleS * 1000)
  const before = new Map([...pidsOf(processTable())].map((pid) => [pid, procStat(pid)?.ticks ?? 0]))
  const nsBefore = cgroupNs()
  const started = now()
  await sleep(idleS * 1000)
  const table = processTable()
  const pids = pidsOf(table)
  const seconds = (now() - started) / 1000
  let ticks = 0
  let rssKib = 0
  for (const pid of pids) {
    const info = table.get(pid)
    if (!info) continue
    ticks += info.ticks - (before.get(pid) ?? 0)
    rssKib += info.rssKib
  }
  const cpuSeconds = ticks / CLK_TCK + (cgroupNs() - nsBefore) / 1e9
  return { cpuPercent: (cpuSeconds / seconds) * 100, rssMiB: rssKib / 1024, processes: pids.size }
}
