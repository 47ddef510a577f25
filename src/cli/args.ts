/**
 * The command line's arguments (`peerquorum --help`, help.ts) as one typed command, or a
 * `UsageError` whose message is one line naming what is wrong. Everything here is someone's
 * typing: every flag is checked (known, given once, with a value of the right form), so that
 * what reaches a node or a socket is never a half-understood argument.
 *
 * Pure apart from nothing: it reads no file (the secret file is read by the command that uses
 * it), so that it can be tested by tables.
 */
import { kvKeyBytesMax, kvValueBytesMax, type KvCommand } from '../machines/kv.ts';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type Protocol = 'raft' | 'gossip' | 'bft';

export interface PeerAddress {
  readonly id: string;
  readonly url: string;
}

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

interface ClusterArgs {
  readonly cluster: string;
  readonly peers: readonly PeerAddress[];
  readonly secretFile: string | null;
}

interface ClientArgs extends ClusterArgs {
  readonly timeoutMs: number;
}

export type CliCommand =
  | { readonly kind: 'help' }
  | (ClusterArgs & {
      readonly kind: 'node';
      readonly id: string;
      readonly data: string;
      readonly listen: ListenAddress;
      readonly protocol: Protocol;
      /** null: the runtime's default (150 ms, randomized up to twice that). */
      readonly electionTimeoutMs: number | null;
    })
  | (ClientArgs & { readonly kind: 'propose'; readonly command: KvCommand })
  | (ClientArgs & { readonly kind: 'read'; readonly key: string })
  | (ClientArgs & { readonly kind: 'status' });

const flagsOf = {
  node: ['cluster', 'id', 'data', 'listen', 'peers', 'secret-file', 'protocol', 'election-timeout-ms'],
  propose: ['cluster', 'peers', 'secret-file', 'timeout-ms'],
  read: ['cluster', 'peers', 'secret-file', 'timeout-ms'],
  status: ['cluster', 'peers', 'secret-file', 'timeout-ms'],
} as const;
type CommandName = keyof typeof flagsOf;

/** Positional arguments each command takes after its flags. */
const positionalsOf: Record<CommandName, readonly string[]> = { node: [], propose: ['JSON'], read: ['KEY'], status: [] };

/** Members a command line may name (a cluster of more is configured in code). */
export const cliPeersMax = 64;
/** Ids: what the wire carries (64 bytes), printable, and free of the list's separators. */
const idBytesMax = 64;
const timeoutMsDefault = 10_000;
const timeoutMsMax = 600_000;
const clusterBytesMax = 128;
/** An election timeout below a few ticks of 10 ms would elect on every scheduling hiccup; above a minute, no failover is worth waiting for. */
const electionTimeoutMsMin = 50;
const electionTimeoutMsMax = 60_000;

const encoder = new TextEncoder();

export function parseArgs(argv: readonly string[]): CliCommand {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') return { kind: 'help' };
  if (!Object.hasOwn(flagsOf, name)) throw new UsageError(`unknown command ${JSON.stringify(name)} (expected node, propose, read or status)`);
  const command = name as CommandName;
  if (rest.includes('--help') || rest.includes('-h')) return { kind: 'help' };
  const { flags, positionals } = splitFlags(command, rest);
  const wanted = positionalsOf[command];
  if (positionals.length !== wanted.length) {
    throw new UsageError(`${command} takes ${wanted.length === 0 ? 'no argument' : wanted.join(' ')} after its flags, got ${positionals.length === 0 ? 'none' : positionals.map((p) => JSON.stringify(p)).join(' ')}`);
  }
  const cluster = parseCluster(required(flags, 'cluster', command));
  const peers = parsePeers(required(flags, 'peers', command));
  const secretFile = flags.get('secret-file') ?? null;
  if (command === 'node') {
    const id = parseId(required(flags, 'id', command), '--id');
    if (peers.some((p) => p.id === id)) throw new UsageError(`--peers names this node's own id ${JSON.stringify(id)}: list the OTHER members`);
    const data = required(flags, 'data', command);
    const listen = parseListen(required(flags, 'listen', command));
    const election = flags.get('election-timeout-ms');
    const electionTimeoutMs = election === undefined ? null : parseMs(election, '--election-timeout-ms', electionTimeoutMsMin, electionTimeoutMsMax);
    return { kind: 'node', cluster, id, data, listen, peers, secretFile, protocol: parseProtocol(flags.get('protocol') ?? 'raft'), electionTimeoutMs };
  }
  const timeoutMs = parseTimeout(flags.get('timeout-ms'));
  const client = { cluster, peers, secretFile, timeoutMs };
  const positional = positionals[0] as string;
  if (command === 'propose') return { kind: 'propose', ...client, command: parseKvCommand(positional) };
  if (command === 'read') return { kind: 'read', ...client, key: parseKey(positional, 'KEY') };
  return { kind: 'status', ...client };
}

/** `--flag value` and `--flag=value`; each flag known to the command, and given once. */
function splitFlags(command: CommandName, args: readonly string[]): { flags: Map<string, string>; positionals: string[] } {
  const known: readonly string[] = flagsOf[command];
  const flags = new Map<string, string>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = arg.slice(2, eq < 0 ? undefined : eq);
    if (!known.includes(flag)) throw new UsageError(`${command} has no flag --${flag} (it takes ${known.map((f) => `--${f}`).join(', ')})`);
    if (flags.has(flag)) throw new UsageError(`--${flag} is given twice`);
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      value = args[i + 1];
      i++;
    }
    if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) throw new UsageError(`--${flag} needs a value`);
    flags.set(flag, value);
  }
  return { flags, positionals };
}

