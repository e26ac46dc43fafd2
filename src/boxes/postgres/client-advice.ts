import { readFileSync } from 'node:fs'

/**
 * How to get PostgreSQL client tools of `major` on this system, as one line to run. The bundled
 * server package ships only initdb, pg_ctl and postgres, so pg_dump and pg_restore come from the
 * system; stock Debian and Ubuntu carry one older major, PGDG's repository carries every one.
 */
export function clientInstallAdvice(major: number, osRelease = readOsRelease()): string {
  if (process.platform === 'darwin') return `brew install postgresql@${major}, then add $(brew --prefix postgresql@${major})/bin to PATH`
  const family = `${osRelease.ID ?? ''} ${osRelease.ID_LIKE ?? ''}`
  if (/\b(debian|ubuntu)\b/.test(family)) {
    return `sudo apt-get install -y postgresql-common && sudo /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y && sudo apt-get install -y postgresql-client-${major} (PostgreSQL's own apt repository; ${osRelease.PRETTY_NAME ?? 'this system'} alone carries an older major)`
  }
  if (/\b(fedora|rhel|centos|rocky|almalinux)\b/.test(family)) return `sudo dnf install -y postgresql${major} from PostgreSQL's own repository (https://www.postgresql.org/download/linux/redhat/)`
  return `install the PostgreSQL ${major} client tools (https://www.postgresql.org/download/), and put their bin folder on PATH`
}

function readOsRelease(): Record<string, string> {
  try {
    const entries = readFileSync('/etc/os-release', 'utf8').split('\n').map((line) => /^([A-Z_]+)=(?:"(.*)"|(.*))$/.exec(line)).filter((match) => match !== null)
    return Object.fromEntries(entries.map((match) => [match[1]!, match[2] ?? match[3] ?? '']))
  } catch {
    return {}
  }
}
