// Bundles the CLI's entry (dist/cli/main.js and what it imports, @oclif/core left outside) and the
// supervisor's (scripts/bundle-entries/supervisor.mjs) into dist/bundle/: Node 20 has no compile
// cache, and loading ~170 small ES modules (yaml alone is 72) took longer than `status` itself.
// bin/devenv and the supervisor's spawn run a bundle while it is newer than the tsc output, else
// the tsc output itself. Code that finds files next to itself (new URL(…, import.meta.url))
// is given the URL of its own file in dist/, so every such path stays what it is unbundled.
import { build } from 'esbuild'
import { readFileSync, rmSync } from 'node:fs'
import path from 'node:path'

const root = process.cwd()
const dist = path.join(root, 'dist')
const outdir = path.join(dist, 'bundle')
const DIST_ROOT = '__devenvDistRoot'

const ownUrls = {
  name: 'own-import-meta-url',
  setup(esbuild) {
    esbuild.onLoad({ filter: /\.js$/ }, (args) => {
      if (!args.path.startsWith(`${dist}${path.sep}`)) return undefined
      const text = readFileSync(args.path, 'utf8')
      if (!text.includes('import.meta.url')) return undefined
      const own = JSON.stringify(path.relative(dist, args.path).split(path.sep).join('/'))
      return {
        contents: text.replaceAll('import.meta.url', `new URL(${own}, globalThis.${DIST_ROOT}).href`),
        loader: 'js',
      }
    })
  },
}

rmSync(outdir, { recursive: true, force: true })
await build({
  entryPoints: {
    main: path.join(dist, 'cli', 'main.js'),
    'supervisor-main': path.join(root, 'scripts', 'bundle-entries', 'supervisor.mjs'),
  },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // The Docker engine's client (and its native ssh parts) loads from node_modules when the docker provider first talks to an engine.
  external: ['@oclif/core', 'dockerode', 'tar-stream'],
  // CommonJS packages inside an ES bundle call require(); and dist/ is where every chunk's own paths start.
  banner: {
    js: [
      "import { createRequire as __devenvCreateRequire } from 'node:module';",
      'const require = __devenvCreateRequire(import.meta.url);',
      `globalThis.${DIST_ROOT} ??= new URL('../', import.meta.url).href;`,
    ].join(' '),
  },
  sourcemap: 'linked',
  plugins: [ownUrls],
  logLevel: 'warning',
})
