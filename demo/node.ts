/**
 * One node of the demo cluster, in its own tab (demo/node.html, opened by the opener page):
 *
 * - runs a peerquorum node (`createNode`) with the board's state machine, over
 *   BroadcastChannel or WebRTC as the URL says, with the node id the URL names (or a free one,
 *   or, when all are taken, a fresh one joining as a learner, which the leader promotes);
 * - shows its id, role, term, leader, commit and applied index, commits per second, the commit
 *   latency of its own operations, its links, the last log entries and a timeline of elections,
 *   leader changes, membership changes and chaos;
 * - renders the board from the replicated state, re-read (`consistency: 'local'`) after every
 *   commit, so that every tab shows the board in the log's order; every board operation is one
 *   proposal;
 * - chaos controls: kill (close at once, without hand-over), partition, heal, slow links,
 *   transfer leadership;
 * - publishes a report of itself on the demo's BroadcastChannel for the opener page;
 * - runs gossip beside Raft: the membership table and the CRDT board of gossip-view.ts.
 */
import { createNode, type BytesNode, type NodeStatus } from '../src/client/index.ts';
import { decodeBoardResult, encodeBoardCommand, type BoardCommand, type BoardItem, type BoardResult, type BoardView } from '../src/machines/board.ts';
import type { BoardQuery } from './board-machine.ts';
import { startGossipView, type GossipView } from './gossip-view.ts';
import { renderHealth } from './health-view.ts';
import {
  byId,
  clusterIds,
  demoChannelName,
  el,
  fetchServerConfig,
  parseSpec,
  type DemoLinkState,
  type DemoMessage,
  type DemoRole,
  type NodeReport,
} from './shared.ts';

const statusPollMs = 200;
const reportIntervalMs = 500;
const rateWindowMs = 5_000;
const latencySamplesMax = 50;
const timelineEntriesMax = 60;
const pageStartMs = performance.now();

// ---- state ------------------------------------------------------------------------------------

const spec = parseSpecOrShow();
const channel = spec === null ? null : new BroadcastChannel(demoChannelName(spec.cluster));
let node: BytesNode | null = null;
let gossipView: GossipView | null = null;
let nodeId: string | null = spec?.id ?? null;
let state: NodeReport['state'] = 'starting';
let status: NodeStatus | null = null;
let board: BoardView = { items: [], recent: [] };
let partitioned = false;
let slowMs = 0;
let lastError: string | null = null;
let editing: { readonly id: string; readonly input: HTMLInputElement } | null = null;
/** True while the board's list is rebuilt (moving the edit box must not end the edit). */
let rebuilding = false;
const commitSamples: { readonly atMs: number; readonly commit: number }[] = [];
const latenciesMs: number[] = [];
let lastMembership = '';

function parseSpecOrShow(): ReturnType<typeof parseSpec> | null {
  try {
    return parseSpec(location.search);
  } catch (e) {
    showError(e instanceof Error ? e.message : String(e));
    return null;
  }
}

// ---- small helpers ----------------------------------------------------------------------------

function showError(message: string | null): void {
  const e = byId('node-error');
  e.hidden = message === null;
  e.textContent = message ?? '';
}

function notice(text: string): void {
  byId('board-notice').textContent = text;
}

function codeOf(e: unknown): string {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : 'ERROR';
}

function describe(e: unknown): string {
  return `${codeOf(e)}: ${e instanceof Error ? e.message : String(e)}`;
}

function demoRole(s: NodeStatus): DemoRole {
  if (s.learners.includes(s.id)) return 'learner';
  if (s.role === 'pre-candidate' || s.role === 'candidate') return 'candidate';
  return s.role;
}

function addTimeline(kind: 'election' | 'leader' | 'membership' | 'chaos' | 'link', text: string): void {
  const list = byId('timeline');
  const seconds = ((performance.now() - pageStartMs) / 1000).toFixed(1);
  list.prepend(el('li', { className: `tl-${kind}` }, [el('span', { className: 'tl-time', text: `+${seconds} s` }), el('span', { text })]));
  while (list.children.length > timelineEntriesMax) list.lastElementChild?.remove();
}

