// The sample "skel" app: a hello page naming the server that answered, a health check, and JSON
// CRUD on the seeded skel database (users and companies). The node box runs it with HOST, PORT,
// DEVENV_SERVICE and DATABASE_URL set, and devenv's own node_modules on NODE_PATH for `pg`.
'use strict'
const http = require('node:http')
const { Pool } = require('pg')

const SERVER = process.env.DEVENV_SERVICE || 'skel'
const MAX_BODY_BYTES = 64 * 1024

const pool = new Pool({
  connectionString: process.env.DATABASE_URL,
  max: 5,
  connectionTimeoutMillis: 2000,
  idleTimeoutMillis: 10000,
})
// an idle client losing its connection (the database restarting) must not take the app down
pool.on('error', (error) => console.error(`database: ${error.message}`))

class HttpError extends Error {
  constructor(status, message) {
    super(message)
    this.status = status
  }
}

// Each resource: its table, its columns and how each is checked. Names here are fixed strings,
// never from a request; values always travel as query parameters.
const RESOURCES = {
  users: {
    table: 'users',
    columns: {
      name: { required: true, check: text(200) },
      email: { required: true, check: email },
      company_id: { required: false, check: optionalId },
    },
  },
  companies: {
    table: 'companies',
    columns: {
      name: { required: true, check: text(200) },
      city: { required: false, check: optionalText(200) },
    },
  },
}

function text(max) {
  return (value, field) => {
    if (typeof value !== 'string' || value.trim() === '') throw new HttpError(400, `${field} must be a non-empty string`)
    if (value.length > max) throw new HttpError(400, `${field} must be at most ${max} characters`)
    return value.trim()
  }
}

function optionalText(max) {
  const check = text(max)
  return (value, field) => (value === null ? null : check(value, field))
}

function email(value, field) {
  const address = text(320)(value, field)
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(address)) throw new HttpError(400, `${field} must be an email address`)
  return address.toLowerCase()
}

function optionalId(value, field) {
  if (value === null) return null
  if (!Number.isInteger(value) || value < 1) throw new HttpError(400, `${field} must be a positive integer or null`)
  return value
}

function parseId(text) {
  if (!/^[1-9][0-9]{0,9}$/.test(text) || Number(text) > 2147483647) throw new HttpError(404, `no such id: ${text}`)
  return Number(text)
}

/** The body's fields, checked: all required ones on create, at least one on update. */
function validate(resource, body, { partial }) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'the body must be a JSON object')
  const unknown = Object.keys(body).filter((key) => !(key in resource.columns))
  if (unknown.length) throw new HttpError(400, `unknown field(s): ${unknown.join(', ')}`)
  const values = {}
  for (const [column, rule] of Object.entries(resource.columns)) {
    if (body[column] === undefined) {
      if (rule.required && !partial) throw new HttpError(400, `${column} is required`)
      continue
    }
    values[column] = rule.check(body[column], column)
  }
  if (partial && Object.keys(values).length === 0) throw new HttpError(400, `nothing to update: send one of ${Object.keys(resource.columns).join(', ')}`)
  return values
}

async function list(resource) {
  const { rows } = await pool.query(`SELECT * FROM ${resource.table} ORDER BY id`)
  return rows
}

async function get(resource, id) {
  const { rows } = await pool.query(`SELECT * FROM ${resource.table} WHERE id = $1`, [id])
  if (!rows[0]) throw new HttpError(404, `no ${resource.table} row with id ${id}`)
  return rows[0]
}

async function create(resource, values) {
  const columns = Object.keys(values)
  const placeholders = columns.map((_, index) => `$${index + 1}`)
  const { rows } = await pool.query(
    `INSERT INTO ${resource.table} (${columns.join(', ')}) VALUES (${placeholders.join(', ')}) RETURNING *`,
    Object.values(values),
  )
  return rows[0]
}

async function update(resource, id, values) {
  const columns = Object.keys(values)
  const assignments = columns.map((column, index) => `${column} = $${index + 2}`)
  const { rows } = await pool.query(`UPDATE ${resource.table} SET ${assignments.join(', ')} WHERE id = $1 RETURNING *`, [id, ...Object.values(values)])
  if (!rows[0]) throw new HttpError(404, `no ${resource.table} row with id ${id}`)
  return rows[0]
}

