import { DevenvError } from '../../errors.js'
import { parseDuration } from '../../util/duration.js'
import { LOGIN_GUARD_DEFAULTS, type LoginGuardSettings } from './login-guard.js'

/** The service's `env` entries that tune the login guard, and the setting each one sets. */
const VARIABLES = {
  FTP_FAILED_LOGIN_DELAY: 'failedLoginDelayMs',
  FTP_LOCKOUT_AFTER: 'lockoutAfter',
  FTP_LOCKOUT: 'lockoutMs',
  FTP_LOCKOUT_MAX: 'maxLockoutMs',
} as const satisfies Record<string, keyof LoginGuardSettings>

/**
 * The login guard of an ftp service: the defaults, changed by the service's `env` (durations such
 * as `500ms` or `2m`, a count for FTP_LOCKOUT_AFTER; 0 turns the delay or the lockout off).
 */
export function loginGuardSettings(service: string, env: Record<string, string>): LoginGuardSettings {
  const settings: LoginGuardSettings = { ...LOGIN_GUARD_DEFAULTS }
  for (const [variable, key] of Object.entries(VARIABLES)) {
    const value = env[variable]
    if (value === undefined || value.trim() === '') continue
    settings[key] = key === 'lockoutAfter' ? count(service, variable, value) : duration(service, variable, value)
  }
  if (settings.maxLockoutMs < settings.lockoutMs) settings.maxLockoutMs = settings.lockoutMs
  return settings
}

function count(service: string, variable: string, value: string): number {
  if (!/^\d+$/.test(value.trim())) throw invalid(service, variable, value, 'a whole number of failed logins (0: never lock out)')
  return Number(value)
}

function duration(service: string, variable: string, value: string): number {
  try {
    return parseDuration(value)
  } catch {
    throw invalid(service, variable, value, 'a duration such as 500ms, 2s or 5m (0: none)')
  }
}

function invalid(service: string, variable: string, value: string, expected: string): DevenvError {
  return new DevenvError('ENVFILE_INVALID', `service ${service}: env ${variable}=${JSON.stringify(value)} is not ${expected}`, {
    hint: 'See "Failed logins" in docs/ftp.md.',
  })
}
