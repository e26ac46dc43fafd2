// Writes oclif.manifest.json so the CLI starts without importing every command module.
import { Config } from '@oclif/core'
import { writeFileSync } from 'node:fs'

const config = await Config.load(process.cwd())
const root = config.getPluginsList().find((plugin) => plugin.isRoot)
writeFileSync('oclif.manifest.json', `${JSON.stringify(root.manifest)}\n`)
