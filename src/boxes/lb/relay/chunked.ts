/**
 * Finds where a chunked body ends (RFC 9112 §7.1) while its bytes are passed on unchanged: the
 * client decodes it, the balancer only needs to know when the response is over and that the
 * framing is sound.
 */
const enum State {
  Size,
  SizeSpace,
  Extension,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerStart,
  TrailerLine,
  TrailerLf,
  FinalLf,
  Done,
}

/** 2^48: far more than any body, and safe in a double. */
const MAX_SIZE_DIGITS = 12

export class ChunkedScanner {
  private state = State.Size
  private size = 0
  private digits = 0
  private remaining = 0

  get done(): boolean {
    return this.state === State.Done
  }

  /**
   * Reads `buffer` from `start`. Returns the index just past the body's last byte when the body
   * ends in this buffer, -1 when it goes on, or a string saying what is malformed.
   */
  scan(buffer: Buffer, start: number): number | string {
    let index = start
    const length = buffer.length
    while (index < length) {
      switch (this.state) {
        case State.Data: {
          const take = Math.min(this.remaining, length - index)
          index += take
          this.remaining -= take
          if (this.remaining === 0) this.state = State.DataCr
          continue
        }
        case State.Size: {
          const digit = hexValue(buffer[index]!)
          if (digit >= 0) {
            if (++this.digits > MAX_SIZE_DIGITS) return 'chunk size too large'
            this.size = this.size * 16 + digit
            break
          }
          if (this.digits === 0) return 'invalid chunk size'
          const byte = buffer[index]!
          if (byte === 0x0d) this.state = State.SizeLf
          else if (byte === 0x3b) this.state = State.Extension
          else if (byte === 0x20 || byte === 0x09) this.state = State.SizeSpace
          else return 'invalid chunk size'
          break
        }
        case State.SizeSpace: {
          const byte = buffer[index]!
          if (byte === 0x0d) this.state = State.SizeLf
          else if (byte === 0x3b) this.state = State.Extension
          else if (byte !== 0x20 && byte !== 0x09) return 'invalid chunk size line'
          break
        }
        case State.Extension: {
          const byte = buffer[index]!
          if (byte === 0x0d) this.state = State.SizeLf
          else if (byte === 0x0a || (byte < 0x20 && byte !== 0x09) || byte === 0x7f) return 'invalid chunk extension'
          break
        }
        case State.SizeLf:
          if (buffer[index] !== 0x0a) return 'chunk size line without LF'
          if (this.size === 0) this.state = State.TrailerStart
          else {
            this.remaining = this.size
            this.state = State.Data
          }
          this.size = 0
          this.digits = 0
          break
        case State.DataCr:
          if (buffer[index] !== 0x0d) return 'chunk data longer than its size'
          this.state = State.DataLf
          break
        case State.DataLf:
          if (buffer[index] !== 0x0a) return 'chunk data without CRLF'
          this.state = State.Size
          break
        case State.TrailerStart:
          this.state = buffer[index] === 0x0d ? State.FinalLf : State.TrailerLine
          if (this.state === State.TrailerLine && !isVisibleOrSpace(buffer[index]!)) return 'invalid trailer'
          break
        case State.TrailerLine: {
          const byte = buffer[index]!
          if (byte === 0x0d) this.state = State.TrailerLf
          else if (!isVisibleOrSpace(byte)) return 'invalid trailer'
          break
        }
        case State.TrailerLf:
          if (buffer[index] !== 0x0a) return 'trailer line without LF'
          this.state = State.TrailerStart
          break
        case State.FinalLf:
          if (buffer[index] !== 0x0a) return 'chunked body without final CRLF'
          this.state = State.Done
          return index + 1
        case State.Done:
          return index
      }
      index += 1
    }
    return -1
  }
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37
  return -1
}

function isVisibleOrSpace(byte: number): boolean {
  return byte === 0x09 || (byte >= 0x20 && byte !== 0x7f)
}
