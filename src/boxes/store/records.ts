import path from 'node:path'
import type { BoxKind, BoxRef } from '../../envfile/index.js'
import { readJson } from '../../state/index.js'
import { machineHome } from '../../state/index.js'
import { isBuiltinBox } from '../../envfile/index.js'
import { BOX_FORMAT, type BoxRecord } from './record.js'
import { DEFAULT_TAG, isValidBoxName, isValidTag, type CommittedRef } from './refs.js'

/**
 * Where committed boxes live and how to read one, light enough for every command's envfile loading.
 * Layout: <machineHome>/boxes/<name>/<tag>/{box.json,data/}. Names starting with '.' are work in progress.
 */
export function storeRoot(): string {
  return path.join(machineHome(), 'boxes')
}

export function boxDir(ref: CommittedRef): string {
  return path.join(storeRoot(), ref.name, ref.tag)
}

export function readBoxRecord(ref: CommittedRef): BoxRecord | undefined {
  const record = readJson<BoxRecord>(path.join(boxDir(ref), 'box.json'))
  return record?.format === BOX_FORMAT && isBuiltinBox(record.kind) ? record : undefined
}

/** For the envfile loader: `box: NAME[:TAG]` → the committed box's base kind, when it is in the store. */
export function resolveCommittedBox(ref: BoxRef): BoxKind | undefined {
  const tag = ref.tag ?? DEFAULT_TAG
  if (!isValidBoxName(ref.name) || !isValidTag(tag)) return undefined
  return readBoxRecord({ name: ref.name, tag })?.kind
}
