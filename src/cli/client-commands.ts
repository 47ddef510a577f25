/**
 * The command line's client commands: `propose`, `read` and `status` (help.ts), each a
 * `ClusterClient` (cluster-client.ts) connected for one request. What they print on stdout is
 * JSON only (a script may parse it); what goes wrong before the cluster answers is thrown as a
 * `CliError` with its exit code, and main.ts prints it as one line on stderr.
 */
import { decodeKvResult, encodeKvCommand, type KvCommand } from '../machines/kv.ts';
import type { ClientReply } from '../io/codec-client.ts';
import type { PeerAddress } from './args.ts';
import { ClientConnectError, ClusterClient, replyText } from './cluster-client.ts';
import { CliError, exitCodes, readSecretFile } from './cli-error.ts';

export interface ClientCommandArgs {
  readonly cluster: string;
  readonly peers: readonly PeerAddress[];
  readonly secretFile: string | null;
  readonly timeoutMs: number;
}

/** Where a command writes (stdout lines), so tests can run commands without a process. */
export type Print = (line: string) => void;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function connect(args: ClientCommandArgs, only?: string): Promise<ClusterClient> {
  const secret = args.secretFile === null ? null : await readSecretFile(args.secretFile);
  try {
    return await ClusterClient.connect({ cluster: args.cluster, peers: args.peers, secret, timeoutMs: args.timeoutMs, ...(only === undefined ? {} : { only }) });
  } catch (e) {
    if (e instanceof ClientConnectError) throw new CliError(e.code === 'AUTH' ? exitCodes.auth : exitCodes.unreachable, e.message);
    throw e;
  }
}

async function once(args: ClientCommandArgs, op: 'propose' | 'read', data: Uint8Array): Promise<ClientReply> {
  const client = await connect(args);
  try {
    return await client.request(op, data, args.timeoutMs);
  } finally {
    await client.close();
  }
}

/** A failure the cluster answered: printed as JSON (the outcome), exit 1. */
function failed(reply: ClientReply, print: Print): number {
  print(JSON.stringify({ ok: false, code: reply.code, message: replyText(reply) }));
  return exitCodes.failed;
}

export async function runPropose(args: ClientCommandArgs & { readonly command: KvCommand }, print: Print): Promise<number> {
  const reply = await once(args, 'propose', encodeKvCommand(args.command));
  if (reply.code !== '') return failed(reply, print);
  const result = decodeKvResult(reply.data);
  if (!result.ok) throw new CliError(exitCodes.failed, `the cluster's answer is not a key-value result (${result.error.message}): does it run the KV machine?`);
  print(JSON.stringify({ ok: true, result: result.value }));
  return exitCodes.ok;
}

export async function runRead(args: ClientCommandArgs & { readonly key: string }, print: Print): Promise<number> {
  const reply = await once(args, 'read', encoder.encode(JSON.stringify(args.key)));
  if (reply.code !== '') return failed(reply, print);
  print(decoder.decode(reply.data));
  return exitCodes.ok;
}

/**
 * Each member's status, asked of each member itself (one connection each, in parallel): a member
 * that cannot be reached is listed with its error. Exit 0 when at least one answered.
 */
export async function runStatus(args: ClientCommandArgs, print: Print): Promise<number> {
  const results = await Promise.all(
    args.peers.map(async (peer): Promise<[string, unknown]> => {
      try {
        const client = await connect(args, peer.id);
        try {
          const reply = await client.request('status', new Uint8Array(0), args.timeoutMs);
          return [peer.id, reply.code === '' ? (JSON.parse(decoder.decode(reply.data)) as unknown) : { error: reply.code, message: replyText(reply) }];
        } finally {
          await client.close();
        }
      } catch (e) {
        if (!(e instanceof CliError)) throw e;
        return [peer.id, { error: e.exitCode === exitCodes.auth ? 'AUTH' : 'UNREACHABLE', message: e.message }];
      }
    }),
  );
  print(JSON.stringify(Object.fromEntries(results)));
  const answered = results.filter(([, r]) => !(typeof r === 'object' && r !== null && 'error' in r));
  if (answered.length > 0) return exitCodes.ok;
  const auth = results.some(([, r]) => (r as { error?: string }).error === 'AUTH');
  throw new CliError(auth ? exitCodes.auth : exitCodes.unreachable, auth ? 'no member authenticated us: wrong or missing --secret-file' : 'no member reachable');
}
