import type { LocalCa } from './ca.js'

/** How each kind of client is told to trust the CA: one line each, ready to paste. */
export interface TrustAdvice {
  system: string
  curl: string
  node: string
  python: string
  firefox: string
  chromeLinux: string
}

export function trustAdvice(ca: LocalCa): TrustAdvice {
  const file = ca.paths.certificate
  return {
    system: 'devenv tls trust   (adds it to the system store; needs root or sudo)',
    curl: `curl --cacert ${file} https://www.example.test/`,
    node: `NODE_EXTRA_CA_CERTS=${file} node app.js`,
    python: `REQUESTS_CA_BUNDLE=${file} python app.py   (or SSL_CERT_FILE=${file})`,
    firefox: `Settings → Privacy & Security → Certificates → View Certificates → Authorities → Import… → ${file}, tick "Trust this CA to identify websites"`,
    chromeLinux: `certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n "${ca.subject}" -i ${file}   (package libnss3-tools)`,
  }
}
