/**
 * The demo's coordination view (demo/services.html): each tab is a node of
 * `createNode({ machine: 'services' })`, and the tabs act as agents. Open it with no cluster in
 * the URL and it starts one (this tab's URL then names it; the links open the other two tabs).
 *
 * - Tools: every tab registers the `echo` tool; "Call echo" calls it with a fresh key from any
 *   tab; the leader runs it once and commits the outcome; the audit log (requested, started,
 *   completed...) is fed by `node.watch({ kind: 'audit' })`, the same on every tab.
 * - Agents and tasks: "Register agent here" registers an agent whose handler lives in THIS tab
 *   and works on a task for the given time; "Submit a task" asks the cluster to route a task to
 *   an able agent under a lease. Close the tab of an agent holding a task: its heartbeats stop,
 *   the lease runs out in replicated time and the task moves to an agent in another tab.
 * - Configuration: set the key `app` (compare-and-set on the version shown), watch its version,
 *   roll back to an earlier version (a new version with that content).
 *
 * No polling: every list is fed by `node.watch` (change feeds in log order). There is no watch
 * of "every task" or "every agent", so a tab that submits a task or registers an agent also
 * writes a key-value marker (`demo-task/<id>`, `demo-agent/<id>`), every tab watches those
 * prefixes and then watches each task and agent by id; a tab opened later reads the lists once.
 */
import { createNode, ServiceRefusedError, type ServicesNode } from '../src/client/index.ts';
import type { Agent } from '../src/machines/services/agent-registry.ts';
import type { ConfigEntry, ConfigVersion } from '../src/machines/services/config.ts';
import type { Task } from '../src/machines/services/tasks.ts';
import type { AuditPage, AuditRecord } from '../src/machines/services/tools-audit.ts';
import type { Value } from '../src/machines/services/value.ts';
import { byId, el, fetchServerConfig, type DemoTransport } from './shared.ts';

const ids = ['s1', 's2', 's3'];
const auditShownMax = 40;
const tasksShownMax = 40;
const configKey = 'app';
const taskMarker = 'demo-task/';
const agentMarker = 'demo-agent/';

let node: ServicesNode | null = null;
const audit = new Map<number, AuditRecord>();
const tasks = new Map<string, Task | null>();
const agents = new Map<string, Agent | null>();
let configEntry: ConfigEntry | null = null;

function describe(e: unknown): string {
  if (e instanceof ServiceRefusedError) return e.message;
  const code = typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : 'ERROR';
  return `${code}: ${e instanceof Error ? e.message : String(e)}`;
}

