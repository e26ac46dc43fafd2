// The sample "skel" app: GET / names the server that answered, GET /health says it is up.
// The node box runs it with HOST and PORT set to the service's own address and port.
const http = require('node:http')

const server = http.createServer((request, response) => {
  if (request.url === '/health') {
    response.writeHead(200, { 'content-type': 'application/json' })
    response.end(JSON.stringify({ ok: true, server: process.env.DEVENV_SERVICE }))
    return
  }
  response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
  response.end(`<h1>Hello from ${process.env.DEVENV_SERVICE ?? 'skel'}</h1>\n`)
})

server.listen(Number(process.env.PORT ?? 8080), process.env.HOST ?? '127.0.0.1')
