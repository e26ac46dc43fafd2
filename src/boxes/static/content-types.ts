import path from 'node:path'

const TEXT = '; charset=utf-8'

const BY_EXTENSION: Record<string, string> = {
  '.html': 'text/html' + TEXT,
  '.htm': 'text/html' + TEXT,
  '.css': 'text/css' + TEXT,
  '.js': 'text/javascript' + TEXT,
  '.mjs': 'text/javascript' + TEXT,
  '.cjs': 'text/javascript' + TEXT,
  '.json': 'application/json' + TEXT,
  '.map': 'application/json' + TEXT,
  '.webmanifest': 'application/manifest+json' + TEXT,
  '.txt': 'text/plain' + TEXT,
  '.md': 'text/markdown' + TEXT,
  '.csv': 'text/csv' + TEXT,
  '.xml': 'application/xml' + TEXT,
  '.yaml': 'application/yaml' + TEXT,
  '.yml': 'application/yaml' + TEXT,
  '.svg': 'image/svg+xml' + TEXT,
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.bmp': 'image/bmp',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.eot': 'application/vnd.ms-fontobject',
  '.wasm': 'application/wasm',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav',
  '.ogg': 'audio/ogg',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
}

export function contentType(file: string): string {
  return BY_EXTENSION[path.extname(file).toLowerCase()] ?? 'application/octet-stream'
}
