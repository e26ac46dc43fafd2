/**
 * The words of a simple command line, as a shell would split them (quotes and backslashes), or
 * undefined when it needs a shell (pipes, &&, ;, redirections, variables): an image may have no shell.
 */
export function commandWords(command: string): string[] | undefined {
  const words: string[] = []
  let word: string | undefined
  let quote: "'" | '"' | undefined
  for (let index = 0; index < command.length; index++) {
    const char = command[index]!
    if (quote === "'") {
      if (char === "'") quote = undefined
      else word += char
      continue
    }
    if (char === '\\') {
      word = (word ?? '') + (command[++index] ?? '')
      continue
    }
    if (quote === '"') {
      if (char === '"') quote = undefined
      else if ('$`'.includes(char)) return undefined
      else word += char
      continue
    }
    if (char === "'" || char === '"') {
      quote = char
      word ??= ''
    } else if (/\s/.test(char)) {
      if (word !== undefined) words.push(word)
      word = undefined
    } else if (';&|<>()$`*?[]{}~#\n'.includes(char)) return undefined
    else word = (word ?? '') + char
  }
  if (quote) return undefined
  if (word !== undefined) words.push(word)
  return words.length ? words : undefined
}

/** How a container runs a command line: its words when simple, else through the image's shell. */
export function containerCommand(command: string): string[] {
  return commandWords(command) ?? ['/bin/sh', '-c', command]
}
