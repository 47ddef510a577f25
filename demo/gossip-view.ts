/**
 * The gossip half of a node tab (demo/node.html; node.ts starts it once the node runs with
 * `protocols: ['raft', 'gossip']`):
 *
 * - the membership table: every member this node's SWIM + Lifeguard view holds (src/core/gossip/),
 *   with its state, incarnation, phi (accrual of its arrivals, Hayashibara et al. 2004) and
 *   whether it is one of this node's mesh neighbours; re-listed on every `member-changed` and
 *   `member-phi` event, and polled, since phi moves between arrivals without an event;
 * - the CRDT board: notes in an OR-Map (`node.crdt('notes', 'map')`, a last-writer-wins text per
 *   note id) and a cheer counter (a PN-Counter). Every edit is a local update of the worker's
 *   gossip engine, taken at once: it needs no leader and no quorum, so it keeps working while the
 *   tab is partitioned (the Partition control blocks every link) and merges with the others'
 *   edits when the tab heals (deltas, then Merkle anti-entropy for what the partition lost).
 *
 * Unlike the Raft board there is no order across tabs: notes are listed by id (the writer's clock
 * first), and two tabs editing the same note keep the later stamp (lww-register.ts).
 */
import type { BytesNode, MapHandle, MemberInfo, OrMapEntry, PnCounterHandle } from '../src/client/index.ts';
import { byId, el } from './shared.ts';

const membersPollMs = 500;
/** Notes the board shows at most (the map holds what the gossip store's limits allow). */
const notesShownMax = 200;
const noteTextMax = 140;

export interface GossipView {
  /** The tab's links are blocked (or not): say that edits stay here until healed. */
  setPartitioned(partitioned: boolean): void;
  /** The node is gone (killed or closed): stop listening and polling, disable the controls. */
  stop(): void;
}

interface Note {
  readonly id: string;
  readonly text: string;
}

function notesOf(entries: readonly OrMapEntry[]): Note[] {
  const notes: Note[] = [];
  for (const e of entries) if (e.type === 'lww-register' && typeof e.value === 'string') notes.push({ id: e.key, text: e.value });
  return notes.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function describe(e: unknown): string {
  const code = typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : 'ERROR';
  return `${code}: ${e instanceof Error ? e.message : String(e)}`;
}

/** Phi grows without bound while a member is silent (a partition shows millions): keep it short. */
function phiText(phi: number): string {
  return phi < 1000 ? phi.toFixed(2) : phi.toPrecision(3);
}

function renderMembers(members: readonly MemberInfo[]): void {
  byId('members-body').replaceChildren(
    ...members.map((m) => {
      const row = el('tr', { className: `member member-${m.state}`, testId: 'member-row' });
      row.dataset['member'] = m.id;
      row.append(
        el('td', { text: m.self ? `${m.id} (this tab)` : m.id, testId: 'member-id' }),
        el('td', { text: m.state, testId: 'member-state', className: `member-state state-${m.state}` }),
        el('td', { text: String(m.incarnation), testId: 'member-incarnation' }),
        el('td', { text: m.self ? '–' : phiText(m.phi), testId: 'member-phi' }),
        el('td', { text: m.self ? '–' : m.inMesh ? 'yes' : 'no', testId: 'member-mesh' }),
      );
      return row;
    }),
  );
}

/** Starts the membership table and the CRDT board of `node`; the page's elements are node.html's. */
export async function startGossipView(node: BytesNode): Promise<GossipView> {
  let stopped = false;
  let seq = 0;
  const notice = (text: string): void => {
    byId('gossip-notice').textContent = text;
  };
  const [notes, cheers]: [MapHandle, PnCounterHandle] = await Promise.all([node.crdt('notes', 'map'), node.crdt('cheers', 'counter')]);

  let listing = false;
  const listMembers = async (): Promise<void> => {
    if (stopped || listing) return;
    listing = true;
    try {
      renderMembers(await node.members.list());
    } catch (e) {
      if (!stopped) notice(`could not list the members: ${describe(e)}`);
    } finally {
      listing = false;
    }
  };

  const renderNotes = (entries: readonly OrMapEntry[]): void => {
    const all = notesOf(entries);
    byId('notes').replaceChildren(
      ...all.slice(0, notesShownMax).map((n) => {
        const li = el('li', { className: 'item', testId: 'note' });
        li.dataset['id'] = n.id;
        const remove = el('button', { text: '✕', testId: 'note-delete', title: 'delete (a concurrent edit elsewhere keeps it)', className: 'small' });
        remove.type = 'button';
        remove.disabled = stopped;
        remove.addEventListener('click', () => void edit('delete', () => notes.remove(n.id)));
        li.append(el('span', { className: 'item-text', text: n.text, testId: 'note-text' }), el('span', { className: 'author', text: n.id.split('~')[1] ?? '' }), remove);
        return li;
      }),
    );
    byId('notes-empty').hidden = all.length > 0;
  };
  const renderCheers = (value: number): void => {
    byId('cheers-value').textContent = String(value);
  };

  const edit = async (what: string, f: () => Promise<void>): Promise<void> => {
    if (stopped) return;
    try {
      await f();
      notice('');
    } catch (e) {
      notice(`${what} failed: ${describe(e)}`);
    }
  };

  const unsubscribe = [
    node.members.on('member-changed', () => void listMembers()),
    node.members.on('member-phi', () => void listMembers()),
    notes.on((value) => renderNotes(value)),
    cheers.on((value) => renderCheers(value)),
  ];
  const poll = setInterval(() => void listMembers(), membersPollMs);

  byId('notes-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const input = byId<HTMLInputElement>('notes-input');
    const text = input.value.trim().slice(0, noteTextMax);
    if (text.length === 0) return;
    input.value = '';
    // The id sorts by the writer's clock; the node id and a sequence keep ids unique per tab.
    const id = `${Date.now().toString(36).padStart(9, '0')}.${(seq++).toString(36)}~${node.id}`;
    void edit('add', () => notes.set(id, text));
  });
  byId('cheers-up').addEventListener('click', () => void edit('cheer', () => cheers.increment()));
  byId('cheers-down').addEventListener('click', () => void edit('uncheer', () => cheers.decrement()));

  const setEnabled = (enabled: boolean): void => {
    for (const id of ['notes-input', 'notes-add', 'cheers-up', 'cheers-down']) byId<HTMLButtonElement>(id).disabled = !enabled;
  };
  setEnabled(true);
  renderNotes(await notes.value());
  renderCheers(await cheers.value());
  await listMembers();

  return {
    setPartitioned: (partitioned) => {
      const hint = byId('gossip-offline');
      hint.hidden = !partitioned;
      hint.textContent = 'Partitioned: these edits stay in this tab (and its IndexedDB) and merge with the others when you heal.';
    },
    stop: () => {
      stopped = true;
      clearInterval(poll);
      for (const u of unsubscribe) u();
      setEnabled(false);
      for (const b of document.querySelectorAll<HTMLButtonElement>('[data-testid="note-delete"]')) b.disabled = true;
      notice('This node is dead: its gossip view stopped.');
    },
  };
}