function showError(text: string | null): void {
  const p = byId('svc-error');
  p.hidden = text === null;
  p.textContent = text ?? '';
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function json(v: unknown): string {
  return JSON.stringify(v) ?? 'null';
}

/** The cluster from the URL, or a fresh one written into it. */
function clusterOf(): { cluster: string; transport: DemoTransport; id: string | null } {
  const url = new URL(location.href);
  let cluster = url.searchParams.get('cluster');
  if (cluster === null || cluster.length === 0) {
    const words = new Uint32Array(1);
    crypto.getRandomValues(words);
    cluster = `coord-${(words[0] as number).toString(36)}`;
    url.searchParams.set('cluster', cluster);
    history.replaceState(null, '', url);
  }
  const transport = url.searchParams.get('transport') === 'webrtc' ? 'webrtc' : 'broadcast';
  const id = url.searchParams.get('id');
  return { cluster, transport, id: id === null || id.length === 0 ? null : id };
}

function tabLinks(cluster: string, transport: DemoTransport): void {
  const links = ids.map((id) => {
    const a = el('a', { text: id });
    a.href = `services.html?${new URLSearchParams({ cluster, transport, id })}`;
    a.target = `${cluster}-${id}`;
    return a;
  });
  byId('svc-tab-links').replaceChildren(el('span', { text: 'Tabs of this cluster (open all three): ' }), ...links.flatMap((a) => [a, document.createTextNode(' ')]));
}

// ---- audit log ----------------------------------------------------------------------------

function renderAudit(): void {
  const shown = [...audit.values()].sort((a, b) => b.seq - a.seq).slice(0, auditShownMax);
  byId('audit-log').replaceChildren(
    ...shown.map((r) => {
      const li = el('li', { testId: 'audit-record', text: `#${r.seq} ${r.event} ${r.tool} key ${r.key} by ${r.node} (term ${r.term}, index ${r.index})` });
      li.dataset['event'] = r.event;
      li.dataset['key'] = r.key;
      return li;
    }),
  );
}

async function callTool(n: ServicesNode): Promise<void> {
  const input = byId<HTMLInputElement>('tool-args');
  const key = `${n.id}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
  byId('tool-result').textContent = `calling echo (key ${key})…`;
  const call = await n.tools.call('echo', { text: input.value }, { key });
  byId('tool-result').textContent = `${call.state}: ${json(call.result ?? call.error)} (key ${key}, ${call.starts} start${call.starts === 1 ? '' : 's'})`;
}

// ---- agents and tasks ---------------------------------------------------------------------

function renderAgents(): void {
  const shown = [...agents.entries()].filter((e): e is [string, Agent] => e[1] !== null).sort(([a], [b]) => (a < b ? -1 : 1));
  byId('agent-list').replaceChildren(
    ...shown.map(([id, a]) => {
      const li = el('li', { testId: 'agent-item', text: `${id} on ${a.node} · [${a.capabilities.join(', ')}] · ${a.active} task${a.active === 1 ? '' : 's'} in hand` });
      li.dataset['agent'] = id;
      return li;
    }),
  );
}

function renderTasks(): void {
  const shown = [...tasks.values()].filter((t): t is Task => t !== null).sort((a, b) => b.submittedIndex - a.submittedIndex).slice(0, tasksShownMax);
  byId('task-list').replaceChildren(
    ...shown.map((t) => {
      const holder = t.agent === null ? 'waiting for an agent' : `${t.state === 'assigned' ? 'held by' : 'by'} ${t.agent} (token ${t.token}, attempt ${t.attempts})`;
      const end = t.state === 'done' ? ` → ${json(t.result)}` : t.state === 'failed' ? ` → ${t.error ?? 'failed'}` : '';
      const li = el('li', { testId: 'task-item', text: `${t.id}: ${t.state}, ${holder}${end}` });
      li.dataset['task'] = t.id;
      li.dataset['state'] = t.state;
      li.dataset['agent'] = t.agent ?? '';
      return li;
    }),
  );
}

async function followTask(n: ServicesNode, id: string): Promise<void> {
  if (tasks.has(id)) return;
  tasks.set(id, null);
  await n.watch({ kind: 'task', id }, (answer) => {
    tasks.set(id, answer as Task | null);
    renderTasks();
  });
}

async function followAgent(n: ServicesNode, id: string): Promise<void> {
  if (agents.has(id)) return;
  agents.set(id, null);
  await n.watch({ kind: 'agent', id }, (answer) => {
    agents.set(id, answer as Agent | null);
    renderAgents();
  });
}

async function registerAgent(n: ServicesNode): Promise<void> {
  const id = byId<HTMLInputElement>('agent-id').value.trim() || `agent-${n.id}`;
  const capabilities = list(byId<HTMLInputElement>('agent-capabilities').value);
  const workMs = Math.max(0, Number(byId<HTMLInputElement>('agent-work-ms').value) || 0);
  await n.agents.register(id, capabilities, async (task): Promise<Value> => {
    await new Promise((r) => setTimeout(r, workMs));
    return { doneBy: id, tab: n.id, payload: task.payload };
  });
  await n.propose({ op: 'write', key: `${agentMarker}${id}`, value: n.id });
  await followAgent(n, id);
}

async function submitTask(n: ServicesNode): Promise<void> {
  const capabilities = list(byId<HTMLInputElement>('task-capabilities').value);
  const strategy = byId<HTMLSelectElement>('task-strategy').value as 'least-used' | 'load-aware' | 'round-robin';
  const leaseMs = Math.max(100, Number(byId<HTMLInputElement>('task-lease-ms').value) || 2_000);
  const submitted = await n.agents.submit({ from: n.id, at: new Date().toISOString() }, { capabilities, strategy, leaseMs });
  await n.propose({ op: 'write', key: `${taskMarker}${submitted.id}`, value: n.id });
  await followTask(n, submitted.id);
}

// ---- configuration ------------------------------------------------------------------------

async function renderConfig(n: ServicesNode): Promise<void> {
  byId('config-version').textContent = configEntry === null ? '–' : String(configEntry.version);
  byId('config-current').textContent = configEntry === null ? '–' : json(configEntry.value);
  // Read once per change the watch reported (not polled): the versions kept.
  const history: readonly ConfigVersion[] = configEntry === null ? [] : await n.config.history(configKey);
  byId('config-history').replaceChildren(...[...history].reverse().map((v) => el('li', { testId: 'config-history-item', text: `v${v.version}: ${json(v.value)}` })));
  const select = byId<HTMLSelectElement>('config-rollback-to');
  const older = history.filter((v) => configEntry !== null && v.version < configEntry.version).reverse();
  select.replaceChildren(...older.map((v) => Object.assign(el('option', { text: `v${v.version}: ${json(v.value)}` }), { value: String(v.version) })));
  byId<HTMLButtonElement>('config-rollback').disabled = older.length === 0;
}

async function setConfig(n: ServicesNode): Promise<void> {
  const raw = byId<HTMLInputElement>('config-value').value;
  let value: Value;
  try {
    value = JSON.parse(raw) as Value;
  } catch {
    value = raw;
  }
  // Compare-and-set on the version this tab shows: another tab's newer set makes this one refused.
  const entry = await n.config.set(configKey, value, { expectedVersion: configEntry?.version ?? 0 });
  byId('config-notice').textContent = `set as version ${entry.version}`;
}

async function rollbackConfig(n: ServicesNode): Promise<void> {
  const to = Number(byId<HTMLSelectElement>('config-rollback-to').value);
  const entry = await n.config.rollback(configKey, to, { expectedVersion: configEntry?.version ?? 0 });
  byId('config-notice').textContent = `rolled back to version ${to}: now version ${entry.version}`;
}

// ---- start --------------------------------------------------------------------------------

/** Runs `f` on a form's submit or a button's click, showing a failure. */
function on(target: string, event: 'submit' | 'click', f: () => Promise<void>): void {
  byId(target).addEventListener(event, (e) => {
    e.preventDefault();
    f().then(
      () => showError(null),
      (err: unknown) => showError(describe(err)),
    );
  });
}

async function watchEverything(n: ServicesNode): Promise<void> {
  await n.watch({ kind: 'audit' }, (answer) => {
    for (const r of (answer as AuditPage | null)?.records ?? []) audit.set(r.seq, r);
    while (audit.size > auditShownMax * 4) audit.delete(Math.min(...audit.keys()));
    renderAudit();
  });
  await n.watch({ kind: 'prefix', prefix: taskMarker }, (answer) => {
    const a = answer as { key: string } | null;
    if (a !== null) void followTask(n, a.key.slice(taskMarker.length));
  });
  await n.watch({ kind: 'prefix', prefix: agentMarker }, (answer) => {
    const a = answer as { key: string } | null;
    if (a !== null) void followAgent(n, a.key.slice(agentMarker.length));
  });
  await n.config.watch(configKey, (entry) => {
    configEntry = entry;
    void renderConfig(n).catch((e: unknown) => showError(describe(e)));
  });
  // What happened before this tab opened: read once, then followed by the watches.
  for (const t of await n.agents.tasks({ limit: tasksShownMax })) await followTask(n, t.id);
  for (const a of await n.agents.find([])) await followAgent(n, a.id);
}

async function main(): Promise<void> {
  const { cluster, transport, id } = clusterOf();
  tabLinks(cluster, transport);
  byId('svc-cluster-line').textContent = `cluster ${cluster} · ${ids.length} voters · ${transport === 'broadcast' ? 'BroadcastChannel' : 'WebRTC'}`;
  const config = await fetchServerConfig();
  const n = await createNode({
    cluster,
    ...(id === null ? {} : { id }),
    peers: ids,
    transport,
    machine: 'services',
    secret: config.secret,
    signaling: { host: location.hostname, port: config.signaling.port, path: config.signaling.path, key: config.signaling.key, secure: location.protocol === 'https:' },
    // Leases are decided by replicated time: the leader proposes it every 250 ms.
    services: { timeIntervalMs: 250, agentHeartbeatMs: 400 },
  });
  node = n;
  byId('svc-node-id').textContent = n.id;
  byId<HTMLInputElement>('agent-id').placeholder = `agent-${n.id}`;
  const role = byId('svc-role');
  const showRole = (r: string): void => {
    role.textContent = r;
    role.className = `role role-${r === 'pre-candidate' ? 'candidate' : r}`;
  };
  n.on('role', (e) => showRole(e.role));
  showRole((await n.status()).role);
  // Every tab can run the tool: whichever tab leads when a call commits runs it, once.
  await n.tools.register('echo', (args, call) => ({ echoed: args, ranOn: n.id, term: call.term }));
  await watchEverything(n);
  on('tool-form', 'submit', () => callTool(n));
  on('agent-form', 'submit', () => registerAgent(n));
  on('task-form', 'submit', () => submitTask(n));
  on('config-form', 'submit', () => setConfig(n));
  on('config-rollback', 'click', () => rollbackConfig(n));
  for (const b of ['tool-call', 'agent-register', 'task-submit', 'config-set']) byId<HTMLButtonElement>(b).disabled = false;
}

addEventListener('pagehide', () => void node?.close());
main().catch((e: unknown) => showError(`the node did not start: ${describe(e)}`));