/** Every other node this one knows of: the initial voters, the current members, its links. */
function otherNodes(): string[] {
  const all = new Set<string>(spec === null ? [] : clusterIds(spec.size));
  for (const id of [...(status?.voters ?? []), ...(status?.learners ?? []), ...Object.keys(status?.links ?? {})]) all.add(id);
  if (nodeId !== null) all.delete(nodeId);
  return [...all].sort();
}

// ---- rendering --------------------------------------------------------------------------------

function commitsPerSec(): number {
  const nowMs = performance.now();
  while (commitSamples.length > 1 && (commitSamples[0] as { atMs: number }).atMs < nowMs - rateWindowMs) commitSamples.shift();
  const first = commitSamples[0];
  const last = commitSamples[commitSamples.length - 1];
  if (first === undefined || last === undefined || last.atMs === first.atMs) return 0;
  return ((last.commit - first.commit) * 1000) / (nowMs - first.atMs);
}

function linkStates(): Record<string, DemoLinkState> {
  const links: Record<string, DemoLinkState> = {};
  for (const peer of otherNodes()) links[peer] = partitioned ? 'blocked' : (status?.links[peer] ?? 'closed');
  return links;
}

function renderStatus(): void {
  byId('node-id').textContent = nodeId ?? '…';
  const roleEl = byId('role');
  const deadEl = byId('node-dead');
  deadEl.hidden = state !== 'dead';
  if (state === 'running' && status !== null) {
    const role = demoRole(status);
    roleEl.textContent = role;
    roleEl.className = `role role-${role}`;
    byId('term').textContent = String(status.term);
    byId('leader').textContent = status.leader ?? 'none';
    byId('commit-index').textContent = String(status.commit);
    byId('applied-index').textContent = String(status.applied);
    renderHealth(status);
    document.title = `${status.id} · ${role} · peerquorum`;
  } else {
    roleEl.textContent = '';
    roleEl.className = 'role';
    document.title = `${nodeId ?? 'node'} · ${state} · peerquorum`;
  }
  byId('commits-per-sec').textContent = commitsPerSec().toFixed(1);
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const last = latenciesMs[latenciesMs.length - 1];
  byId('commit-latency').textContent = last === undefined || median === undefined ? '– (add an item)' : `${last.toFixed(1)} / ${median.toFixed(1)} ms`;

  const links = byId('links');
  links.replaceChildren(
    ...Object.entries(linkStates()).map(([peer, s]) =>
      el('li', { className: `link link-${s}` }, [el('span', { text: peer }), el('span', { className: 'link-state', text: s === 'open' && slowMs > 0 ? `open, +${slowMs} ms` : s })]),
    ),
  );
  byId('membership').textContent = status === null ? '' : `voters: ${status.voters.join(', ') || '–'} · learners: ${status.learners.join(', ') || '–'}`;
  for (const id of ['transfer-leader', 'partition-node', 'heal-node', 'slow-links', 'kill-node', 'board-input', 'board-add']) {
    (byId(id) as HTMLButtonElement).disabled = state !== 'running';
  }
  byId('partition-node').classList.toggle('active', partitioned);
}

function itemsEqual(a: readonly BoardItem[], b: readonly BoardItem[]): boolean {
  return a.length === b.length && a.every((x, i) => {
    const y = b[i] as BoardItem;
    return x.id === y.id && x.text === y.text && x.done === y.done && x.author === y.author;
  });
}

