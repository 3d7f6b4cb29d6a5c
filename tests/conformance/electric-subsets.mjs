// The official Electric TypeScript client (@electric-sql/client, pinned in package.json) on
// Electric 1.x's partial loading: a `log: 'changes_only'` shape (no snapshot rows, then live
// changes), `requestSnapshot` injecting a subset (where + params + order by + limit, and the
// structured where/order-by expressions with an offset) into that stream, later changes to the
// subset's rows, and `fetchSnapshot` over POST. Driven by tests/integration/sync/
// conformance_subsets.rs, which does every database write (handshake and helpers: harness.mjs).
//
// Environment (besides harness.mjs's):
//   ORG_ID   the organization whose tasks the shape follows

import {
  WAIT_MS,
  byId,
  check,
  checkEqual,
  fail,
  finish,
  handshake,
  isDecimal,
  log,
  openStream,
  requiredEnv,
  setPhase,
  show,
  waitFor,
  within,
} from './harness.mjs'
import { isDeepStrictEqual } from 'node:util'

const ORG = requiredEnv('ORG_ID')

const tasksOf = (org) => ({ table: 'tasks', where: 'organization_id = $1', params: [org] })

const isSubsetRequest = (r) =>
  r.method === 'POST' || [...r.url.searchParams.keys()].some((k) => k.startsWith('subset__'))

/** The snapshot metadata of a subset reply, as `SnapshotTracker` and TanStack DB read it. */
function checkMetadata(metadata, what) {
  check(metadata && typeof metadata === 'object', `${what}: the reply has a metadata object, got ${show(metadata)}`)
  check(isDecimal(metadata.xmin), `${what}: metadata.xmin is a decimal string, got ${show(metadata.xmin)}`)
  check(isDecimal(metadata.xmax), `${what}: metadata.xmax is a decimal string, got ${show(metadata.xmax)}`)
  check(
    Array.isArray(metadata.xip_list) && metadata.xip_list.every(isDecimal),
    `${what}: metadata.xip_list is an array of decimal strings, got ${show(metadata.xip_list)}`
  )
  check(BigInt(metadata.xmin) <= BigInt(metadata.xmax), `${what}: xmin <= xmax in ${show(metadata)}`)
  check(Number.isInteger(metadata.snapshot_mark), `${what}: metadata.snapshot_mark is an integer, got ${show(metadata.snapshot_mark)}`)
  check(isDecimal(metadata.database_lsn), `${what}: metadata.database_lsn is a decimal string, got ${show(metadata.database_lsn)}`)
}

/** A `{metadata, data}` result against the rows Postgres says the subset holds, in order. */
function checkSnapshotResult(result, rows, what) {
  checkMetadata(result.metadata, what)
  checkEqual(
    result.data.map((m) => m.value?.id),
    rows.map((r) => r.id),
    `${what}: ids of the rows, in order`
  )
  for (const [i, message] of result.data.entries()) {
    checkEqual(message.headers.operation, 'insert', `${what}: operation of row ${i}`)
    checkEqual(message.headers.snapshot_mark, result.metadata.snapshot_mark, `${what}: headers.snapshot_mark of row ${i}`)
    check(typeof message.key === 'string' && message.key.length > 0, `${what}: row ${i} has a key, got ${show(message.key)}`)
    const want = rows[i]
    for (const column of ['title', 'status', 'priority', 'due_date']) {
      checkEqual(message.value[column], want[column], `${what}: ${column} of row ${i} (${want.id})`)
    }
    checkEqual(message.value.organization_id, ORG, `${what}: organization_id of row ${i} (the shape's where still applies)`)
  }
}

/** The headers and body of a subset reply. */
async function checkSubsetReply(request, handle, rowCount, what) {
  checkEqual(request.status, 200, `${what}: status`)
  const headers = request.headers
  checkEqual(headers['electric-snapshot'], 'true', `${what}: electric-snapshot header`)
  check((headers['cache-control'] ?? '').includes('no-cache'), `${what}: cache-control is no-cache, got ${show(headers['cache-control'])}`)
  checkEqual(headers['electric-handle'], handle, `${what}: electric-handle (the stream's shape)`)
  check(/^[0-9]+_[0-9]+$/.test(headers['electric-offset'] ?? ''), `${what}: electric-offset is an offset, got ${show(headers['electric-offset'])}`)
  let schema
  try {
    schema = JSON.parse(headers['electric-schema'])
  } catch {
    check(false, `${what}: electric-schema is JSON, got ${show(headers['electric-schema'])}`)
  }
  checkEqual(schema?.id?.type, 'uuid', `${what}: electric-schema describes tasks.id`)
  check(request.json, `${what}: the reply is JSON, content-type ${show(request.type)}`)
  const body = await request.json
  checkEqual(Object.keys(body).sort(), ['data', 'metadata'], `${what}: keys of the reply body`)
  checkEqual(body.data.length, rowCount, `${what}: rows in the reply body`)
}

