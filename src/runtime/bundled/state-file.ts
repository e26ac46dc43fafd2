import { readFileSync } from 'node:fs'
import { ProjectPaths } from '../../state/index.js'

/** state.json is there but is not JSON (a full disk, a careless edit): a state the runtime must not take for "nothing runs". */
export function stateFileUnreadable(root: string): boolean {
  let text: string
  try {
    text = readFileSync(new ProjectPaths(root).state, 'utf8')
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ENOENT'
  }
  try {
    JSON.parse(text)
    return false
  } catch {
    return true
  }
}
