// The mail box's one script (served as /ui.js; the pages allow no other and no inline script).
// It deletes through Mailpit's API and keeps the list current as mail arrives. It never puts a
// message's content into the page: what it swaps in is the server's own escaped HTML.
'use strict'

async function deleteMessages(body) {
  const response = await fetch('/api/v1/messages', { method: 'DELETE', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  if (!response.ok) throw new Error(`delete failed: ${response.status}`)
}

async function deleteSearch(query) {
  const response = await fetch(`/api/v1/search?query=${encodeURIComponent(query)}`, { method: 'DELETE' })
  if (!response.ok) throw new Error(`delete failed: ${response.status}`)
}

document.addEventListener('click', (event) => {
  const button = event.target instanceof Element ? event.target.closest('button[data-delete-id], button[data-delete-search]') : null
  if (!button) return
  const id = button.getAttribute('data-delete-id')
  const query = button.getAttribute('data-delete-search')
  const done = id !== null ? deleteMessages({ IDs: [id] }).then(() => location.assign('/')) : (query ? deleteSearch(query) : deleteMessages({})).then(refresh)
  done.catch((error) => alert(error.message))
})

/** Replaces the list with the server's current rendering of the same address. */
async function refresh() {
  const response = await fetch(location.href, { headers: { accept: 'text/html' } })
  if (!response.ok) return
  const fresh = new DOMParser().parseFromString(await response.text(), 'text/html').querySelector('main[data-live="list"]')
  const current = document.querySelector('main[data-live="list"]')
  if (fresh && current) current.replaceWith(fresh)
}

// the script is deferred: the page is parsed when it runs
if (document.querySelector('main[data-live="list"]')) {
  let pending = false
  new EventSource('/api/events').addEventListener('change', () => {
    // a burst of mail makes one refresh
    if (pending) return
    pending = true
    setTimeout(() => {
      pending = false
      refresh().catch(() => {})
    }, 100)
  })
}