/** The messages requestSnapshot put into the stream: the rows, then snapshot-end, then subset-end. */
function checkInjected(messages, result, request, what) {
  const mark = result.metadata.snapshot_mark
  const rowsAt = messages.flatMap((m, i) => (m.headers?.operation && m.headers.snapshot_mark === mark ? [i] : []))
  checkEqual(
    rowsAt.map((i) => messages[i].value.id),
    result.data.map((m) => m.value.id),
    `${what}: rows injected into the stream, in order`
  )
  const end = messages.findIndex((m) => m.headers?.control === 'snapshot-end' && m.headers.snapshot_mark === mark)
  check(end >= 0, `${what}: a snapshot-end with the snapshot's mark follows the rows: ${show(messages.map((m) => m.headers))}`)
  check(rowsAt.every((i) => i < end), `${what}: the rows come before their snapshot-end`)
  const subsetEnd = messages.findIndex((m) => m.headers?.control === 'subset-end')
  check(subsetEnd > end, `${what}: a subset-end follows the snapshot-end`)
  checkEqual(messages[subsetEnd].headers.limit, request.limit, `${what}: limit echoed in subset-end`)
}

async function main() {
  // 1. changes_only: no snapshot rows, up to date at once, then live changes.
  setPhase('changes-only-start')
  const co = openStream('changes-only', tasksOf(ORG), { log: 'changes_only' }).withShape()
  const initial = await within(WAIT_MS, co.shape.rows, 'the changes_only shape to be up to date (shape.rows)')
  checkEqual(initial, [], 'rows of a changes_only shape before any change')
  checkEqual(co.changes().length, 0, 'change messages a changes_only stream delivers before any change')
  {
    const first = co.requests()[0]
    checkEqual(first.url.searchParams.get('log'), 'changes_only', 'log parameter of the first request')
    checkEqual(first.url.searchParams.get('offset'), '-1', 'offset of the first request')
    checkEqual(first.status, 200, 'status of the first changes_only request')
    check(first.json, `the first changes_only reply is JSON, content-type ${show(first.type)}`)
    // No rows, just the snapshot's end. Like Electric, the reply to offset=-1 may leave the
    // up-to-date to the next request (so that it stays cacheable); both shapes are accepted.
    const body = await first.json
    const kinds = body.map((m) => m.headers?.control ?? m.headers?.operation)
    check(
      isDeepStrictEqual(kinds, ['snapshot-end']) || isDeepStrictEqual(kinds, ['snapshot-end', 'up-to-date']),
      `messages of the first changes_only reply: expected a snapshot-end and no rows (then maybe up-to-date), got ${show(body)}`
    )
    const throughUpToDate = co.messages.slice(0, co.messages.findIndex((m) => m.headers?.control === 'up-to-date') + 1)
    checkEqual(
      throughUpToDate.map((m) => m.headers?.control ?? m.headers?.operation),
      ['snapshot-end', 'up-to-date'],
      'messages the changes_only stream delivered until it was up to date'
    )
    check(co.stream.shapeHandle, 'the changes_only stream has a handle after its first reply')
    check(co.shape.isUpToDate, 'the changes_only shape is up to date')
  }
  log(`changes_only: up to date with no rows, handle ${co.stream.shapeHandle}, offset ${co.stream.lastOffset}`)

  const live = await handshake('changes-only')
  await waitFor(
    'the row inserted (then renamed) after the changes_only start, and the update of a row never sent',
    () =>
      byId(co.shape.currentRows).get(live.inserted.id)?.title === live.updated.title &&
      co.changes().some((m) => m.value?.id === live.unseen.id),
    () => `rows: ${show(co.shape.currentRows.map((r) => [r.id, r.title]))}, changes: ${show(co.changes().map((m) => [m.headers.operation, m.value?.id]))}`
  )
  {
    checkEqual(co.shape.currentRows.map((r) => r.id), [live.inserted.id], 'rows of the changes_only shape after the changes')
    const row = byId(co.shape.currentRows).get(live.inserted.id)
    checkEqual(row.organization_id, ORG, 'organization_id of the live insert')
    checkEqual(row.status, live.inserted.status, 'status (column default) of the live insert')
    const ops = (id) => co.changes().filter((m) => m.value?.id === id).map((m) => m.headers.operation)
    checkEqual(ops(live.inserted.id), ['insert', 'update'], 'operations on the row inserted after the start')
    checkEqual(ops(live.unseen.id), ['update'], 'operations on the row updated but never sent')
    const unseen = co.changes().find((m) => m.value?.id === live.unseen.id)
    checkEqual(unseen.value.title, live.unseen.title, 'title in the update of the row never sent')
    check(!co.requests().some(isSubsetRequest), 'no subset request so far')
  }
  log('changes_only: live insert and updates arrived; the Shape kept only the inserted row')

  // 2. requestSnapshot (GET): the subset lands in the stream, in order, and stays live.
  const subset = await handshake('subset')
  const handle = co.stream.shapeHandle
  {
    const what = 'requestSnapshot (GET, where + params + order by + limit)'
    const before = co.messages.length
    const result = await within(WAIT_MS, co.stream.requestSnapshot(subset.get.request), what)
    checkSnapshotResult(result, subset.get.rows, what)
    checkInjected(co.messages.slice(before), result, subset.get.request, what)
    const request = co.requests().filter(isSubsetRequest).at(-1)
    checkEqual(request?.method, 'GET', `${what}: method`)
    const query = request.url.searchParams
    checkEqual(query.get('subset__where'), subset.get.request.where, `${what}: subset__where`)
    checkEqual(JSON.parse(query.get('subset__params')), subset.get.request.params, `${what}: subset__params`)
    checkEqual(query.get('subset__order_by'), subset.get.request.orderBy, `${what}: subset__order_by`)
    checkEqual(query.get('subset__limit'), String(subset.get.request.limit), `${what}: subset__limit`)
    checkEqual(query.get('log'), 'changes_only', `${what}: log`)
    checkEqual(query.get('handle'), handle, `${what}: handle`)
    await checkSubsetReply(request, handle, subset.get.rows.length, what)
  }
  {
    const what = 'requestSnapshot (GET, structured where/order-by expressions, = ANY, offset)'
    const before = co.messages.length
    const result = await within(WAIT_MS, co.stream.requestSnapshot(subset.expr.request), what)
    checkSnapshotResult(result, subset.expr.rows, what)
    checkInjected(co.messages.slice(before), result, subset.expr.request, what)
    const request = co.requests().filter(isSubsetRequest).at(-1)
    const query = request.url.searchParams
    checkEqual(query.get('subset__where'), subset.expr.compiledWhere, `${what}: subset__where compiled by the client`)
    checkEqual(JSON.parse(query.get('subset__where_expr')), subset.expr.request.whereExpr, `${what}: subset__where_expr`)
    checkEqual(JSON.parse(query.get('subset__order_by_expr')), subset.expr.request.orderByExpr, `${what}: subset__order_by_expr`)
    checkEqual(query.get('subset__offset'), String(subset.expr.request.offset), `${what}: subset__offset`)
    await checkSubsetReply(request, handle, subset.expr.rows.length, what)
  }
  {
    const want = [live.inserted.id, ...subset.get.rows.map((r) => r.id), ...subset.expr.rows.map((r) => r.id)]
    checkEqual(
      co.shape.currentRows.map((r) => r.id).sort(),
      [...new Set(want)].sort(),
      'rows of the Shape: the live insert and both subsets'
    )
    checkEqual(co.stream.shapeHandle, handle, 'handle of the stream after the subset snapshots')
    checkEqual(co.controls('must-refetch').length, 0, 'must-refetch messages on the changes_only stream')
  }
  log(`requestSnapshot: ${subset.get.rows.length} + ${subset.expr.rows.length} rows injected`)

  const changed = await handshake('subset-update')
  await waitFor(
    'the update of a subset row to reach the Shape (and the update of a row outside every subset to arrive)',
    () =>
      byId(co.shape.currentRows).get(changed.updated.id)?.title === changed.updated.title &&
      co.changes().some((m) => m.value?.id === changed.unloaded.id && m.value.title === changed.unloaded.title),
    () => `row: ${show(byId(co.shape.currentRows).get(changed.updated.id))}, last changes: ${show(co.changes().slice(-5))}`
  )
  check(!byId(co.shape.currentRows).has(changed.unloaded.id), 'the Shape ignores an update of a row no subset loaded')
  check(!co.requests().some((r) => r.status === 409), 'no 409 on the changes_only stream')
  log('a subset row followed a later update')

  // 3. fetchSnapshot over POST: metadata and rows, nothing injected into the stream.
  const post = await handshake('subset-post')
  {
    const what = 'fetchSnapshot (POST)'
    const before = co.messages.length
    const result = await within(WAIT_MS, co.stream.fetchSnapshot({ ...post.request, method: 'POST' }), what)
    checkSnapshotResult(result, post.rows, what)
    checkEqual(result.responseHandle, handle, `${what}: electric-handle`)
    check(/^[0-9]+_[0-9]+$/.test(result.responseOffset ?? ''), `${what}: electric-offset, got ${show(result.responseOffset)}`)
    const request = co.requests().filter(isSubsetRequest).at(-1)
    checkEqual(request?.method, 'POST', `${what}: method`)
    const query = request.url.searchParams
    check(
      ![...query.keys()].some((k) => k.startsWith('subset__')),
      `${what}: the subset travels in the body, not the query: ${request.url.search}`
    )
    checkEqual(query.get('table'), 'tasks', `${what}: table in the query`)
    checkEqual(query.get('params[1]'), ORG, `${what}: the shape's params in the query`)
    checkEqual(
      JSON.parse(request.body),
      {
        where: post.request.where,
        params: post.request.params,
        limit: post.request.limit,
        offset: post.request.offset,
        order_by: post.request.orderBy,
      },
      `${what}: request body`
    )
    await checkSubsetReply(request, handle, post.rows.length, what)
    await new Promise((resolve) => setTimeout(resolve, 200))
    check(
      !co.messages.slice(before).some((m) => m.headers?.snapshot_mark === result.metadata.snapshot_mark),
      `${what}: fetchSnapshot injects nothing into the stream`
    )
  }
  log(`fetchSnapshot (POST): ${post.rows.length} rows`)

  await finish()
}

main().catch(fail)
