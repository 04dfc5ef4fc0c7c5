/**
 * One-way notes from a worker lane to the main thread, on the same port as the comlink calls.
 *
 * A comlink call is a request and a reply: two messages, a UUID, a proxy trap and a promise per call,
 * and the worker waits a main-thread turn for the reply. A test that started, or one that passed, needs
 * no answer, so the worker posts it as a note and goes on to its next claim. The port keeps the order
 * of everything sent on it and the main thread handles each message in turn, so any comlink call made
 * after some notes (a failed test's report, the lane's closing `flush`) is answered only after every
 * earlier note has been recorded: that reply is the barrier the worker waits on where it needs one.
 */
import type { Endpoint } from 'comlink'
import type { MessagePort } from 'node:worker_threads'
import type { EndMessage, StartMessage } from './protocol.js'

export type LaneNote =
  | { note: 'started'; report: StartMessage }
  | { note: 'finished'; report: EndMessage }
  /** A test that ended before its start was told: both at once. */
  | { note: 'ran'; start: StartMessage; report: EndMessage }
  /** Notes queued in a worker and posted together (NoteQueue). */
  | { note: 'batch'; notes: LaneNote[] }

const isNote = (data: unknown): data is LaneNote =>
  typeof data === 'object' && data !== null && typeof (data as { note?: unknown }).note === 'string'

/**
 * Worker side: notes are queued and posted together, in order, as one message: a postMessage and
 * the main thread's wake-up for it cost more than recording a passed test. The lane flushes the
 * queue on a short tick, before every comlink call (so the call still comes after them), and
 * before it blocks waiting for work (the main thread marks a slot done only once it has the note).
 */
export class NoteQueue {
  private queued: LaneNote[] = []

  constructor(private readonly port: MessagePort) {}

  add(note: LaneNote): void {
    this.queued.push(note)
  }

  flush(): void {
    const notes = this.queued
    if (notes.length === 0) return
    this.queued = []
    this.port.postMessage(notes.length === 1 ? notes[0] : { note: 'batch', notes })
  }
}

/**
 * Main side: the endpoint comlink's `expose` listens on, with the notes taken out and handed to
 * `onNote` (synchronously, in arrival order, like the calls around them).
 */
type Listener = Parameters<Endpoint['addEventListener']>[1]
type Handler = (ev: { data: unknown }) => void

export function withNotes(endpoint: Endpoint, onNote: (note: LaneNote) => void): Endpoint {
  const wrapped = new WeakMap<object, Listener>()
  return {
    postMessage: endpoint.postMessage.bind(endpoint),
    addEventListener(type, listener) {
      const forward = (typeof listener === 'function' ? listener : listener.handleEvent.bind(listener)) as unknown as Handler
      const filtered = ((ev: { data: unknown }): void => {
        if (isNote(ev.data)) onNote(ev.data)
        else forward(ev)
      }) as unknown as Listener
      wrapped.set(listener, filtered)
      endpoint.addEventListener(type, filtered)
    },
    removeEventListener(type, listener) {
      const filtered = wrapped.get(listener)
      if (filtered) endpoint.removeEventListener(type, filtered)
      wrapped.delete(listener)
    },
    ...(endpoint.start ? { start: endpoint.start.bind(endpoint) } : {}),
  }
}
