#!/usr/bin/env node
/**
 * The only part of devenv that runs as root: `sudo node elevated-write.js <request.json>`.
 * It applies one saved hosts change (a project's block in or out) and nothing else.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { changeHostsFile, type HostsChange } from './change.js'

function parseRequest(text: string, from: string): HostsChange {
  const request = JSON.parse(text) as Partial<HostsChange>
  const valid =
    typeof request.file === 'string' &&
    path.isAbsolute(request.file) &&
    typeof request.owner?.project === 'string' &&
    typeof request.owner?.root === 'string' &&
    (request.entries === null ||
      (Array.isArray(request.entries) &&
        request.entries.every(
          (entry) =>
            typeof entry?.address === 'string' &&
            Array.isArray(entry.hostnames) &&
            entry.hostnames.every((name) => typeof name === 'string'),
        )))
  if (
    request.running !== undefined &&
    !(Array.isArray(request.running) && request.running.every((root) => typeof root === 'string'))
  )
    throw new Error(`${from} is not a devenv hosts change request`)
  if (!valid) throw new Error(`${from} is not a devenv hosts change request`)
  return request as HostsChange
}

async function main(): Promise<void> {
  const from = process.argv[2]
  if (!from) throw new Error('usage: elevated-write.js <request.json>')
  const change = parseRequest(readFileSync(from, 'utf8'), from)
  const outcome = await changeHostsFile(change)
  if (outcome.status === 'denied') throw new Error(`cannot write ${change.file}: ${outcome.reason}`)
  const what = change.entries ? 'updated' : 'removed'
  process.stderr.write(
    outcome.status === 'unchanged'
      ? `${change.file} already up to date\n`
      : `${change.file}: devenv block of ${change.owner.project} ${what}\n`,
  )
}

main().catch((error: unknown) => {
  process.stderr.write(`devenv hosts helper: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
})
