/** The public face of boxes/postgres: what other modules may use of it. */
export { dump, importFile, reset, resolveDatabase, seed } from './operations.js'
