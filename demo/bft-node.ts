/**
 * One member of the demo's Byzantine cluster, in its own tab (demo/bft.html, opened four at a
 * time by the opener's "Open a BFT cluster"): a node of `createNode({ protocol: 'bft' })`, PBFT
 * with N = 4 (F = 1) over BroadcastChannel or WebRTC as the URL says, with the demo's secret.
 *
 * - Shows where its replica stands: view, primary, last executed seq, stable checkpoint, the
 *   primaries it voted out (`suspected`) and the SHA-256 of its key-value state (`stateDigest`
 *   at `stateSeq`).
 * - A per-tab switch makes this tab LIE (`node.bft.setByzantine`: the fault injector of
 *   src/runtime/bft-fault-injector.ts, for tests and demos only): equivocate, forge, go silent.
 *   One liar of four is within F: the other tabs change view away from a lying primary and keep
 *   executing, and their state digests stay equal. Two liars are beyond F: nothing promises
 *   anything (try it).
 * - Every tab publishes a report of itself on the demo's BroadcastChannel (display data only,
 *   never protocol traffic); each tab lists them all and says whether the honest ones agree:
 *   `agree` when they stand at one seq with one digest, `catching up` while their seqs differ,
 *   `DIVERGED` if two honest tabs at one seq hold different states (that would be a bug).
 * - Propose: a key-value write, answered after F + 1 matching replies; the keys written from
 *   any tab are read back here through the read-only path (2F + 1 matching replies).
 */
import { createNode, type BftByzantineMode, type BftNodeStatus, type KvNode } from '../src/client/index.ts';
import { byId, el, fetchServerConfig, type DemoTransport } from './shared.ts';

const bftIds = ['n1', 'n2', 'n3', 'n4'] as const;
const statusPollMs = 250;
const reportIntervalMs = 300;
/** A tab that has not reported for this long is shown as gone. */
const silentAfterMs = 2_000;
const readIntervalMs = 1_000;
const keysShownMax = 20;
const timelineEntriesMax = 60;
const pageStartMs = performance.now();

/** What a BFT tab publishes about itself. */
interface BftReport {
  readonly id: string;
  readonly byzantine: BftByzantineMode;
  readonly view: number;
  readonly primary: string;
  readonly stateSeq: number;
  readonly stateDigest: string;
  /** Keys this tab wrote (the last few), so every tab can read them all back. */
  readonly keys: readonly string[];
}

type Verdict = 'agree' | 'catching up' | 'DIVERGED' | '–';

function channelName(cluster: string): string {
  return `peerquorum-demo-bft/${cluster}`;
}

function describe(e: unknown): string {
  const code = typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : 'ERROR';
  return `${code}: ${e instanceof Error ? e.message : String(e)}`;
}

function parse(): { cluster: string; id: string; transport: DemoTransport } {
  const p = new URLSearchParams(location.search);
  const cluster = p.get('cluster');
  const id = p.get('id');
  const transport = p.get('transport') ?? 'broadcast';
  if (cluster === null || cluster.length === 0) throw new Error('the URL names no cluster: open BFT tabs from the opener page');
  if (id === null || !(bftIds as readonly string[]).includes(id)) throw new Error(`the URL must name one of ${bftIds.join(', ')} as id`);
  if (transport !== 'broadcast' && transport !== 'webrtc') throw new Error(`transport must be broadcast or webrtc, got ${transport}`);
  return { cluster, id, transport };
}

/** The honest reports' verdict (see the header). */
function verdictOf(reports: readonly BftReport[]): Verdict {
  const honest = reports.filter((r) => r.byzantine === 'honest');
  if (honest.length === 0) return '–';
  const bySeq = new Map<number, string>();
  for (const r of honest) {
    const seen = bySeq.get(r.stateSeq);
    if (seen !== undefined && seen !== r.stateDigest) return 'DIVERGED';
    bySeq.set(r.stateSeq, r.stateDigest);
  }
  return bySeq.size === 1 ? 'agree' : 'catching up';
}

const short = (digest: string): string => digest.slice(0, 12);

let node: KvNode | null = null;
let status: BftNodeStatus | null = null;
const reports = new Map<string, { report: BftReport; atMs: number }>();
const myKeys: string[] = [];
const values = new Map<string, string>();
let lastView = 0;

