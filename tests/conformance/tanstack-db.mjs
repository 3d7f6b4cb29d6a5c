// TanStack DB's Electric collection (@tanstack/db + @tanstack/electric-db-collection, pinned in
// package.json, over the pinned @electric-sql/client) against superset-server, in each sync
// mode: `eager` (the whole shape), `on-demand` (a changes_only stream from `now`; a live
// query's WHERE becomes a subset snapshot, and only its rows load) and `progressive` (the
// query's subset first, through fetchSnapshot, while the full sync runs; the full shape once
// it is up to date). Then live changes reach all three. Driven by
// tests/integration/sync/conformance_subsets.rs (handshake and helpers: harness.mjs).
//
// Environment (besides harness.mjs's):
//   ORG_ID   the organization whose tasks the collections hold

import { createCollection, createLiveQueryCollection, eq } from '@tanstack/db'
import { electricCollectionOptions } from '@tanstack/electric-db-collection'
import {
  SHAPE_URL,
  WAIT_MS,
  atExit,
  check,
  checkEqual,
  fail,
  finish,
  handshake,
  isDeepEqualSorted,
  log,
  recordStreamError,
  recordingFetch,
  requests,
  requiredEnv,
  setPhase,
  show,
  waitFor,
  within,
} from './harness.mjs'

const ORG = requiredEnv('ORG_ID')

const tasksOf = (org) => ({ table: 'tasks', where: 'organization_id = $1', params: [org] })

const isSubset = (url) => [...url.searchParams.keys()].some((k) => k.startsWith('subset__'))
const requestsOf = (name) => requests.filter((r) => r.stream === name)
const subsetRequestsOf = (name) => requestsOf(name).filter((r) => r.method === 'POST' || isSubset(r.url))

/** An Electric collection of the organization's tasks, its requests recorded under `name`. */
function tasksCollection(name, syncMode, hold) {
  const collection = createCollection(
    electricCollectionOptions({
      id: name,
      shapeOptions: {
        url: SHAPE_URL,
        params: tasksOf(ORG),
        fetchClient: recordingFetch(name, { hold }),
        onError: recordStreamError(name),
      },
      getKey: (row) => row.id,
      syncMode,
    })
  )
  atExit(() => collection.cleanup())
  return collection
}

/** A live query over `collection`: the tasks whose status is `status`. */
function withStatus(collection, status) {
  const query = createLiveQueryCollection((q) =>
    q.from({ task: collection }).where(({ task }) => eq(task.status, status))
  )
  atExit(() => query.cleanup())
  return query
}

const ids = (collection) => collection.toArray.map((row) => row.id).sort()

/** The subset request a live query's `eq(status, …)` turns into. */
function checkStatusSubset(request, status, what) {
  check(request, `${what}: a subset snapshot request was made`)
  checkEqual(request.method, 'GET', `${what}: method`)
  const query = request.url.searchParams
  checkEqual(query.get('subset__where'), '"status" = $1', `${what}: subset__where`)
  checkEqual(JSON.parse(query.get('subset__params') ?? 'null'), { 1: status }, `${what}: subset__params`)
  checkEqual(request.status, 200, `${what}: status`)
  checkEqual(request.headers?.['electric-snapshot'], 'true', `${what}: electric-snapshot header`)
}

