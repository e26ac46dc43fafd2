import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { DevenvError } from '../errors.js'
import { SCHEMA_PATH } from '../envfile/index.js'
import { didYouMean } from '../util/suggest.js'
import { templateFiles } from './files.js'

/** The schema's pattern for `name:`; checked before writing so init never writes an invalid envfile. */
const PROJECT_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/

export const TEMPLATES_DIR = fileURLToPath(new URL('../../templates', import.meta.url))

export interface TemplateInfo {
  name: string
  description: string
}

export function listTemplates(): TemplateInfo[] {
  return readdirSync(TEMPLATES_DIR)
    .filter((name) => statSync(path.join(TEMPLATES_DIR, name)).isDirectory())
    .sort()
    .map((name) => ({ name, description: describe(name) }))
}

function describe(name: string): string {
  const envfile = readFileSync(path.join(TEMPLATES_DIR, name, 'devenv.yaml'), 'utf8')
  // The first comment paragraph, whole: a sentence may go on over several lines.
  const lines = envfile.split('\n')
  const start = lines.findIndex((line) => line.startsWith('# ') && !line.includes('yaml-language-server'))
  if (start < 0) return ''
  const paragraph: string[] = []
  for (const line of lines.slice(start)) {
    if (!line.startsWith('# ')) break
    paragraph.push(line.slice(2).trim())
  }
  return paragraph.join(' ')
}

export interface InitResult {
  template: string
  folder: string
  envfile: string
  files: string[]
}

/** Writes a template into `folder`; refuses to overwrite any file unless `force`. */
export function initFromTemplate(folder: string, template: string, options: { force?: boolean; name?: string } = {}): InitResult {
  const names = listTemplates().map((info) => info.name)
  if (!names.includes(template)) {
    throw new DevenvError('USAGE', `unknown template "${template}"${didYouMean(template, names)}`, { hint: `Templates: ${names.join(', ')}.` })
  }
  if (options.name !== undefined && !PROJECT_NAME.test(options.name)) {
    throw new DevenvError('USAGE', `project name "${options.name}" is not a DNS label`, {
      hint: 'Use lowercase letters, digits and "-", at most 63 characters, not starting or ending with "-".',
    })
  }
  const source = path.join(TEMPLATES_DIR, template)
  const files = templateFiles(source)
  const clashes = files.filter((file) => existsSync(path.join(folder, file)))
  if (clashes.length > 0 && !options.force) {
    throw new DevenvError('EXISTS', `${clashes.includes('devenv.yaml') ? 'devenv.yaml' : clashes[0]} already exists in ${folder}`, {
      details: clashes.length > 1 ? [`would also overwrite: ${clashes.join(', ')}`] : [],
      hint: 'Use --force to overwrite, or run init in an empty folder.',
    })
  }
  for (const file of files) {
    mkdirSync(path.dirname(path.join(folder, file)), { recursive: true })
    copyFileSync(path.join(source, file), path.join(folder, file))
  }
  const envfile = path.join(folder, 'devenv.yaml')
  const name = options.name ?? projectName(folder)
  const schema = path.relative(folder, SCHEMA_PATH) || SCHEMA_PATH
  writeFileSync(envfile, personalise(readFileSync(envfile, 'utf8'), name, schema))
  ensureGitignored(folder, '.devenv/')
  return { template, folder, envfile, files }
}

/**
 * A template is a working envfile as it stands (`devenv up -f templates/webapp`); in a project it
 * gets the project's name and a schema path that is right from there.
 */
function personalise(envfile: string, name: string, schema: string): string {
  const lines = envfile.replace(/^# yaml-language-server: \$schema=.*$/m, `# yaml-language-server: $schema=${schema}`).split('\n')
  const firstSetting = lines.findIndex((line) => line.trim() !== '' && !line.startsWith('#'))
  lines.splice(firstSetting, 0, `name: ${name}`)
  return lines.join('\n')
}

function projectName(folder: string): string {
  return path.basename(path.resolve(folder)).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63) || 'devenv'
}

function ensureGitignored(folder: string, entry: string): void {
  const file = path.join(folder, '.gitignore')
  const current = existsSync(file) ? readFileSync(file, 'utf8') : ''
  if (current.split(/\r?\n/).some((line) => line.trim() === entry || line.trim() === entry.replace(/\/$/, ''))) return
  const separator = current === '' || current.endsWith('\n') ? '' : '\n'
  writeFileSync(file, `${current}${separator}${entry}\n`)
}
