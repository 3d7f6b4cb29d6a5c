// Subquery shapes with the official clients: the tasks of every organization a user belongs to,
// `organization_id IN (SELECT organization_id FROM organization_members WHERE user_id = $1)`.
// Rows carry `headers.tags`; a new membership moves the organization's tasks in (as inserts
// with tags), a removed one moves them out (a `move-out` event whose patterns name the tags),
// all without a 409. Followed twice: by a plain ShapeStream materialized here (the Shape class
// ignores move-out events, so this script applies them: a row goes when a pattern has removed
// all its tags) and by TanStack DB's Electric collection, which applies them itself. Driven by
// tests/integration/sync/conformance_subqueries.rs (handshake and helpers: harness.mjs).
//
// Environment (besides harness.mjs's):
//   USER_ID   the user whose organizations' tasks the shape follows

import { createCollection } from '@tanstack/db'
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
  openStream,
  recordStreamError,
  recordingFetch,
  requests,
  requiredEnv,
  setPhase,
  show,
  waitFor,
  within,
} from './harness.mjs'

const USER = requiredEnv('USER_ID')

const SHAPE = {
  table: 'tasks',
  where: 'organization_id IN (SELECT organization_id FROM organization_members WHERE user_id = $1)',
  params: [USER],
}

/** Whether a tag (positions separated by `/`) holds `value` at `pos`. */
function tagMatches(tag, { pos, value }) {
  return tag.split('/')[pos] === value
}

/** Rows by key with the tags that hold each in the shape; move-outs applied. */
class TaggedRows {
  rows = new Map()
  /** Ids of the rows move-out events removed, in order. */
  movedOut = []

  apply(message) {
    const headers = message.headers ?? {}
    if (headers.operation === 'delete') {
      this.rows.delete(message.key)
    } else if (headers.operation) {
      const existing = headers.operation === 'insert' ? undefined : this.rows.get(message.key)
      const tags = new Set(existing?.tags ?? [])
      for (const tag of headers.tags ?? []) tags.add(tag)
      for (const tag of headers.removed_tags ?? []) tags.delete(tag)
      this.rows.set(message.key, { value: { ...existing?.value, ...message.value }, tags })
    } else if (headers.event === 'move-out') {
      for (const [key, row] of this.rows) {
        for (const tag of [...row.tags]) {
          if (headers.patterns.some((pattern) => tagMatches(tag, pattern))) row.tags.delete(tag)
        }
        if (row.tags.size === 0) {
          this.rows.delete(key)
          this.movedOut.push(row.value.id)
        }
      }
    } else if (headers.control === 'must-refetch') {
      this.rows.clear()
    }
  }

  ids() {
    return [...this.rows.values()].map((row) => row.value.id).sort()
  }

  get(id) {
    return [...this.rows.values()].find((row) => row.value.id === id)
  }
}