async function main() {
  const tasks = await handshake('tanstack')
  const { status } = tasks
  const sorted = (list) => [...list].sort()

  // eager: the whole shape, then ready.
  setPhase('tanstack-eager')
  const eager = tasksCollection('tanstack-eager', 'eager')
  await within(WAIT_MS, eager.preload(), 'the eager collection to load')
  checkEqual(eager.status, 'ready', 'status of the eager collection')
  checkEqual(ids(eager), sorted(tasks.all), 'rows of the eager collection')
  {
    const first = requestsOf('tanstack-eager')[0]
    checkEqual(first.url.searchParams.get('offset'), '-1', 'eager: offset of the first request')
    checkEqual(first.url.searchParams.get('log'), 'full', 'eager: log mode')
    checkEqual(subsetRequestsOf('tanstack-eager').length, 0, 'eager: subset requests')
  }
  log(`eager: ${eager.size} rows`)

  // on-demand: only what the live query asks for.
  setPhase('tanstack-on-demand')
  const onDemand = tasksCollection('tanstack-on-demand', 'on-demand')
  const onDemandTodo = withStatus(onDemand, status)
  await within(WAIT_MS, onDemandTodo.preload(), `the on-demand live query (status = ${status}) to load`)
  await waitFor(
    `the on-demand live query to hold the ${tasks.matching.length} matching rows`,
    () => isDeepEqualSorted(ids(onDemandTodo), tasks.matching),
    () => `live query: ${show(ids(onDemandTodo))}, lastSubsetError: ${show(onDemandTodo.utils?.lastSubsetError)}`
  )
  checkEqual(ids(onDemand), sorted(tasks.matching), 'on-demand: the collection loaded only the rows the query matches')
  {
    // The stream starts from `now`; the live query's snapshot request may be the first to go
    // out (cold start: no handle yet), and the stream then goes on from its handle and offset.
    const first = requestsOf('tanstack-on-demand')[0]
    checkEqual(first.url.searchParams.get('log'), 'changes_only', 'on-demand: log mode of the stream')
    checkEqual(first.url.searchParams.get('offset'), 'now', 'on-demand: offset of the first request')
    check(
      requestsOf('tanstack-on-demand').some((r) => !isSubset(r.url) && r.url.searchParams.get('handle') === first.handle),
      `on-demand: the stream goes on with the handle of its first reply (${first.handle})`
    )
    checkStatusSubset(subsetRequestsOf('tanstack-on-demand')[0], status, 'on-demand: the live query subset')
    checkEqual(subsetRequestsOf('tanstack-on-demand')[0].url.searchParams.get('log'), 'changes_only', 'on-demand: log of the subset request')
  }
  log(`on-demand: ${onDemand.size} rows loaded for status = ${status}`)

  // progressive: the query's subset first; the full sync is held back until that is seen.
  setPhase('tanstack-progressive')
  let releaseFullSync
  const fullSyncHeld = new Promise((resolve) => {
    releaseFullSync = resolve
  })
  const progressive = tasksCollection('tanstack-progressive', 'progressive', (url) =>
    isSubset(url) ? undefined : fullSyncHeld
  )
  const progressiveTodo = withStatus(progressive, status)
  const progressiveLoaded = progressiveTodo.preload()
  await waitFor(
    'the progressive collection to show the subset snapshot while its full sync is held back',
    () => isDeepEqualSorted(ids(progressive), tasks.matching),
    () =>
      `collection: ${show(ids(progressive))} (${progressive.status}), requests: ` +
      show(requestsOf('tanstack-progressive').map((r) => [r.method, r.status ?? (r.held ? 'held' : 'pending'), r.url.search]))
  )
  check(progressive.status !== 'ready', `progressive: not ready before its full sync, status ${progressive.status}`)
  check(
    requestsOf('tanstack-progressive').some((r) => r.held && r.status === undefined),
    'progressive: the full sync was still held back while the subset showed'
  )
  {
    const request = subsetRequestsOf('tanstack-progressive')[0]
    checkStatusSubset(request, status, 'progressive: the live query subset (fetchSnapshot while buffering)')
    checkEqual(request.url.searchParams.get('log'), 'full', 'progressive: log of the subset request')
  }
  releaseFullSync()
  await within(WAIT_MS, progressiveLoaded, 'the progressive live query to be ready after the full sync')
  await waitFor(
    'the progressive collection to be ready with the whole shape',
    () => progressive.status === 'ready' && isDeepEqualSorted(ids(progressive), tasks.all),
    () => `collection: ${progressive.size} rows (${progressive.status})`
  )
  checkEqual(ids(progressiveTodo), sorted(tasks.matching), 'progressive: rows of the live query')
  log(`progressive: ${progressive.size} rows after the full sync`)

  // Live changes reach every mode.
  const after = await handshake('tanstack-live')
  const renamedIn = (collection) => collection.toArray.find((row) => row.id === after.renamed.id)?.title === after.renamed.title
  await waitFor(
    'the live changes in every collection and live query',
    () =>
      isDeepEqualSorted(ids(eager), after.all) &&
      isDeepEqualSorted(ids(onDemandTodo), after.matching) &&
      isDeepEqualSorted(ids(progressive), after.all) &&
      isDeepEqualSorted(ids(progressiveTodo), after.matching) &&
      renamedIn(eager) &&
      renamedIn(onDemandTodo) &&
      renamedIn(progressiveTodo),
    () =>
      `eager ${eager.size}/${after.all.length}, on-demand query ${show(ids(onDemandTodo))}, ` +
      `progressive ${progressive.size}/${after.all.length}, progressive query ${show(ids(progressiveTodo))}, ` +
      `want ${show(sorted(after.matching))}`
  )
  {
    check(ids(onDemand).includes(after.inserted_other), 'on-demand: a live insert outside the query still reaches the collection (the stream carries the whole shape)')
    for (const name of ['tanstack-eager', 'tanstack-on-demand', 'tanstack-progressive']) {
      check(!requestsOf(name).some((r) => r.status === 409), `${name}: no 409`)
    }
  }
  log('live changes reached every collection')

  await finish()
}

main().catch(fail)
