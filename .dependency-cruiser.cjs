/**
 * The layers of src/, lowest first, and the rules `npm test` holds them to (docs/design.md draws them).
 * A module may import from its own layer's peers only where listed, and from any layer below;
 * from another module it imports only that module's public face, its index.ts.
 */
const LAYERS = [
  ['util'],
  ['state'],
  ['names'],
  ['envfile', 'tls'],
  ['spec'],
  ['boxes'],
  ['hosts', 'integrity', 'watch', 'templates', 'images'],
  ['runtime'],
  ['snapshots'],
  ['exporting'],
  ['engine'],
  ['cli'],
  ['commands'],
]

const above = (index) => LAYERS.slice(index + 1).flat()

const layerRules = LAYERS.flatMap((modules, index) =>
  above(index).length === 0
    ? []
    : [
        {
          name: `layer-${modules.join('-')}`,
          comment: `${modules.join(', ')} may not import from a layer above it (${above(index).join(', ')})`,
          severity: 'error',
          from: { path: `^src/(${modules.join('|')})/` },
          to: { path: `^src/(${above(index).join('|')})/` },
        },
      ],
)

// Modules of one layer stay apart, except where one is built on the other.
const peerRules = [
  { name: 'peers-features', from: { path: '^src/(hosts|integrity|watch|templates|images)/' }, to: { path: '^src/(hosts|integrity|watch|templates|images)/', pathNot: '^src/$1/' } },
  { name: 'peers-envfile-tls', from: { path: '^src/(envfile|tls)/' }, to: { path: '^src/(envfile|tls)/', pathNot: '^src/$1/' } },
].map((rule) => ({ severity: 'error', comment: 'features of one layer do not depend on each other', ...rule }))

module.exports = {
  forbidden: [
    ...layerRules,
    ...peerRules,
    {
      name: 'errors-is-the-base',
      comment: 'errors.ts imports nothing of devenv',
      severity: 'error',
      from: { path: '^src/errors\\.ts$' },
      to: { path: '^src/' },
    },
    {
      name: 'public-face',
      comment: "another module is reached through its index.ts (util's small helpers and errors.ts are imported directly)",
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      to: { path: '^src/[^/]+/', pathNot: ['^src/$1/', '^src/util/', '(^|/)index\\.ts$'] },
    },
    {
      name: 'box-insides',
      comment: "a box's folder is its own: another box or the box store reaches it through its index.ts",
      severity: 'error',
      from: { path: '^src/boxes/([^/]+)/' },
      to: { path: '^src/boxes/[^/]+/', pathNot: ['^src/boxes/$1/', '/index\\.ts$'] },
    },
    {
      name: 'provider-insides',
      comment: 'a provider is reached through runtime/index.ts only, never by another provider',
      severity: 'error',
      from: { path: '^src/runtime/([^/]+)/' },
      to: { path: '^src/runtime/[^/]+/', pathNot: ['^src/runtime/$1/'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'no file depends on itself through others',
      from: { path: '^src/' },
      to: { circular: true, dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
}
