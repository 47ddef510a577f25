/**
 * What this proves about error codes: there is one union, `ErrorCode` (src/core/error-code.ts),
 * and nothing a user can see carries a code outside it. The source of core, runtime, client,
 * storage and the Playwright fixture is read, and every code it writes (`new NodeError('X'`,
 * `code: 'X'`, `readonly code = 'X'`) must be in the union; every finer code of the other layers
 * (the wire codec's, the machines') must come out of `toTaggedError` as a code of the union other
 * than `INTERNAL`, but for the few listed below with the reason. Every code of the union is used
 * somewhere. A tagged error round-trips through `toTaggedError`, JSON and `NodeError.from` with
 * its code and message; a code this build does not know (from a worker of another build, over
 * comlink) comes back as `INTERNAL` with the unknown code kept in the message.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../src/core/assert.ts';
import { errorCodes, isErrorCode, knownTaggedError, type ErrorCode, type TaggedError } from '../../src/core/error-code.ts';
import { ConfigError, NotLeaderError, ProposalDroppedError, ReadDroppedError } from '../../src/core/raft/errors.ts';
import { err, ok } from '../../src/core/result.ts';
import { unwrap } from '../../src/client/node-error.ts';
import { CodecError, codecErrorCodes } from '../../src/io/codec-error.ts';
import { StorageError } from '../../src/io/storage/storage.ts';
import { NodeError, toTaggedError } from '../../src/runtime/errors.ts';

const srcDir = new URL('../../src/', import.meta.url);

/** Every `.ts` file under `src/<dir>`, as [path, text]. */
function sources(dir: string): [string, string][] {
  const root = new URL(`${dir}/`, srcDir);
  return (readdirSync(root, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts'))
    .map((f) => [`src/${dir}/${f}`, readFileSync(new URL(f, root), 'utf8')]);
}

/** The codes a file writes: `new NodeError('X'`, `new ClusterNodeError('X'`, `code: 'X'`, `code = 'X'`. */
function codesIn(text: string): string[] {
  const patterns = [/new (?:Cluster)?NodeError\(\s*'([A-Z][A-Z0-9_]*)'/g, /\bcode\s*(?::|=)\s*'([A-Z][A-Z0-9_]*)'/g];
  return patterns.flatMap((p) => [...text.matchAll(p)].map((m) => m[1] as string));
}

/** Where a user sees codes directly: each code written there must be in the union. */
const userFacing = ['core', 'runtime', 'client', 'io/storage', 'playwright'];
/** Layers with finer codes of their own, which must come out of `toTaggedError` as a code of the union. */
const finer = ['io', 'machines', 'sim'];
/**
 * Files of the user-facing layers whose `code` fields are not error codes at all, and why: they
 * never become a `TaggedError`, so the union need not hold them.
 */
const notErrorCodes: Readonly<Record<string, string>> = {
  'src/core/gossip/validate-gossip.ts': "the gossip validator's refusal codes (GossipRefusalCode): a peer's message dropped and counted per code in status, never an error a caller sees",
  'src/core/bft/validate-bft.ts': "the BFT validator's refusal codes (BftRefusalCode): a peer's message dropped and counted per code in status, never an error a caller sees",
};
/** Finer codes that do become `INTERNAL`, and why that is right. */
const internalOnPurpose: Readonly<Record<string, string>> = {
  HISTORY_FORMAT: "src/sim/history.ts: the simulator's history files, never read by a node",
};

describe('the ErrorCode union', () => {
  it('holds every code that core, runtime, client, storage and the Playwright fixture write', () => {
    const outside: string[] = [];
    const seen = new Set<string>();
    for (const dir of userFacing) {
      for (const [path, text] of sources(dir)) {
        if (path === 'src/core/error-code.ts' || Object.hasOwn(notErrorCodes, path)) continue;
        for (const code of codesIn(text)) {
          seen.add(code);
          if (!isErrorCode(code)) outside.push(`${path}: ${code}`);
        }
      }
    }
    expect(outside).toEqual([]);
    // The scan has teeth: it finds codes of each layer (a broken pattern would find none).
    for (const code of ['NOT_LEADER', 'ASSERTION', 'TIMEOUT', 'STORAGE', 'ID_IN_USE', 'CONFIG', 'INTERNAL']) expect(seen).toContain(code);
  });

  it('turns every finer code of the layers below into a code of the union, INTERNAL only where meant', () => {
    const finerCodes = new Set<string>(codecErrorCodes);
    for (const dir of finer) {
      for (const [, text] of sources(dir)) for (const code of codesIn(text)) if (!isErrorCode(code)) finerCodes.add(code);
    }
    expect(finerCodes).toContain('KV_DECODE');
    const internal: string[] = [];
    for (const code of finerCodes) {
      const tagged = toTaggedError(Object.assign(new Error('why'), { code }));
      expect(tagged.message, code).toBe(`${code}: why`);
      if (tagged.code === 'INTERNAL') internal.push(code);
    }
    expect(internal.sort()).toEqual(Object.keys(internalOnPurpose).sort());
    expect(toTaggedError(Object.assign(new Error('unusable'), { code: 'IDENTITY' })).code).toBe('STORAGE');
  });

  it('has no code that nothing uses, and no code twice', () => {
    const text = [...userFacing, ...finer].flatMap((dir) => sources(dir)).filter(([path]) => path !== 'src/core/error-code.ts').map(([, t]) => t).join('\n');
    for (const code of errorCodes) expect(text, code).toContain(`'${code}'`);
    expect(new Set(errorCodes).size).toBe(errorCodes.length);
  });
});

describe('tagged errors', () => {
  it('round-trip through toTaggedError, JSON and NodeError.from with code and message', () => {
    for (const code of errorCodes) {
      const tagged = toTaggedError(new NodeError(code, `because ${code}`));
      expect(tagged).toEqual({ code, message: `because ${code}` });
      const back = NodeError.from(JSON.parse(JSON.stringify(tagged)) as TaggedError);
      expect(back).toBeInstanceOf(NodeError);
      expect(back.toJSON()).toEqual(tagged);
      expect(JSON.parse(JSON.stringify(back))).toEqual(tagged);
    }
  });

  it('keep the codes of the core and storage errors', () => {
    const cases: [unknown, ErrorCode][] = [
      [new NotLeaderError('n2'), 'NOT_LEADER'],
      [new ProposalDroppedError('no-leader'), 'PROPOSAL_DROPPED'],
      [new ReadDroppedError('not the leader'), 'READ_DROPPED'],
      [new ConfigError('bad'), 'CONFIG'],
      [new AssertionError('broken'), 'ASSERTION'],
      [new StorageError('write failed', { cause: new Error('quota') }), 'STORAGE'],
    ];
    for (const [error, code] of cases) expect(toTaggedError(error).code).toBe(code);
    expect(toTaggedError(cases[5]?.[0]).message).toBe('write failed (cause: Error: quota)');
  });

  it('make a wire codec error CODEC, its own code kept in the message', () => {
    expect(toTaggedError(new CodecError('INVALID_MESSAGE', 'term above termMax'))).toEqual({ code: 'CODEC', message: 'INVALID_MESSAGE: term above termMax' });
  });

  it('make INTERNAL of anything without a known code', () => {
    expect(toTaggedError(new Error('plain'))).toEqual({ code: 'INTERNAL', message: 'plain' });
    expect(toTaggedError('a string')).toEqual({ code: 'INTERNAL', message: 'a string' });
    expect(toTaggedError({ code: 42, message: 'x' }).code).toBe('INTERNAL');
    expect(toTaggedError(Object.assign(new Error('odd'), { code: 'NO_SUCH_CODE' }))).toEqual({ code: 'INTERNAL', message: 'NO_SUCH_CODE: odd' });
  });

  it('from a worker of another build: an unknown code arrives as INTERNAL, named in the message', () => {
    // What comlink hands the page is data; its code is whatever the worker sent.
    const fromWorker = JSON.parse('{"ok":false,"error":{"code":"FROM_THE_FUTURE","message":"new"}}') as ReturnType<typeof err<TaggedError>>;
    const thrown = (() => {
      try {
        return unwrap(fromWorker);
      } catch (e) {
        return e;
      }
    })();
    expect(thrown).toBeInstanceOf(NodeError);
    expect((thrown as NodeError).code).toBe('INTERNAL');
    expect((thrown as NodeError).message).toBe('FROM_THE_FUTURE: new');
    expect(knownTaggedError({ code: 'TIMEOUT', message: 'late' })).toEqual({ code: 'TIMEOUT', message: 'late' });
    expect(unwrap(ok(7))).toBe(7);
    expect(() => unwrap(err({ code: 'NOT_LEADER', message: 'try n2' }))).toThrow(expect.objectContaining({ code: 'NOT_LEADER', message: 'try n2' }));
  });
});
