// What every conformance script shares: the READY/GO handshake with the Rust test, checks that
// fail the run with a clear message, a fetch that records every request a client makes (and,
// for JSON replies, the body), and ShapeStreams that log every message they deliver.
//
// Handshake (one line each): a script writes `READY <phase> [json]` to stdout and waits for
// `GO [json]` on stdin; in between, the Rust side writes to Postgres and answers with what it
// did. Everything else a script says goes to stderr. Exit code 0 means every check passed.
//
// Environment (every script):
//   ELECTRIC_SHAPE_URL      http://127.0.0.1:PORT/v1/shape
//   CONFORMANCE_TIMEOUT_MS  overall deadline (default 60000)
// (The test also passes DATABASE_URL, for reference only: no script connects to Postgres, so
// none needs a driver; the Rust side does every write.)

import { ShapeStream, Shape, FetchError } from '@electric-sql/client'
import { isDeepStrictEqual, inspect } from 'node:util'
import readline from 'node:readline'

export const WAIT_MS = 15_000

export const SHAPE_URL = requiredEnv('ELECTRIC_SHAPE_URL')
const OVERALL_MS = Number(process.env.CONFORMANCE_TIMEOUT_MS || 60_000)

const started = Date.now()
/**
 * Every HTTP request any client made: {stream, url, method, body, status, type, handle,
 * headers, json, error, at}. `json` is a promise of the parsed reply for JSON replies.
 */
export const requests = []
/** Everything the client logged through console.warn / console.error. */
export const warnings = []
/** Errors the streams reported (onError / subscriber error callbacks). */
export const streamErrors = []
const streams = []
/** Things to stop before exiting (TanStack collections, …). */
const cleanups = []
let phase = 'start'

for (const level of ['warn', 'error']) {
  const original = console[level].bind(console)
  console[level] = (...args) => {
    const text = args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ')
    warnings.push(`console.${level}: ${text}`)
    original(`[client console.${level}]`, ...args)
  }
}

export function requiredEnv(name) {
  const value = process.env[name]
  if (!value) {
    process.stderr.write(`FAIL: environment variable ${name} is not set\n`)
    process.exit(2)
  }
  return value
}

export function log(message) {
  const seconds = ((Date.now() - started) / 1000).toFixed(2)
  process.stderr.write(`[${seconds}s] ${message}\n`)
}

export function show(value) {
  return inspect(value, { depth: 6, breakLength: 160 })
}

export class CheckFailed extends Error {}

export function check(condition, message) {
  if (!condition) throw new CheckFailed(message)
}

export function checkEqual(actual, expected, what) {
  check(
    isDeepStrictEqual(actual, expected),
    `${what}: expected ${show(expected)}, got ${show(actual)}`
  )
}

/** Names the part of the run that follows, for failure messages (handshakes do it too). */
export function setPhase(name) {
  phase = name
  log(`phase ${name}`)
}

export function fail(error) {
  const message = error instanceof CheckFailed ? error.message : (error?.stack ?? String(error))
  process.stderr.write(`\nFAIL in phase "${phase}": ${message}\n`)
  if (streamErrors.length) {
    process.stderr.write(`stream errors:\n`)
    for (const e of streamErrors) process.stderr.write(`  ${e}\n`)
  }
  if (warnings.length) {
    process.stderr.write(`client warnings:\n`)
    for (const w of warnings) process.stderr.write(`  ${w}\n`)
  }
  process.stderr.write(`last requests (stream, method, status, content-type, query[, body]):\n`)
  for (const r of requests.slice(-40)) {
    process.stderr.write(
      `  +${((r.at - started) / 1000).toFixed(2)}s ${r.stream} ${r.method} ${r.status ?? r.error ?? 'pending'} ` +
        `${r.type ?? ''} ${r.url.search}${r.body ? ` body ${r.body}` : ''}\n`
    )
    if (r.status >= 400 && r.errorText) process.stderr.write(`      reply: ${r.errorText}\n`)
  }
  process.exit(1)
}

process.on('unhandledRejection', fail)
process.on('uncaughtException', fail)
setTimeout(() => fail(new CheckFailed(`the whole run took longer than ${OVERALL_MS} ms`)), OVERALL_MS).unref()

// ---------------------------------------------------------------------------------------------
// The stdin/stdout handshake with the Rust test.

const stdinLines = []
let stdinWaiter = null
let stdinClosed = false
const input = readline.createInterface({ input: process.stdin })
input.on('line', (line) => {
  if (stdinWaiter) {
    const waiter = stdinWaiter
    stdinWaiter = null
    waiter(line)
  } else {
    stdinLines.push(line)
  }
})
input.on('close', () => {
  stdinClosed = true
  if (stdinWaiter) fail(new CheckFailed('stdin closed while waiting for GO'))
})

function nextLine() {
  if (stdinLines.length) return Promise.resolve(stdinLines.shift())
  if (stdinClosed) return Promise.reject(new CheckFailed('stdin closed while waiting for GO'))
  return new Promise((resolve) => {
    stdinWaiter = resolve
  })
}

/** Announces `name`, waits for the Rust side to act, and returns its JSON answer. */
export async function handshake(name, payload) {
  phase = name
  log(`READY ${name}`)
  process.stdout.write(`READY ${name}${payload === undefined ? '' : ' ' + JSON.stringify(payload)}\n`)
  const line = await within(30_000, nextLine(), `GO from the test after READY ${name}`)
  check(line.startsWith('GO'), `expected a GO line on stdin, got ${JSON.stringify(line)}`)
  const rest = line.slice(2).trim()
  const answer = rest ? JSON.parse(rest) : null
  log(`GO ${name} ${rest.length > 300 ? rest.slice(0, 300) + '…' : rest}`)
  return answer
}

