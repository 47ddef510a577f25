/**
 * The Yjs page of the crdt-browser benchmark (bench/crdt-browser.ts): `window.crdtBench` holds a
 * `Y.Doc` shared over y-webrtc (its own signaling server, run by the bench on 127.0.0.1; no ICE
 * servers) and times, on the same clock as the peerquorum page
 * (`performance.timeOrigin + performance.now()`), when each map key is set here and when each
 * key set elsewhere first shows up here (a `Y.Map` observer: what an app would render from).
 */
import * as Y from 'yjs';
import { WebrtcProvider } from 'y-webrtc';

type Answer<T> = { ok: true; value: T } | { ok: false; error: string };

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let doc: Y.Doc | null = null;
let provider: WebrtcProvider | null = null;
let map: Y.Map<number> | null = null;
const seen = new Map<string, number>();

async function answer<T>(f: () => Promise<T> | T): Promise<Answer<T>> {
  try {
    return { ok: true, value: await f() };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}

function running(): Y.Map<number> {
  if (map === null) throw new Error('no document: call start first');
  return map;
}

const bench = {
  start: (options: { room: string; signaling: string[] }) =>
    answer(() => {
      doc = new Y.Doc();
      map = doc.getMap<number>('bench');
      map.observe((event) => {
        const at = now();
        for (const key of event.keysChanged) if (!seen.has(key)) seen.set(key, at);
      });
      provider = new WebrtcProvider(options.room, doc, { signaling: options.signaling, peerOpts: { config: { iceServers: [] } } });
      return String(doc.clientID);
    }),
  /** WebRTC peers connected to this page. */
  status: () =>
    answer(() => {
      const conns = provider?.room?.webrtcConns;
      const connected = conns === undefined ? 0 : [...conns.values()].filter((c) => c.connected && c.synced).length;
      return { connected };
    }),
  /** Sets `${prefix}i` = i, `count` keys `gapMs` apart (on a schedule); answers the send times. */
  writeCrdt: (prefix: string, count: number, gapMs: number) =>
    answer(async () => {
      const m = running();
      const sent: number[] = [];
      const t0 = now();
      for (let i = 0; i < count; i++) {
        const wait = t0 + i * gapMs - now();
        if (wait > 0) await sleep(wait);
        sent.push(now());
        m.set(`${prefix}${i}`, i);
      }
      return sent;
    }),
  seenCrdt: (prefix: string, count: number) => answer(() => Array.from({ length: count }, (_, i) => seen.get(`${prefix}${i}`) ?? null)),
  close: () =>
    answer(() => {
      provider?.destroy();
      doc?.destroy();
      provider = null;
      doc = null;
      map = null;
    }),
};

(window as unknown as { crdtBench: typeof bench }).crdtBench = bench;