function renderBoard(previous: readonly BoardItem[] | null): void {
  const log = byId('log');
  log.replaceChildren(...[...board.recent].reverse().map((entry) => el('li', {}, [el('span', { className: 'log-index', text: `#${entry.index}` }), el('span', { text: entry.summary })])));
  if (previous !== null && itemsEqual(previous, board.items)) return;
  const list = byId('board');
  const items = board.items;
  if (editing !== null && !items.some((i) => i.id === editing?.id)) editing = null;
  rebuilding = true;
  try {
    list.replaceChildren(...items.map((item, i) => renderItem(item, i, items.length)));
    if (editing !== null) editing.input.focus();
  } finally {
    rebuilding = false;
  }
  byId('board-empty').hidden = items.length > 0;
}

function renderItem(item: BoardItem, position: number, count: number): HTMLLIElement {
  const li = el('li', { className: item.done ? 'item done' : 'item', testId: 'board-item' });
  li.dataset['id'] = item.id;
  const done = el('input', { testId: 'board-item-done', title: 'done' });
  done.type = 'checkbox';
  done.checked = item.done;
  done.addEventListener('change', () => void run({ op: 'done', id: item.id, done: done.checked }));
  li.append(done);
  if (editing?.id === item.id) {
    li.append(editing.input);
  } else {
    const text = el('span', { className: 'item-text', text: item.text, testId: 'board-item-text', title: 'double-click to edit' });
    text.addEventListener('dblclick', () => startEdit(item));
    li.append(text);
  }
  li.append(el('span', { className: 'author', text: `${item.author} · ${item.id}` }));
  const button = (label: string, testId: string, title: string, f: () => void, disabled = false): HTMLButtonElement => {
    const b = el('button', { text: label, testId, title, className: 'small' });
    b.type = 'button';
    b.disabled = disabled || state !== 'running';
    b.addEventListener('click', f);
    return b;
  };
  li.append(
    button('↑', 'board-item-up', 'move up', () => void run({ op: 'move', id: item.id, direction: 'up' }), position === 0),
    button('↓', 'board-item-down', 'move down', () => void run({ op: 'move', id: item.id, direction: 'down' }), position === count - 1),
    button('edit', 'board-item-edit', 'edit', () => startEdit(item)),
    button('✕', 'board-item-delete', 'delete', () => void run({ op: 'delete', id: item.id })),
  );
  return li;
}

function startEdit(item: BoardItem): void {
  if (state !== 'running') return;
  const input = el('input', { testId: 'board-item-edit-input', className: 'edit-input' });
  input.maxLength = 140;
  input.value = item.text;
  const finish = (save: boolean): void => {
    if (editing?.input !== input) return;
    editing = null;
    const text = input.value.trim();
    renderBoard(null);
    if (save && text.length > 0 && text !== item.text) void run({ op: 'edit', id: item.id, text });
  };
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') finish(true);
    if (e.key === 'Escape') finish(false);
  });
  input.addEventListener('blur', () => {
    if (!rebuilding) finish(true);
  });
  editing = { id: item.id, input };
  renderBoard(null);
  input.select();
}

// ---- the replicated board ---------------------------------------------------------------------

let reading = false;
let readAgain = false;

/** Re-read the board from the local replica; coalesces calls that come while a read runs. */
async function readBoard(): Promise<void> {
  if (reading) {
    readAgain = true;
    return;
  }
  reading = true;
  try {
    do {
      readAgain = false;
      const n = node;
      if (n === null) return;
      const previous = board.items;
      const query: BoardQuery = { kind: 'board' };
      board = (await n.read(query, { consistency: 'local' })) as BoardView;
      renderBoard(previous);
    } while (readAgain);
  } catch (e) {
    if (state === 'running') notice(`could not read the board: ${describe(e)}`);
  } finally {
    reading = false;
  }
}

/** Propose one board operation; its latency is this tab's commit latency. */
async function run(command: BoardCommand): Promise<BoardResult | null> {
  const n = node;
  if (n === null) return null;
  const startMs = performance.now();
  try {
    const decoded = decodeBoardResult(await n.propose(encodeBoardCommand(command)));
    latenciesMs.push(performance.now() - startMs);
    if (latenciesMs.length > latencySamplesMax) latenciesMs.shift();
    if (!decoded.ok) throw decoded.error;
    const result = decoded.value;
    notice(result.status === 'missing' ? 'That item was deleted meanwhile (by another tab, earlier in the log).' : result.status === 'invalid' ? 'The board refused that (empty text, or the board is full).' : '');
    void readBoard();
    renderStatus();
    return result;
  } catch (e) {
    notice(`${command.op} failed: ${describe(e)}. Its outcome is unknown only if the node timed out; the board shows what the log holds.`);
    return null;
  }
}

