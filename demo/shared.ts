/**
 * What the demo's two pages share: the URL of a node tab (cluster, size, transport, node id),
 * the demo's config from the server (where the PeerServer is, where the board machine is), and
 * the report each node tab publishes about itself on the demo's own BroadcastChannel, which the
 * opener shows side by side. The demo channel is separate from the nodes' links: it carries
 * display data only, never Raft traffic.
 */
import type { LinkState } from '../src/io/transport/transport.ts';

export type DemoTransport = 'broadcast' | 'webrtc';
export const clusterSizes = [3, 5] as const;
export type ClusterSize = (typeof clusterSizes)[number];

/** What a tab shows as its role: `candidate` covers pre-candidates too. */
export type DemoRole = 'leader' | 'follower' | 'candidate' | 'learner';

export interface ClusterSpec {
  readonly cluster: string;
  readonly size: ClusterSize;
  readonly transport: DemoTransport;
}

export class DemoUrlError extends Error {
  override readonly name = 'DemoUrlError';
  readonly code = 'CONFIG';
}

/** The initial voters of a cluster of `size`: n1 .. n<size>. */
export function clusterIds(size: ClusterSize): string[] {
  return Array.from({ length: size }, (_, i) => `n${i + 1}`);
}

/** The URL of a node tab; without `id` the tab takes a free id, or joins as a learner. */
export function nodeUrl(spec: ClusterSpec, id?: string): string {
  const params = new URLSearchParams({ cluster: spec.cluster, size: String(spec.size), transport: spec.transport });
  if (id !== undefined) params.set('id', id);
  return new URL(`node.html?${params}`, location.href).href;
}

/** The cluster (and the node id, if any) a URL names; throws `DemoUrlError` on a bad one. */
export function parseSpec(search: string): ClusterSpec & { readonly id: string | null } {
  const params = new URLSearchParams(search);
  const cluster = params.get('cluster');
  const size = Number(params.get('size'));
  const transport = params.get('transport') ?? 'broadcast';
  if (cluster === null || cluster.length === 0) throw new DemoUrlError('the URL names no cluster: open node tabs from the opener page');
  if (!clusterSizes.includes(size as ClusterSize)) throw new DemoUrlError(`cluster size must be one of ${clusterSizes.join(', ')}, got ${params.get('size')}`);
  if (transport !== 'broadcast' && transport !== 'webrtc') throw new DemoUrlError(`transport must be broadcast or webrtc, got ${transport}`);
  const id = params.get('id');
  return { cluster, size: size as ClusterSize, transport, id: id === null || id.length === 0 ? null : id };
}

/** Served by the demo's Vite plugin (demo/vite.config.ts) at `/peerquorum-demo.json`. */
export interface DemoServerConfig {
  readonly signaling: { readonly port: number; readonly path: string; readonly key: string };
  /** The board machine module for the worker: TypeScript in dev, the built chunk in preview. */
  readonly boardMachine: string;
  /** The cluster secret of this run of the demo (authenticated links). */
  readonly secret: string;
}

export async function fetchServerConfig(): Promise<DemoServerConfig> {
  const response = await fetch(new URL('/peerquorum-demo.json', location.href));
  if (!response.ok) throw new DemoUrlError(`the demo server did not answer its config (${response.status})`);
  return (await response.json()) as DemoServerConfig;
}

/** A link as a tab shows it: the transport's state, or `blocked` by the partition control. */
export type DemoLinkState = LinkState | 'blocked';

/** What a node tab publishes about itself, several times a second. */
export interface NodeReport {
  readonly id: string;
  /** `starting` until the node runs; `dead` after the kill control; `closed` when the tab goes. */
  readonly state: 'starting' | 'running' | 'dead' | 'closed' | 'failed';
  readonly role: DemoRole | null;
  readonly term: number;
  readonly leader: string | null;
  readonly commit: number;
  readonly applied: number;
  readonly voters: readonly string[];
  readonly learners: readonly string[];
  readonly links: Readonly<Record<string, DemoLinkState>>;
  readonly partitioned: boolean;
  readonly slowMs: number;
  readonly commitsPerSec: number;
  readonly items: number;
  readonly error: string | null;
}

export type DemoMessage = { readonly type: 'report'; readonly report: NodeReport } | { readonly type: 'hello' };

export function demoChannelName(cluster: string): string {
  return `peerquorum-demo/${cluster}`;
}

/** An element by id; throws if the page lacks it (a bug in the page, not a runtime condition). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`the page has no #${id}`);
  return el as T;
}

/** `document.createElement` with a class, text and attributes. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: { className?: string; text?: string; testId?: string; title?: string } = {}, children: readonly Node[] = []): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props.className !== undefined) e.className = props.className;
  if (props.text !== undefined) e.textContent = props.text;
  if (props.testId !== undefined) e.dataset['testid'] = props.testId;
  if (props.title !== undefined) e.title = props.title;
  for (const c of children) e.append(c);
  return e;
}
