/**
 * The demo's opener page (demo/index.html, what `npm start` serves): choose a cluster size and a
 * transport, open one tab per node (`window.open`, each tab's URL naming the cluster, its size,
 * the transport and the node id), open more tabs beyond the size (they take a free id, or join
 * as learners), and watch every node side by side. The cards are fed by the reports the node
 * tabs publish on the demo's BroadcastChannel; a node that stops reporting is shown as silent.
 *
 * The cluster being watched is kept in this page's URL, so a reload keeps watching it.
 *
 * "Open a BFT cluster" opens four tabs of demo/bft.html (bft-node.ts: PBFT, N = 4, F = 1, a
 * per-tab switch that makes the tab lie) over the chosen transport; those tabs show each other
 * on a channel of their own, not on the cards here.
 */
import {
  byId,
  clusterIds,
  clusterSizes,
  demoChannelName,
  el,
  nodeUrl,
  parseSpec,
  type ClusterSize,
  type ClusterSpec,
  type DemoMessage,
  type DemoTransport,
  type NodeReport,
} from './shared.ts';

/** A node that has not reported for this long is shown as silent (its tab is gone or frozen). */
const silentAfterMs = 2_000;
const renderIntervalMs = 250;

let spec: ClusterSpec | null = null;
let channel: BroadcastChannel | null = null;
const reports = new Map<string, { report: NodeReport; atMs: number }>();
let extraTabs = 0;

function notice(text: string): void {
  byId('opener-notice').textContent = text;
}

function freshClusterName(): string {
  const words = new Uint32Array(1);
  crypto.getRandomValues(words);
  return `demo-${(words[0] as number).toString(36)}`;
}

function openTab(url: string, name: string): boolean {
  return window.open(url, name) !== null;
}

function watch(next: ClusterSpec): void {
  spec = next;
  channel?.close();
  reports.clear();
  channel = new BroadcastChannel(demoChannelName(next.cluster));
  channel.addEventListener('message', (e: MessageEvent<DemoMessage>) => {
    if (e.data.type === 'report') reports.set(e.data.report.id, { report: e.data.report, atMs: performance.now() });
  });
  const hello: DemoMessage = { type: 'hello' };
  channel.postMessage(hello);
  const url = new URL(location.href);
  url.search = new URLSearchParams({ cluster: next.cluster, size: String(next.size), transport: next.transport }).toString();
  history.replaceState(null, '', url);
  byId('cluster').hidden = false;
  byId('cluster-title').textContent = `Cluster ${next.cluster}: started with ${next.size} voters, over ${next.transport === 'broadcast' ? 'BroadcastChannel' : 'WebRTC'}`;
  const links = byId('tab-links');
  links.replaceChildren(
    el('span', { text: 'Tabs: ' }),
    ...clusterIds(next.size).map((id) => {
      const a = el('a', { text: id });
      a.href = nodeUrl(next, id);
      a.target = tabName(next, id);
      return a;
    }),
  );
  (byId('open-tab') as HTMLButtonElement).disabled = false;
  render();
}

function tabName(s: ClusterSpec, id: string): string {
  return `peerquorum-${s.cluster}-${id}`;
}

function openCluster(): void {
  const size = Number(byId<HTMLSelectElement>('cluster-size').value) as ClusterSize;
  const transport = byId<HTMLSelectElement>('transport').value as DemoTransport;
  if (!clusterSizes.includes(size)) return;
  const next: ClusterSpec = { cluster: freshClusterName(), size, transport };
  watch(next);
  const blocked = clusterIds(size).filter((id) => !openTab(nodeUrl(next, id), tabName(next, id)));
  notice(
    blocked.length === 0
      ? `Opened ${size} tabs. Switch between them, or watch them all here.`
      : `The browser blocked ${blocked.length} of the ${size} tabs (${blocked.join(', ')}): allow pop-ups for this page and open the cluster again, or click the tab links below.`,
  );
}

