/**
 * The databases devenv keeps beside each of the user's, all named `<database>__<role>_<suffix>`:
 *   __seed_<hash>      the seeded template (IS_TEMPLATE, no connections), the source of every reset
 *   __spare_<hash>     a ready clone of that template (no connections), swapped in by the next reset
 *   __discard_<id>     a replaced database, renamed out of the way, dropped in the background
 *   __incoming         a clone being built when no spare was ready
 *   __snap_<id>        a snapshot's copy (IS_TEMPLATE, no connections): see snapshot-copies.ts
 *   __spare_<id>       a verified, ready clone of the snapshot copy restored or saved last
 *   __prep_<id>        that clone while it is being made and verified
 * PostgreSQL names hold 63 bytes, so the database's part is cut to 36 bytes (on a character boundary).
 */
const DATABASE_PART_BYTES = 36

function databasePart(database: string): string {
  let part = ''
  let bytes = 0
  for (const char of database) {
    const size = Buffer.byteLength(char)
    if (bytes + size > DATABASE_PART_BYTES) break
    part += char
    bytes += size
  }
  return part
}

export function templatePrefix(database: string): string {
  return `${databasePart(database)}__seed_`
}

/** The seeded template's name: the database's name and a checksum of its seed files. */
export function templateName(database: string, seedHash: string): string {
  return `${templatePrefix(database)}${seedHash.slice(0, 12)}`
}

export function sparePrefix(database: string): string {
  return `${databasePart(database)}__spare_`
}

/** The spare cloned from `template`: it carries the template's checksum, so a stale spare is never used. */
export function spareName(database: string, template: string): string {
  return `${sparePrefix(database)}${template.slice(template.lastIndexOf('_') + 1)}`
}

export function discardPrefix(database: string): string {
  return `${databasePart(database)}__discard_`
}

export function discardName(database: string): string {
  return `${discardPrefix(database)}${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`
}

export function incomingName(database: string): string {
  return `${databasePart(database)}__incoming`
}

export function snapshotCopyPrefix(database: string): string {
  return `${databasePart(database)}__snap_`
}

/** The copy of `database` kept for the snapshot operation `id` (ids are [0-9a-z], so spareName() finds it again). */
export function snapshotCopyName(database: string, id: string): string {
  return `${snapshotCopyPrefix(database)}${id}`
}

export function preparingPrefix(database: string): string {
  return `${databasePart(database)}__prep_`
}

/** A spare of a snapshot copy while it is made and verified; renamed to spareName() once it matches. */
export function preparingName(database: string, copy: string): string {
  return `${preparingPrefix(database)}${copy.slice(copy.lastIndexOf('_') + 1)}`
}
