// Writes oclif.manifest.json so the CLI starts without importing every command module.
import { Config } from '@oclif/core'
import { rmSync, writeFileSync } from 'node:fs'

// oclif would read a stale manifest back instead of scanning the commands.
rmSync('oclif.manifest.json', { force: true })
const config = await Config.load(process.cwd())
const root = config.getPluginsList().find((plugin) => plugin.isRoot)
writeFileSync('oclif.manifest.json', `${JSON.stringify(root.manifest)}\n`)
