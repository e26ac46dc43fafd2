/** Words that open a compound command; `exec if …` would look for a program named "if". */
const RESERVED = new Set(['if', 'then', 'else', 'elif', 'fi', 'case', 'esac', 'for', 'while', 'until', 'do', 'done', 'in', '{', '}', '!', '[[', 'function', 'select', 'time'])
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/

/**
 * True when the shell runs `command` as one program that `exec` may replace the shell with:
 * no list, pipe, background, subshell or group outside quotes, and a program (not a keyword or
 * an assignment) first. Anything doubtful counts as compound: the shell then runs it as written.
 */
export function isSimpleCommand(command: string): boolean {
  const firstWord = /^\s*(\S+)/.exec(command)?.[1]
  if (firstWord === undefined || RESERVED.has(firstWord) || ASSIGNMENT.test(firstWord)) return false
  let quote: "'" | '"' | undefined
  for (let index = 0; index < command.length; index++) {
    const char = command[index]!
    if (quote === "'") {
      if (char === "'") quote = undefined
      continue
    }
    if (char === '\\') {
      index++
      continue
    }
    if (quote === '"') {
      if (char === '"') quote = undefined
      continue
    }
    if (char === "'" || char === '"') quote = char
    else if (';&|\n()`{}#'.includes(char)) return false
  }
  return true
}