function notice(text: string): void {
  byId('bft-notice').textContent = text;
}

function addTimeline(kind: 'election' | 'leader' | 'chaos' | 'membership', text: string): void {
  const list = byId('bft-timeline');
  const seconds = ((performance.now() - pageStartMs) / 1000).toFixed(1);
  list.prepend(el('li', { className: `tl-${kind}` }, [el('span', { className: 'tl-time', text: `+${seconds} s` }), el('span', { text })]));
  while (list.children.length > timelineEntriesMax) list.lastElementChild?.remove();
}

function myReport(id: string): BftReport | null {
  const s = status;
  if (s === null) return null;
  return { id, byzantine: s.byzantine, view: s.view, primary: s.primary, stateSeq: s.stateSeq, stateDigest: s.stateDigest, keys: myKeys.slice(-keysShownMax) };
}

function freshReports(): BftReport[] {
  const nowMs = performance.now();
  return [...reports.values()].filter((r) => nowMs - r.atMs <= silentAfterMs).map((r) => r.report);
}

function renderStatus(): void {
  const s = status;
  if (s === null) return;
  byId('bft-view').textContent = `${s.view}${s.viewChanging ? ' (changing)' : ''}`;
  byId('bft-primary').textContent = s.primary;
  byId('bft-seq').textContent = String(s.lastExecutedSeq);
  byId('bft-stable').textContent = String(s.stableSeq);
  byId('bft-suspected').textContent = s.suspected.length === 0 ? 'none' : [...new Set(s.suspected)].join(', ');
  byId('bft-state').textContent = `${short(s.stateDigest)} @ ${s.stateSeq}`;
  byId<HTMLSelectElement>('bft-byzantine').value = s.byzantine;
  document.title = `${s.byzantine === 'honest' ? '' : `${s.byzantine} · `}view ${s.view} · peerquorum BFT`;
}

function renderTabs(): void {
  const nowMs = performance.now();
  const rows = bftIds.map((id) => {
    const entry = reports.get(id);
    const row = el('tr', { className: 'member', testId: 'bft-tab-row' });
    row.dataset['node'] = id;
    if (entry === undefined || nowMs - entry.atMs > silentAfterMs) {
      row.append(el('td', { text: id }), el('td', { text: entry === undefined ? 'no report yet' : 'gone', testId: 'bft-tab-mode' }), el('td'), el('td'), el('td'), el('td'));
      return row;
    }
    const r = entry.report;
    row.classList.toggle('member-suspect', r.byzantine !== 'honest');
    row.append(
      el('td', { text: r.id === status?.primary ? `${r.id} (primary)` : r.id }),
      el('td', { text: r.byzantine, testId: 'bft-tab-mode' }),
      el('td', { text: String(r.view), testId: 'bft-tab-view' }),
      el('td', { text: r.primary }),
      el('td', { text: String(r.stateSeq), testId: 'bft-tab-seq' }),
      el('td', { text: short(r.stateDigest), testId: 'bft-tab-digest' }),
    );
    return row;
  });
  byId('bft-tabs-body').replaceChildren(...rows);
  const verdict = verdictOf(freshReports());
  const v = byId('bft-agreement');
  v.textContent = verdict;
  v.className = `verdict verdict-${verdict === 'DIVERGED' ? 'diverged' : verdict === 'agree' ? 'agree' : 'pending'}`;
  v.title = 'Over the honest tabs only: a lying tab executes like the others, but it is not counted.';
}

function renderKv(): void {
  const keys = [...values.keys()].sort();
  byId('bft-kv').replaceChildren(...keys.map((k) => el('li', { className: 'item', testId: 'bft-kv-item' }, [el('span', { className: 'item-text', text: `${k} = ${values.get(k) ?? ''}` })])));
}

async function refresh(id: string, channel: BroadcastChannel): Promise<void> {
  const n = node;
  if (n === null) return;
  try {
    const s = (await n.status()).bft ?? null;
    if (s === null) return;
    status = s;
    if (s.view > lastView) {
      addTimeline('leader', `entered view ${s.view}: primary ${s.primary}${s.suspected.length > 0 ? `, voted out ${s.suspected[s.suspected.length - 1] ?? ''}` : ''}`);
      lastView = s.view;
    }
  } catch (e) {
    byId('bft-error').hidden = false;
    byId('bft-error').textContent = describe(e);
    return;
  }
  const r = myReport(id);
  if (r !== null) {
    reports.set(id, { report: r, atMs: performance.now() });
    channel.postMessage(r);
  }
  renderStatus();
  renderTabs();
}