// ---- status, timeline and the report to the opener --------------------------------------------

async function refresh(): Promise<void> {
  const n = node;
  if (n !== null && state === 'running') {
    try {
      status = await n.status();
      commitSamples.push({ atMs: performance.now(), commit: status.commit });
      const membership = `voters ${status.voters.join(', ')}; learners ${status.learners.join(', ') || 'none'}`;
      if (membership !== lastMembership) {
        if (lastMembership !== '') addTimeline('membership', `membership: ${membership}`);
        lastMembership = membership;
      }
    } catch (e) {
      if (state === 'running') lastError = describe(e);
    }
  }
  renderStatus();
}

function report(): NodeReport {
  const s = status;
  return {
    id: nodeId ?? '?',
    state,
    role: state === 'running' && s !== null ? demoRole(s) : null,
    term: s?.term ?? 0,
    leader: state === 'running' ? (s?.leader ?? null) : null,
    commit: s?.commit ?? 0,
    applied: s?.applied ?? 0,
    voters: s?.voters ?? [],
    learners: s?.learners ?? [],
    links: state === 'running' ? linkStates() : {},
    partitioned,
    slowMs,
    commitsPerSec: state === 'running' ? commitsPerSec() : 0,
    items: board.items.length,
    error: lastError,
  };
}

function publish(): void {
  if (nodeId === null) return;
  const message: DemoMessage = { type: 'report', report: report() };
  channel?.postMessage(message);
}

// ---- chaos ------------------------------------------------------------------------------------

async function chaos(what: string, f: (n: BytesNode) => Promise<void>): Promise<void> {
  const n = node;
  if (n === null) return;
  try {
    await f(n);
  } catch (e) {
    notice(`${what} failed: ${describe(e)}`);
  }
  await refresh();
  publish();
}

async function kill(): Promise<void> {
  const n = node;
  if (n === null) return;
  addTimeline('chaos', 'killed: the node stopped without handing leadership over');
  // Cut the links first: a leader's close() sends TimeoutNow to hand over, and a killed node
  // must not. Then stop the worker; the tab's id lock is released, as when a tab crashes.
  await n.testing.block(otherNodes()).catch(() => undefined);
  state = 'dead';
  node = null;
  gossipView?.stop();
  await n.close().catch(() => undefined);
  renderStatus();
  publish();
  notice('This node is dead. Reload the tab to bring it back: it restarts from its log in IndexedDB and catches up.');
}

function wireControls(): void {
  byId('board-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const input = byId<HTMLInputElement>('board-input');
    const text = input.value.trim();
    if (text.length === 0 || nodeId === null) return;
    input.value = '';
    void run({ op: 'add', text, author: nodeId }).then((r) => {
      if (r === null && input.value === '') input.value = text;
    });
  });
  byId('kill-node').addEventListener('click', () => void kill());
  byId('partition-node').addEventListener('click', () =>
    void chaos('partition', async (n) => {
      await n.testing.block(otherNodes());
      partitioned = true;
      gossipView?.setPartitioned(true);
      addTimeline('chaos', `partitioned from ${otherNodes().join(', ')}`);
    }),
  );
  byId('heal-node').addEventListener('click', () =>
    void chaos('heal', async (n) => {
      await n.testing.unblock();
      if (partitioned) addTimeline('chaos', 'healed: links let through again');
      partitioned = false;
      gossipView?.setPartitioned(false);
    }),
  );
  const slow = byId<HTMLSelectElement>('slow-links');
  slow.addEventListener('change', () =>
    void chaos('slow links', async (n) => {
      const delayMs = Number(slow.value);
      await n.testing.slow(delayMs);
      slowMs = delayMs;
      addTimeline('chaos', delayMs === 0 ? 'links back to full speed' : `links slowed: every frame held ${delayMs} ms each way`);
    }),
  );
  byId('transfer-leader').addEventListener('click', () =>
    void chaos('transfer leadership', async (n) => {
      const to = await n.transferLeadership();
      addTimeline('chaos', to === nodeId ? 'asked the leader to hand leadership to this node' : `handing leadership to ${to}`);
    }),
  );
}

