import path from 'node:path'
import type pg from 'pg'
import { DevenvError } from '../../errors.js'
import { scanTree, summarise } from '../../util/tree.js'
import { clusterDir } from './layout.js'

/** The folder of a database's files. Copies and spares live in the default tablespace. */
export async function databaseFolder(admin: pg.Client, dataDir: string, name: string): Promise<string> {
  const { rows } = await admin.query<{ oid: string; spcname: string }>('SELECT d.oid::text AS oid, t.spcname FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace WHERE d.datname = $1', [name])
  const row = rows[0]
  if (!row) throw new DevenvError('SNAPSHOT', `database ${name} does not exist in the cluster`)
  if (row.spcname !== 'pg_default') throw new DevenvError('SNAPSHOT', `database ${name} is in tablespace ${row.spcname}; snapshots need the default tablespace`)
  return path.join(clusterDir(dataDir), 'base', row.oid)
}

/**
 * The folders of the databases whose names start with one of `prefixes` (but for `except`), read
 * in one statement, so from one view of the catalog: the upkeep may drop any of them a moment
 * later, and a folder that is gone by then has simply nothing left to leave out. Looking each
 * name up after listing them all was issue 20: a name dropped in between was "missing".
 */
export async function foldersStartingWith(admin: pg.Client, dataDir: string, prefixes: string[], except: string[]): Promise<string[]> {
  const { rows } = await admin.query<{ oid: string }>(
    `SELECT d.oid::text AS oid FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace
      WHERE t.spcname = 'pg_default' AND NOT d.datname = ANY($2::text[])
        AND EXISTS (SELECT 1 FROM unnest($1::text[]) AS prefix WHERE starts_with(d.datname, prefix))
      ORDER BY d.oid`,
    [prefixes, except],
  )
  return rows.map((row) => path.join(clusterDir(dataDir), 'base', row.oid))
}

export interface FolderSummary {
  size: number
  files: number
  checksum: string
}

/**
 * The relation cache's file is not data: PostgreSQL deletes it from every database at each
 * start and writes it again on the first connection, so a copy's checksum must not count it.
 */
const NOT_DATA = new Set(['pg_internal.init'])

/** Size, file count and tree checksum of a database folder's data files. */
export async function treeSummary(folder: string): Promise<FolderSummary> {
  const { size, files, checksum } = summarise(await scanTree(folder, NOT_DATA))
  return { size, files, checksum }
}

/** Size, file count and tree checksum of a database's folder. */
export async function folderSummary(admin: pg.Client, dataDir: string, name: string): Promise<FolderSummary> {
  return treeSummary(await databaseFolder(admin, dataDir, name))
}