function required(flags: ReadonlyMap<string, string>, flag: string, command: string): string {
  const value = flags.get(flag);
  if (value === undefined) throw new UsageError(`${command} needs --${flag}`);
  return value;
}

function parseCluster(text: string): string {
  if (encoder.encode(text).byteLength > clusterBytesMax || hasControl(text)) throw new UsageError(`--cluster must be 1..${clusterBytesMax} bytes of printable text`);
  return text;
}

function parseId(text: string, what: string): string {
  if (text.length === 0 || encoder.encode(text).byteLength > idBytesMax || hasControl(text) || /[=,\s]/.test(text)) {
    throw new UsageError(`${what}: an id is 1..${idBytesMax} bytes without spaces, '=' or ',', got ${JSON.stringify(text)}`);
  }
  return text;
}

/** `id=ws://host:port,...`: ids unique, URLs ws:// or wss:// with a host. */
export function parsePeers(text: string): PeerAddress[] {
  const items = text.split(',');
  if (items.length > cliPeersMax) throw new UsageError(`--peers names ${items.length} members; at most ${cliPeersMax}`);
  const peers: PeerAddress[] = [];
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq < 0) throw new UsageError(`--peers: expected ID=ws://HOST:PORT, got ${JSON.stringify(item)}`);
    const id = parseId(item.slice(0, eq), '--peers');
    if (peers.some((p) => p.id === id)) throw new UsageError(`--peers names ${JSON.stringify(id)} twice`);
    peers.push({ id, url: parseUrl(item.slice(eq + 1), id) });
  }
  return peers;
}

function parseUrl(text: string, id: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--peers: the address of ${JSON.stringify(id)} is not a URL: ${JSON.stringify(text)}`);
  }
  if ((url.protocol !== 'ws:' && url.protocol !== 'wss:') || url.hostname === '') {
    throw new UsageError(`--peers: the address of ${JSON.stringify(id)} must be ws://HOST:PORT or wss://HOST:PORT, got ${JSON.stringify(text)}`);
  }
  return text;
}

/** `HOST:PORT` or `[IPv6]:PORT`; port 0 asks for any free port. */
export function parseListen(text: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(text);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port > 65_535) throw new UsageError(`--listen: expected HOST:PORT (port 0..65535), got ${JSON.stringify(text)}`);
  return { host: (m[1] ?? m[2]) as string, port };
}

function parseProtocol(text: string): Protocol {
  if (text !== 'raft' && text !== 'gossip' && text !== 'bft') throw new UsageError(`--protocol must be raft, gossip or bft, got ${JSON.stringify(text)}`);
  return text;
}

function parseTimeout(text: string | undefined): number {
  return text === undefined ? timeoutMsDefault : parseMs(text, '--timeout-ms', 1, timeoutMsMax);
}

function parseMs(text: string, flag: string, min: number, max: number): number {
  const ms = Number(text);
  if (!/^\d+$/.test(text) || ms < min || ms > max) throw new UsageError(`${flag} must be an integer in ${min}..${max}, got ${JSON.stringify(text)}`);
  return ms;
}

function parseKey(text: string, what: string): string {
  if (encoder.encode(text).byteLength > kvKeyBytesMax) throw new UsageError(`${what} is longer than ${kvKeyBytesMax} bytes`);
  return text;
}

function parseValue(value: unknown, field: string): string | null {
  if (value === null) return null;
  if (typeof value !== 'string') throw new UsageError(`JSON: "${field}" must be a string or null`);
  if (encoder.encode(value).byteLength > kvValueBytesMax) throw new UsageError(`JSON: "${field}" is longer than ${kvValueBytesMax} bytes`);
  return value;
}

/** A key-value command: `{"op":"write"|"cas"|"read", ...}` with exactly its fields. */
export function parseKvCommand(text: string): KvCommand {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`JSON: not valid JSON: ${JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}...` : text)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError('JSON: expected an object such as {"op":"write","key":"k","value":"v"}');
  const o = value as Record<string, unknown>;
  const fields: Record<string, readonly string[]> = { write: ['op', 'key', 'value'], cas: ['op', 'key', 'expected', 'value'], read: ['op', 'key'] };
  const op = o['op'];
  const wanted = typeof op === 'string' && Object.hasOwn(fields, op) ? (fields[op] as readonly string[]) : undefined;
  if (wanted === undefined) throw new UsageError(`JSON: "op" must be "write", "cas" or "read", got ${JSON.stringify(op) ?? 'nothing'}`);
  const keys = Object.keys(o);
  const missing = wanted.find((k) => !keys.includes(k));
  if (missing !== undefined) throw new UsageError(`JSON: a ${String(op)} needs "${missing}"`);
  const extra = keys.find((k) => !wanted.includes(k));
  if (extra !== undefined) throw new UsageError(`JSON: a ${String(op)} has no field ${JSON.stringify(extra)}`);
  if (typeof o['key'] !== 'string') throw new UsageError('JSON: "key" must be a string');
  const key = parseKey(o['key'], 'JSON: "key"');
  if (op === 'read') return { op, key };
  if (op === 'write') return { op, key, value: parseValue(o['value'], 'value') };
  return { op: 'cas', key, expected: parseValue(o['expected'], 'expected'), value: parseValue(o['value'], 'value') };
}

function hasControl(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return text.length === 0 || /[\u0000-\u001f\u007f-\u009f]/.test(text);
}