let reading = false;
/** Read every key any tab wrote, through the read-only path (2F + 1 matching replies). */
async function readKeys(): Promise<void> {
  const n = node;
  if (n === null || reading) return;
  reading = true;
  try {
    const keys = new Set<string>();
    for (const r of freshReports()) for (const k of r.keys) keys.add(k);
    for (const k of [...keys].sort().slice(0, keysShownMax)) {
      const v = await n.read(k).catch(() => null);
      if (typeof v === 'string') values.set(k, v);
    }
    renderKv();
  } finally {
    reading = false;
  }
}

function wireControls(n: KvNode, id: string): void {
  const mode = byId<HTMLSelectElement>('bft-byzantine');
  mode.disabled = false;
  mode.addEventListener('change', () => {
    const next = mode.value as BftByzantineMode;
    void n.bft.setByzantine(next).then(
      () => addTimeline('chaos', next === 'honest' ? 'this tab is honest again' : `this tab now lies: ${next}`),
      (e: unknown) => notice(`the switch failed: ${describe(e)}`),
    );
  });
  for (const x of ['bft-key', 'bft-value', 'bft-propose']) byId<HTMLInputElement>(x).disabled = false;
  byId('bft-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const key = byId<HTMLInputElement>('bft-key').value.trim() || `${id}-${myKeys.length + 1}`;
    const value = byId<HTMLInputElement>('bft-value').value.trim() || new Date().toLocaleTimeString();
    if (!myKeys.includes(key)) myKeys.push(key);
    if (myKeys.length > keysShownMax) myKeys.shift();
    const startMs = performance.now();
    notice(`proposing ${key} = ${value}…`);
    void n.propose({ op: 'write', key, value }).then(
      () => {
        notice(`${key} = ${value} executed (${(performance.now() - startMs).toFixed(0)} ms)`);
        addTimeline('membership', `proposed ${key} = ${value}`);
        values.set(key, value);
        renderKv();
      },
      (err: unknown) => notice(`${key} failed: ${describe(err)} (a timed-out write may still execute)`),
    );
  });
}

async function start(): Promise<void> {
  let spec: ReturnType<typeof parse>;
  try {
    spec = parse();
  } catch (e) {
    byId('bft-error').hidden = false;
    byId('bft-error').textContent = e instanceof Error ? e.message : String(e);
    return;
  }
  const { cluster, id, transport } = spec;
  byId('bft-node-id').textContent = id;
  byId('bft-cluster-line').textContent = `cluster ${cluster} · PBFT, N = 4, F = 1 · ${transport === 'broadcast' ? 'BroadcastChannel' : 'WebRTC'}`;
  const channel = new BroadcastChannel(channelName(cluster));
  channel.addEventListener('message', (e: MessageEvent<BftReport>) => {
    if ((bftIds as readonly string[]).includes(e.data.id) && e.data.id !== id) reports.set(e.data.id, { report: e.data, atMs: performance.now() });
  });
  try {
    const config = await fetchServerConfig();
    const n = await createNode({
      protocol: 'bft',
      cluster,
      id,
      peers: [...bftIds],
      transport,
      secret: config.secret,
      signaling: { host: location.hostname, port: config.signaling.port, path: config.signaling.path, key: config.signaling.key, secure: location.protocol === 'https:' },
      proposalTimeoutMs: 30_000,
    });
    node = n;
    n.on('bft-view-change-started', (e) => addTimeline('election', `asked for view ${e.view} (${e.reason})`));
    wireControls(n, id);
    addTimeline('membership', `started as ${id}`);
  } catch (e) {
    byId('bft-error').hidden = false;
    byId('bft-error').textContent = `The node did not start: ${describe(e)}`;
    return;
  }
  setInterval(() => void refresh(id, channel), Math.min(statusPollMs, reportIntervalMs));
  setInterval(() => void readKeys(), readIntervalMs);
  setInterval(renderTabs, reportIntervalMs);
  await refresh(id, channel);
}

void start();
