// Parses boxes/<name>/box.yaml into dist/envfile/box-catalog.json, each with its text, so the
// CLI does not parse seven YAML files at every start (src/envfile/box-catalog.ts compares the text).
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { parse } from 'yaml'

const catalog = {}
for (const kind of readdirSync('boxes', { withFileTypes: true })) {
  if (!kind.isDirectory() || !existsSync(`boxes/${kind.name}/box.yaml`)) continue
  const text = readFileSync(`boxes/${kind.name}/box.yaml`, 'utf8')
  catalog[kind.name] = { text, box: parse(text) }
}
writeFileSync('dist/envfile/box-catalog.json', `${JSON.stringify(catalog)}\n`)