function openBftCluster(): void {
  const transport = byId<HTMLSelectElement>('transport').value as DemoTransport;
  const cluster = `bft-${freshClusterName()}`;
  const ids = ['n1', 'n2', 'n3', 'n4'];
  const url = (id: string): string => new URL(`bft.html?${new URLSearchParams({ cluster, id, transport })}`, location.href).href;
  const blocked = ids.filter((id) => !openTab(url(id), `peerquorum-${cluster}-${id}`));
  const links = byId('tab-links');
  links.replaceChildren(
    el('span', { text: `BFT cluster ${cluster}: ` }),
    ...ids.map((id) => {
      const a = el('a', { text: id });
      a.href = url(id);
      a.target = `peerquorum-${cluster}-${id}`;
      return a;
    }),
  );
  byId('cluster').hidden = false;
  notice(blocked.length === 0 ? 'Opened 4 BFT tabs: make one lie (its switch), propose from another, and watch the views and the agreement.' : `The browser blocked ${blocked.join(', ')}: allow pop-ups, or use the links below.`);
}

function openOneMore(): void {
  if (spec === null) return;
  extraTabs++;
  if (!openTab(nodeUrl(spec), `peerquorum-${spec.cluster}-extra-${extraTabs}`)) notice('The browser blocked the new tab: allow pop-ups for this page.');
}

// ---- the cards --------------------------------------------------------------------------------

function fact(name: string, value: string, testId?: string): HTMLElement {
  return el('div', { className: 'fact' }, [el('span', { className: 'label', text: name }), el('span', { text: value, ...(testId === undefined ? {} : { testId }) })]);
}

function card(id: string, entry: { report: NodeReport; atMs: number } | undefined, nowMs: number): HTMLElement {
  const c = el('article', { className: 'card', testId: 'node-card' });
  c.dataset['node'] = id;
  if (entry === undefined) {
    c.classList.add('card-silent');
    c.append(el('h3', { text: id }), el('p', { className: 'muted', text: 'no report yet' }));
    return c;
  }
  const r = entry.report;
  const silent = nowMs - entry.atMs > silentAfterMs && r.state !== 'dead' && r.state !== 'closed';
  const shown = silent ? 'silent' : r.state === 'running' ? (r.role ?? 'starting') : r.state;
  c.classList.add(`card-${shown}`);
  c.append(
    el('h3', {}, [el('span', { text: r.id }), el('span', { className: `role role-${shown}`, text: shown, testId: 'card-role' })]),
    fact('term', String(r.term)),
    fact('leader', r.leader ?? 'none'),
    fact('commit', String(r.commit), 'card-commit'),
    fact('applied', String(r.applied)),
    fact('commits/s', r.commitsPerSec.toFixed(1)),
    fact('board items', String(r.items)),
    fact('voters', r.voters.join(', ') || '–'),
    fact('learners', r.learners.join(', ') || '–'),
    el(
      'ul',
      { className: 'links' },
      Object.entries(r.links).map(([peer, s]) => el('li', { className: `link link-${s}` }, [el('span', { text: peer }), el('span', { className: 'link-state', text: s === 'open' && r.slowMs > 0 ? `open, +${r.slowMs} ms` : s })])),
    ),
  );
  if (r.error !== null) c.append(el('p', { className: 'error', text: r.error }));
  return c;
}

function render(): void {
  if (spec === null) return;
  const nowMs = performance.now();
  const ids = new Set(clusterIds(spec.size));
  for (const id of reports.keys()) ids.add(id);
  const sorted = [...ids].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  byId('cards').replaceChildren(...sorted.map((id) => card(id, reports.get(id), nowMs)));
}

function start(): void {
  byId('open-form').addEventListener('submit', (e) => {
    e.preventDefault();
    openCluster();
  });
  byId('open-tab').addEventListener('click', openOneMore);
  byId('open-bft-cluster').addEventListener('click', openBftCluster);
  if (location.search.length > 0) {
    try {
      const s = parseSpec(location.search);
      byId<HTMLSelectElement>('cluster-size').value = String(s.size);
      byId<HTMLSelectElement>('transport').value = s.transport;
      watch(s);
    } catch (e) {
      notice(e instanceof Error ? e.message : String(e));
    }
  }
  setInterval(render, renderIntervalMs);
}

start();
