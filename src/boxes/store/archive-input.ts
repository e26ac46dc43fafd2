import { createReadStream, promises as fs } from 'node:fs'
import { createGunzip } from 'node:zlib'
import { DevenvError, isDevenvError } from '../../errors.js'

/** Nothing unpacks to more than this many times its gzip size but a bomb (gzip's own limit is about 1032:1). */
export const MAX_GZIP_RATIO = 200
/** Tar's own bytes around the data: a header (and maybe a pax header) and padding per entry, end blocks and record padding. */
const TAR_BYTES_PER_ENTRY = 2048
const TAR_SLACK_BYTES = 20 * 1024

export function refused(file: string, reason: string, hint = 'Nothing was written. Import only archives made by devenv box export.'): DevenvError {
  return new DevenvError('ARCHIVE', `refused ${file}: ${reason}`, { hint })
}

export function truncated(file: string, how: string): DevenvError {
  return new DevenvError('ARCHIVE', `${file} is truncated: ${how}`, { hint: 'Nothing was written. Copy the archive again (devenv box export writes it whole, or not at all).' })
}

/** The archive's bytes as tar (gunzipped when it is gzip), never more than `budget` allows. */
export interface ArchiveInput {
  chunks: AsyncIterable<Buffer>
  gzip: boolean
  /** Size of the file as stored. */
  fileBytes: number
  /** The most tar bytes it may unpack to; lowered once the manifest says what the box holds. */
  budget: { bytes: number; why: string }
}

async function isGzip(file: string): Promise<boolean> {
  const handle = await fs.open(file, 'r')
  try {
    const magic = Buffer.alloc(2)
    const { bytesRead } = await handle.read(magic, 0, 2, 0)
    return bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b
  } finally {
    await handle.close()
  }
}

export async function openArchive(file: string, manifestBudget: number): Promise<ArchiveInput> {
  const gzip = await isGzip(file)
  const fileBytes = (await fs.stat(file)).size
  const budget = { bytes: manifestBudget + TAR_SLACK_BYTES, why: 'the largest manifest allowed' }
  const raw = createReadStream(file, { highWaterMark: 1 << 20 })
  const stream = gzip ? raw.pipe(createGunzip()) : raw
  if (gzip) raw.on('error', (error) => stream.destroy(error))
  return { chunks: bounded(stream, file, gzip, budget), gzip, fileBytes, budget }
}

/**
 * Refuses, from the manifest alone and before any data is unpacked, a box larger than the file
 * could hold: more than the file itself for a plain tar, more than MAX_GZIP_RATIO times it for
 * gzip. Then bounds what may still be unpacked to what the manifest declares.
 */
export function checkDeclaredSize(file: string, input: ArchiveInput, declaredBytes: number, entries: number, consumed: number): void {
  const most = input.gzip ? input.fileBytes * MAX_GZIP_RATIO : input.fileBytes
  if (declaredBytes > most) {
    throw input.gzip
      ? refused(file, `its manifest declares ${declaredBytes} bytes of data in ${input.fileBytes} bytes of gzip, more than ${MAX_GZIP_RATIO} times its size: a decompression bomb, or a damaged manifest`)
      : refused(file, `its manifest declares ${declaredBytes} bytes of data, but the file holds only ${input.fileBytes}: it is truncated, or its manifest lies`)
  }
  input.budget.bytes = consumed + declaredBytes + entries * TAR_BYTES_PER_ENTRY + TAR_SLACK_BYTES
  input.budget.why = `the ${declaredBytes} bytes of data its manifest declares (and tar's own headers)`
}

async function* bounded(stream: AsyncIterable<Buffer> & { destroy(): void }, file: string, gzip: boolean, budget: ArchiveInput['budget']): AsyncGenerator<Buffer> {
  let total = 0
  try {
    for await (const piece of stream) {
      total += piece.length
      if (total > budget.bytes) throw refused(file, `it unpacks to more than ${budget.why}: a decompression bomb, or a damaged archive`)
      yield piece
    }
  } catch (error) {
    throw describeReadError(file, gzip, error)
  } finally {
    stream.destroy()
  }
}

/** zlib's and tar's words for a damaged file, said about the file. */
export function describeReadError(file: string, gzip: boolean, error: unknown): unknown {
  if (isDevenvError(error)) {
    if (error.message.startsWith('refused ') || error.message.startsWith(`${file} `)) return error
    const reason = error.message.replace(/^not a valid box archive: /, '')
    if (/ends (in|without)/.test(reason)) return truncated(file, gzip ? `the tar inside the gzip stream ${reason.replace(/^the archive /, '')}` : reason.replace(/^the archive/, 'it'))
    return refused(file, reason)
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  if (code === 'Z_BUF_ERROR') return truncated(file, 'its gzip stream ends before the archive does')
  if (code === 'Z_DATA_ERROR') return refused(file, `its gzip data is damaged (${(error as Error).message})`, 'Nothing was written. Copy the archive again.')
  return error
}
