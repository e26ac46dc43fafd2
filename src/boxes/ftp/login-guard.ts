/** How the ftp box slows down and stops password guessing; every field is configurable (docs/ftp.md). */
export interface LoginGuardSettings {
  /** Each failed login is answered this much later (vsftpd's delay_failed_login, 1 s by default). */
  failedLoginDelayMs: number
  /** Failed logins from one address, in a row, that lock the address out; 0: never. */
  lockoutAfter: number
  /** The first lockout of an address; each further one (failures after it) lasts twice as long as the one before... */
  lockoutMs: number
  /** ...up to this. An address that fails no login for this long is forgotten. */
  maxLockoutMs: number
}

export const LOGIN_GUARD_DEFAULTS: LoginGuardSettings = { failedLoginDelayMs: 1000, lockoutAfter: 10, lockoutMs: 60_000, maxLockoutMs: 15 * 60_000 }

interface AddressRecord {
  failures: number
  lockouts: number
  lockedUntil: number
  lastFailure: number
}

/**
 * Failed logins per client address. The delay holds back guesses on one connection; the lockout
 * holds back guesses spread over many connections at once, which a delay alone does not: while
 * an address is locked out, even the right password is refused, so guessing learns nothing.
 */
export class LoginGuard {
  private readonly addresses = new Map<string, AddressRecord>()

  constructor(
    readonly settings: LoginGuardSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until `address` may try again; 0 when it may now. */
  lockedFor(address: string): number {
    const record = this.addresses.get(address)
    return record ? Math.max(0, record.lockedUntil - this.now()) : 0
  }

  /** Counts a failed login; returns the lockout it starts (ms), or 0. */
  recordFailure(address: string): number {
    const now = this.now()
    let record = this.addresses.get(address)
    if (!record || now - record.lastFailure > this.settings.maxLockoutMs) {
      record = { failures: 0, lockouts: 0, lockedUntil: 0, lastFailure: now }
      this.addresses.set(address, record)
    }
    record.failures += 1
    record.lastFailure = now
    this.forgetQuietAddresses(now)
    if (this.settings.lockoutAfter === 0 || record.failures < this.settings.lockoutAfter) return 0
    const lockout = Math.min(this.settings.lockoutMs * 2 ** record.lockouts, this.settings.maxLockoutMs)
    record.lockouts += 1
    record.failures = 0
    record.lockedUntil = now + lockout
    return lockout
  }

  recordSuccess(address: string): void {
    this.addresses.delete(address)
  }

  /** Keeps the table as small as the addresses that failed lately (a scan from many addresses must not grow it for ever). */
  private forgetQuietAddresses(now: number): void {
    if (this.addresses.size < 1024) return
    for (const [address, record] of this.addresses) {
      if (now - record.lastFailure > this.settings.maxLockoutMs && record.lockedUntil <= now) this.addresses.delete(address)
    }
  }
}