async function main() {
  setPhase('subquery-start')
  const sub = openStream('subquery', SHAPE)
  const materialized = new TaggedRows()
  sub.stream.subscribe((batch) => batch.forEach((message) => materialized.apply(message)))

  const collection = createCollection(
    electricCollectionOptions({
      id: 'tanstack-subquery',
      shapeOptions: {
        url: SHAPE_URL,
        params: SHAPE,
        fetchClient: recordingFetch('tanstack-subquery'),
        onError: recordStreamError('tanstack-subquery'),
      },
      getKey: (row) => row.id,
      syncMode: 'eager',
    })
  )
  atExit(() => collection.cleanup())
  const collectionIds = () => collection.toArray.map((row) => row.id).sort()

  const follows = (want) => () =>
    isDeepEqualSorted(materialized.ids(), want) && isDeepEqualSorted(collectionIds(), want)
  const describe = (want) => () =>
    `materialized: ${show(materialized.ids())}, collection: ${show(collectionIds())}, want: ${show([...want].sort())}`
  const changesOf = (ids, from = 0) =>
    sub.messages.slice(from).filter((m) => m.headers?.operation && ids.includes(m.value?.id))

  await waitFor('the subquery shape to be up to date', () => sub.controls('up-to-date').length > 0)
  await within(WAIT_MS, collection.preload(), 'the TanStack DB collection of the subquery shape to load')

  // The snapshot: the tasks of the organization the user already belongs to, each with tags.
  const snapshot = await handshake('subquery-snapshot')
  await waitFor('the snapshot of the subquery shape', follows(snapshot.ids), describe(snapshot.ids))
  for (const change of sub.changes()) {
    check(
      Array.isArray(change.headers.tags) && change.headers.tags.length > 0 && change.headers.tags.every((t) => typeof t === 'string'),
      `a row of a subquery shape carries headers.tags (strings): ${show(change.headers)}`
    )
  }
  const tagsOf = (ids) => new Set(ids.flatMap((id) => [...(materialized.get(id)?.tags ?? [])]))
  log(`snapshot: ${snapshot.ids.length} rows, tags ${show([...tagsOf(snapshot.ids)])}`)

  // A new membership moves the other organization's tasks in, as inserts with tags.
  let mark = sub.messages.length
  const moveIn = await handshake('move-in')
  await waitFor('the rows moved in by the new membership', follows(moveIn.ids), describe(moveIn.ids))
  {
    const arrived = changesOf(moveIn.moved_in, mark)
    checkEqual(
      [...new Set(arrived.map((m) => m.value.id))].sort(),
      [...moveIn.moved_in].sort(),
      'rows that moved in'
    )
    for (const change of arrived) {
      checkEqual(change.headers.operation, 'insert', `operation of the moved-in row ${change.value.id}`)
      check(change.headers.tags?.length > 0, `the moved-in row ${change.value.id} carries tags: ${show(change.headers)}`)
    }
    const shared = [...tagsOf(moveIn.moved_in)].filter((tag) => tagsOf(snapshot.ids).has(tag))
    checkEqual(shared, [], 'tags the moved-in rows share with the rows of the other organization')
  }
  log(`move-in: ${moveIn.moved_in.length} rows, tags ${show([...tagsOf(moveIn.moved_in)])}`)

  // Live changes under the subquery: an insert and an update in member organizations show; an
  // insert in an organization the user is not in does not.
  const live = await handshake('subquery-live')
  await waitFor(
    'the live changes under the subquery',
    // The TanStack DB collection follows its own stream: it is waited for too, not raced.
    () =>
      follows(live.ids)() &&
      materialized.get(live.renamed.id)?.value.title === live.renamed.title &&
      collection.get(live.renamed.id)?.title === live.renamed.title,
    describe(live.ids)
  )
  check(!sub.changes().some((m) => m.value?.id === live.outsider), 'a task of an organization the user is not in never reaches the stream')
  check(changesOf([live.inserted])[0]?.headers.tags?.length > 0, 'the live insert carries tags')
  checkEqual(collection.get(live.renamed.id)?.title, live.renamed.title, 'the rename in the TanStack DB collection')

  // The membership goes: its organization's tasks move out through a move-out event.
  mark = sub.messages.length
  const movedOutBefore = materialized.movedOut.length
  const moveOut = await handshake('move-out')
  await waitFor('the rows moved out by the removed membership', follows(moveOut.ids), describe(moveOut.ids))
  {
    const events = sub.events('move-out').filter((m) => sub.messages.indexOf(m) >= mark)
    check(events.length > 0, `a move-out event after the membership went: ${show(sub.messages.slice(mark).map((m) => m.headers))}`)
    for (const event of events) {
      check(
        Array.isArray(event.headers.patterns) &&
          event.headers.patterns.length > 0 &&
          event.headers.patterns.every((p) => Number.isInteger(p.pos) && typeof p.value === 'string'),
        `move-out patterns are [{pos, value}]: ${show(event.headers)}`
      )
    }
    checkEqual(
      materialized.movedOut.slice(movedOutBefore).sort(),
      [...moveOut.moved_out].sort(),
      'rows the move-out event removed (by their tags)'
    )
    checkEqual(
      changesOf(moveOut.moved_out, mark).map((m) => `${m.headers.operation}:${m.value.id}`),
      [],
      'change messages for the moved-out rows (they leave through the move-out event)'
    )
  }
  log(`move-out: ${moveOut.moved_out.length} rows`)

  // And back in.
  const again = await handshake('move-in-again')
  await waitFor('the rows moved in again', follows(again.ids), describe(again.ids))

  // Moves never retire the shape.
  checkEqual(sub.controls('must-refetch').length, 0, 'must-refetch messages on the subquery stream')
  for (const name of ['subquery', 'tanstack-subquery']) {
    const conflicts = requests.filter((r) => r.stream === name && r.status === 409)
    checkEqual(conflicts.length, 0, `409 replies to ${name}`)
  }
  check(
    new Set(requests.filter((r) => r.stream === 'subquery' && r.handle).map((r) => r.handle)).size === 1,
    'the subquery stream kept one handle throughout'
  )
  log('moves in and out followed without a refetch')

  await finish()
}

main().catch(fail)