async function remove(resource, id) {
  const { rowCount } = await pool.query(`DELETE FROM ${resource.table} WHERE id = $1`, [id])
  if (!rowCount) throw new HttpError(404, `no ${resource.table} row with id ${id}`)
}

/** PostgreSQL's constraint errors are the client's mistakes, said in words. */
function databaseError(error) {
  if (error.code === '23505') return new HttpError(409, `already exists: ${error.detail || error.message}`)
  if (error.code === '23503') return new HttpError(400, `refers to a row that does not exist: ${error.detail || error.message}`)
  return error
}

function readJson(request) {
  return new Promise((resolve, reject) => {
    const chunks = []
    let size = 0
    request.on('data', (chunk) => {
      size += chunk.length
      // past the limit the rest is read and dropped, so that the client still gets its 413
      if (size <= MAX_BODY_BYTES) chunks.push(chunk)
    })
    request.on('end', () => {
      if (size > MAX_BODY_BYTES) return reject(new HttpError(413, `the body must be at most ${MAX_BODY_BYTES} bytes`))
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')))
      } catch {
        reject(new HttpError(400, 'the body is not valid JSON'))
      }
    })
    request.on('error', reject)
  })
}

async function api(request, parts) {
  const resource = RESOURCES[parts[1]]
  if (!resource || parts.length > 3) throw new HttpError(404, `no such resource: /${parts.join('/')}`)
  const method = request.method
  if (parts.length === 2) {
    if (method === 'GET') return [200, await list(resource)]
    if (method === 'POST') return [201, await create(resource, validate(resource, await readJson(request), { partial: false }))]
    throw new HttpError(405, `${method} is not allowed on /api/${parts[1]}`)
  }
  const id = parseId(parts[2])
  if (method === 'GET') return [200, await get(resource, id)]
  if (method === 'PUT' || method === 'PATCH') return [200, await update(resource, id, validate(resource, await readJson(request), { partial: method === 'PATCH' }))]
  if (method === 'DELETE') {
    await remove(resource, id)
    return [204, undefined]
  }
  throw new HttpError(405, `${method} is not allowed on /api/${parts[1]}/${id}`)
}

async function health() {
  try {
    await pool.query('SELECT 1')
    return [200, { ok: true, server: SERVER }]
  } catch (error) {
    return [503, { ok: false, server: SERVER, error: `database unreachable: ${error.message}` }]
  }
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`)
}

function send(response, status, body) {
  if (body === undefined) {
    response.writeHead(status)
    response.end()
    return
  }
  const text = JSON.stringify(body)
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) })
  response.end(text)
}

const server = http.createServer(async (request, response) => {
  const { pathname } = new URL(request.url || '/', 'http://skel')
  const parts = pathname.split('/').filter(Boolean)
  try {
    if (pathname === '/' && request.method === 'GET') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      response.end(`<!doctype html><title>skel</title><h1>Hello from ${escapeHtml(SERVER)}</h1>\n<p>Try <a href="/api/companies">/api/companies</a> and <a href="/api/users">/api/users</a>.</p>\n`)
      return
    }
    if (pathname === '/health') return send(response, ...(await health()))
    if (parts[0] === 'api') return send(response, ...(await api(request, parts)))
    throw new HttpError(404, `no such page: ${pathname}`)
  } catch (caught) {
    const error = databaseError(caught)
    if (error instanceof HttpError) return send(response, error.status, { error: error.message })
    console.error(`${request.method} ${pathname}: ${error.message}`)
    send(response, 500, { error: 'internal error' })
  }
})

server.listen(Number(process.env.PORT || 8080), process.env.HOST || '127.0.0.1', () => {
  console.log(`${SERVER}: listening on http://${process.env.HOST || '127.0.0.1'}:${process.env.PORT || 8080}/`)
})

function stop() {
  server.close()
  server.closeAllConnections()
  pool.end().finally(() => process.exit(0))
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