// ---------------------------------------------------------------------------------------------
// Helpers around the client.

export function within(ms, promise, what) {
  let timer
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new CheckFailed(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Polls `predicate` until it holds; fails at once if a stream reported an error. */
export async function waitFor(what, predicate, describe = () => '', ms = WAIT_MS) {
  const deadline = Date.now() + ms
  for (;;) {
    check(streamErrors.length === 0, `a stream failed while waiting for ${what}: ${streamErrors[0]}`)
    if (predicate()) return
    if (Date.now() > deadline) {
      throw new CheckFailed(`timed out after ${ms} ms waiting for ${what}; ${describe()}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/**
 * A fetch that records every request a client makes (including SSE, prefetches and subset
 * snapshots). `hold(url, init)` may return a promise the request waits for before it is sent.
 */
export function recordingFetch(stream, { hold } = {}) {
  return async (resource, init) => {
    const url = new URL(resource instanceof Request ? resource.url : String(resource))
    const method = (init?.method ?? (resource instanceof Request ? resource.method : 'GET')).toUpperCase()
    const body = typeof init?.body === 'string' ? init.body : undefined
    const entry = { stream, url, method, body, at: Date.now() }
    requests.push(entry)
    try {
      const gate = hold?.(url, init)
      if (gate) {
        entry.held = true
        await gate
        entry.at = Date.now()
      }
      const response = await fetch(resource, init)
      entry.status = response.status
      entry.type = response.headers.get('content-type')
      entry.handle = response.headers.get('electric-handle')
      entry.headers = Object.fromEntries(response.headers.entries())
      if ((entry.type ?? '').includes('application/json')) {
        const text = response.clone().text()
        entry.json = text.then((t) => JSON.parse(t))
        entry.json.catch(() => {})
        if (response.status >= 400) text.then((t) => (entry.errorText = t), () => {})
      }
      return response
    } catch (error) {
      entry.error = error?.name ?? String(error)
      throw error
    }
  }
}

/** Records a failure of any client (stream, collection) without stopping it from reporting more. */
export function recordStreamError(name) {
  return (error) => {
    streamErrors.push(`${name}: ${describeError(error)}`)
    // Returning nothing stops a ShapeStream: any error is a failure here.
  }
}

/** A ShapeStream with request recording, error capture and a log of every message batch. */
export function openStream(name, params, options = {}) {
  const abort = new AbortController()
  const stream = new ShapeStream({
    url: SHAPE_URL,
    params,
    subscribe: true,
    signal: abort.signal,
    fetchClient: recordingFetch(name),
    onError: recordStreamError(name),
    ...options,
  })
  const messages = []
  stream.subscribe(
    (batch) => {
      for (const message of batch) messages.push(message)
    },
    (error) => streamErrors.push(`${name} (subscriber): ${describeError(error)}`)
  )
  const handle = {
    name,
    stream,
    messages,
    shape: null,
    withShape() {
      this.shape = new Shape(stream)
      return this
    },
    changes() {
      return messages.filter((m) => m.headers && m.headers.operation)
    },
    controls(kind) {
      return messages.filter((m) => m.headers && m.headers.control === kind)
    },
    events(kind) {
      return messages.filter((m) => m.headers && m.headers.event === kind)
    },
    requests() {
      return requests.filter((r) => r.stream === name)
    },
    close() {
      this.shape?.unsubscribeAll()
      stream.unsubscribeAll()
      abort.abort()
    },
  }
  streams.push(handle)
  return handle
}

/** Runs `cleanup` (e.g. a collection's) before the script exits; the last added runs first. */
export function atExit(cleanup) {
  cleanups.push(cleanup)
}

export function describeError(error) {
  if (error instanceof FetchError) {
    return `FetchError ${error.status} for ${error.url}: ${error.text ?? error.message}`
  }
  return error?.stack ?? String(error)
}

export function byId(rows) {
  return new Map(rows.map((row) => [row.id, row]))
}

export function sortedIds(rows) {
  return rows.map((row) => row.id).sort()
}

/** Whether two lists hold the same items, in any order. */
export function isDeepEqualSorted(actual, expected) {
  return isDeepStrictEqual([...actual].sort(), [...expected].sort())
}

/** Whether `text` is an unsigned decimal integer (how Electric encodes xids and LSNs). */
export function isDecimal(text) {
  return typeof text === 'string' && /^[0-9]+$/.test(text)
}

/** Final checks, then `DONE` and exit 0. */
export async function finish() {
  const electricWarnings = warnings.filter((w) => w.includes('[Electric]'))
  check(electricWarnings.length === 0, `the client warned about the server:\n  ${electricWarnings.join('\n  ')}`)
  check(streamErrors.length === 0, `stream errors: ${streamErrors.join('; ')}`)

  for (const s of streams) s.close()
  for (const cleanup of cleanups.reverse()) await cleanup()
  for (const r of requests) {
    log(`  ${r.stream} ${r.method} ${r.status ?? r.error ?? 'pending'} ${r.url.search}${r.body ? ` body ${r.body}` : ''}`)
  }
  process.stdout.write('DONE\n')
  log(`all checks passed (${requests.length} requests)`)
  input.close()
  // The client keeps a wake-detection interval; exit explicitly once everything is closed.
  setTimeout(() => process.exit(0), 50)
}