// ---- start ------------------------------------------------------------------------------------

async function start(): Promise<void> {
  if (spec === null) return;
  wireControls();
  renderStatus();
  byId('cluster-line').textContent = `cluster ${spec.cluster} · started with ${spec.size} voters · ${spec.transport === 'broadcast' ? 'BroadcastChannel' : 'WebRTC'}`;
  channel?.addEventListener('message', (e: MessageEvent<DemoMessage>) => {
    if (e.data.type === 'hello') publish();
  });
  addEventListener('pagehide', () => {
    if (state === 'running' || state === 'starting') state = 'closed';
    publish();
  });
  setInterval(() => void refresh(), statusPollMs);
  setInterval(publish, reportIntervalMs);

  try {
    const config = await fetchServerConfig();
    const options = {
      cluster: spec.cluster,
      transport: spec.transport,
      peers: clusterIds(spec.size),
      protocols: ['raft', 'gossip'],
      machine: { module: config.boardMachine },
      // Authenticated links: a page without the cluster's secret can neither join, vote nor write.
      secret: config.secret,
      signaling: { host: location.hostname, port: config.signaling.port, path: config.signaling.path, key: config.signaling.key, secure: location.protocol === 'https:' },
    } as const;
    let n: BytesNode;
    try {
      n = spec.id === null ? await createNode(options) : await createNode({ ...options, id: spec.id });
    } catch (e) {
      // The URL's id runs in another tab (a duplicated tab): take a free id instead.
      if (spec.id === null || codeOf(e) !== 'ID_IN_USE') throw e;
      n = await createNode(options);
    }
    node = n;
    nodeId = n.id;
    const url = new URL(location.href);
    url.searchParams.set('id', n.id);
    history.replaceState(null, '', url);
    n.on('role', (e) => {
      const role = e.role === 'pre-candidate' ? 'pre-candidate (asking for pre-votes)' : e.role;
      addTimeline('election', `became ${role} in term ${e.term}`);
      void refresh();
    });
    n.on('leader', (e) => {
      addTimeline('leader', e.leader === null ? `no leader (term ${e.term})` : `leader is ${e.leader === nodeId ? 'this node' : e.leader} (term ${e.term})`);
      void refresh();
    });
    n.on('commit', (e) => {
      commitSamples.push({ atMs: performance.now(), commit: e.index });
      void readBoard();
    });
    n.on('link', (e) => addTimeline('link', `link to ${e.peer}: ${e.state}`));
    n.on('error', (e) => {
      lastError = `${e.error.code}: ${e.error.message}`;
    });
    state = 'running';
    addTimeline('membership', `started as ${n.id}${spec.id !== null && spec.id !== n.id ? ` (${spec.id} runs in another tab)` : ''}`);
    await refresh();
    await readBoard();
    gossipView = await startGossipView(n).catch((e: unknown) => (notice(`the gossip view did not start: ${describe(e)}`), null));
    publish();
  } catch (e) {
    state = 'failed';
    const code = codeOf(e);
    showError(
      code === 'ID_IN_USE'
        ? `Every node of ${spec.cluster} (${clusterIds(spec.size).join(', ')}) already runs in another tab, and this tab could not join the cluster as a learner. (${describe(e)})`
        : `The node did not start: ${describe(e)}`,
    );
    lastError = describe(e);
    renderStatus();
    publish();
  }
}

void start();
