import { readFileSync } from 'node:fs'
import path from 'node:path'
import { DevenvError } from '../../errors.js'

export interface ImageUser {
  uid: number
  gid: number
  home: string
}

function table(rootfs: string, file: string): string[][] {
  try {
    return readFileSync(path.join(rootfs, 'etc', file), 'utf8')
      .split('\n')
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => line.split(':'))
  } catch {
    return []
  }
}

/**
 * The image config's User (`name`, `uid`, `name:group`, `uid:gid`) as numbers, looked up in the
 * image's own /etc/passwd and /etc/group, as a container engine does.
 */
export function resolveImageUser(rootfs: string, given: string | undefined, image: string): ImageUser {
  if (!given) return { uid: 0, gid: 0, home: '/root' }
  const [userPart, groupPart] = given.split(':') as [string, string | undefined]
  const passwd = table(rootfs, 'passwd')
  const entry = /^\d+$/.test(userPart)
    ? passwd.find((fields) => fields[2] === userPart)
    : passwd.find((fields) => fields[0] === userPart)
  if (!entry && !/^\d+$/.test(userPart))
    throw new DevenvError('RUNTIME', `image ${image} runs as user "${userPart}", which its /etc/passwd does not have`)
  const uid = entry ? Number(entry[2]) : Number(userPart)
  let gid = entry ? Number(entry[3]) : uid
  if (groupPart) {
    const group = /^\d+$/.test(groupPart) ? undefined : table(rootfs, 'group').find((fields) => fields[0] === groupPart)
    if (!group && !/^\d+$/.test(groupPart))
      throw new DevenvError(
        'RUNTIME',
        `image ${image} runs as group "${groupPart}", which its /etc/group does not have`,
      )
    gid = group ? Number(group[2]) : Number(groupPart)
  }
  return { uid, gid, home: entry?.[5] || '/' }
}

/** Splits a command line into words the way a shell would for plain words and quotes (no expansion). */
export function shellWords(line: string): string[] {
  const words: string[] = []
  let current = ''
  let quote: '"' | "'" | undefined
  let started = false
  for (let index = 0; index < line.length; index++) {
    const char = line[index]!
    if (quote) {
      if (char === quote) quote = undefined
      else if (char === '\\' && quote === '"' && index + 1 < line.length) current += line[++index]
      else current += char
    } else if (char === '"' || char === "'") {
      quote = char
      started = true
    } else if (char === '\\' && index + 1 < line.length) {
      current += line[++index]
      started = true
    } else if (/\s/.test(char)) {
      if (started) words.push(current)
      current = ''
      started = false
    } else {
      current += char
      started = true
    }
  }
  if (quote) throw new DevenvError('ENVFILE_INVALID', `unterminated ${quote} quote in command: ${line}`)
  if (started) words.push(current)
  return words
}
