// Bundles the CLI's entry (dist/cli/main.js and what it imports, @oclif/core left outside), the
// supervisor's (scripts/bundle-entries/supervisor.mjs) and the Node programs of the built-in boxes
// (BOX_PROGRAMS) into dist/bundle/: Node 20 has no compile cache, and loading ~170 small ES
// modules (yaml alone is 72) took longer than `status` itself; the ftp box loaded ~300 files.
// bin/devenv and the supervisor's spawn run a bundle while it is newer than the tsc output, else
// the tsc output itself. Code that finds files next to itself (new URL(…, import.meta.url))
// is given the URL of its own file in dist/, so every such path stays what it is unbundled.
import { build } from 'esbuild'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'

const root = process.cwd()
const dist = path.join(root, 'dist')
const outdir = path.join(dist, 'bundle')
const DIST_ROOT = '__devenvDistRoot'
/** Box programs the supervisor spawns; src/boxes/node-program.ts names each bundle the same way. */
const BOX_PROGRAMS = ['boxes/lb/main.js', 'boxes/mail/main.js', 'boxes/ftp/main.js', 'boxes/static/main.js']
const bundleName = (distRelative) => distRelative.replace(/\.js$/, '').replaceAll('/', '-')

// pg finds out whether it runs in a Cloudflare Worker by constructing a fetch Response, which on
// Node 20 loads undici: ~80 ms of the supervisor's CPU on every `up`. devenv runs only on Node.
const pgOnNode = {
  name: 'pg-on-node',
  setup(esbuild) {
    esbuild.onLoad({ filter: /[\\/]pg[\\/]lib[\\/]stream\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8')
      const patched = text.replace('if (isCloudflareRuntime()) {', 'if (false) {')
      if (patched === text)
        throw new Error(`${args.path}: pg's runtime check has changed; update the pg-on-node plugin`)
      return { contents: patched, loader: 'js' }
    })
  },
}

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

// Modules of these folders only define things (no import-time effects): a bundle keeps of them only
// what it uses. The supervisor reaches snapshots/index.js for its recovery alone; without this it
// would also evaluate snapshots/project.js and, through it, the envfile loader and yaml (~35 ms).
const PURE_FOLDERS = ['snapshots', 'envfile'].map((folder) => `${path.join(dist, folder)}${path.sep}`)
const pureModules = {
  name: 'pure-modules',
  setup(esbuild) {
    esbuild.onResolve({ filter: /^\.\.?\// }, (args) => {
      const resolved = path.resolve(args.resolveDir, args.path)
      if (!PURE_FOLDERS.some((folder) => resolved.startsWith(folder))) return undefined
      return { path: resolved, sideEffects: false }
    })
  },
}

rmSync(outdir, { recursive: true, force: true })
await build({
  entryPoints: {
    main: path.join(dist, 'cli', 'main.js'),
    'supervisor-main': path.join(root, 'scripts', 'bundle-entries', 'supervisor.mjs'),
    ...Object.fromEntries(BOX_PROGRAMS.map((program) => [bundleName(program), path.join(dist, program)])),
  },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // The Docker engine's client (and its native ssh parts) loads from node_modules when the docker provider first talks to an engine.
  // bunyan (ftp-srv's logger) tries dtrace-provider's native bindings and goes on without them.
  external: ['@oclif/core', 'dockerode', 'tar-stream', 'dtrace-provider'],
  // CommonJS packages inside an ES bundle call require(); and dist/ is where every chunk's own paths start.
  banner: {
    js: [
      "import { createRequire as __devenvCreateRequire } from 'node:module';",
      'const require = __devenvCreateRequire(import.meta.url);',
      `globalThis.${DIST_ROOT} ??= new URL('../', import.meta.url).href;`,
    ].join(' '),
  },
  sourcemap: 'linked',
  plugins: [pureModules, ownUrls, pgOnNode],
  logLevel: 'warning',
})

// The node box's own pg (src/boxes/node/driver.ts puts its folder on the app's NODE_PATH before
// devenv's node_modules): one file, built for Node. pg's Cloudflare probe loads undici as the app
// requires pg, ~30 ms of CPU per app server start, and its ~40 files take ~15 ms more.
const pgPackage = JSON.parse(readFileSync(path.join(root, 'node_modules', 'pg', 'package.json'), 'utf8'))
const nodeBoxModules = path.join(dist, 'boxes', 'node', 'modules')
rmSync(nodeBoxModules, { recursive: true, force: true })
await build({
  entryPoints: [path.join(root, 'node_modules', 'pg', 'lib', 'index.js')],
  outfile: path.join(nodeBoxModules, 'pg', 'index.js'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // pg requires pg-native only for `pg.native`, from the app's own node_modules as before.
  external: ['pg-native', 'pg-cloudflare'],
  plugins: [pgOnNode],
  logLevel: 'warning',
})
writeFileSync(
  path.join(nodeBoxModules, 'pg', 'package.json'),
  `${JSON.stringify({ name: 'pg', version: pgPackage.version, main: 'index.js', description: `pg ${pgPackage.version}, bundled for devenv's node box` }, null, 2)}\n`,
)
