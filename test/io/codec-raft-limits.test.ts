/**
 * What this proves about the configurable limits (src/io/codec-limits.ts, docs/protocol.md
 * "Limits") as the `raft` body codec and the envelope apply them, beyond the bounds of
 * codec-raft.test.ts (entry data, proposals at the default, nodeIdBytesMax, the value count):
 *
 * - entriesPerFrameMax and confMembersMax: one over is INVALID_MESSAGE at `body.entries`,
 *   `body.data` or the configuration; at the limit the body passes.
 * - idCharsMax counts code points in the body (INVALID_MESSAGE) and in the envelope (MALFORMED);
 *   clusterCharsMax counts them in the envelope, an astral character once.
 * - snapshotChunkBytesMax bounds a chunk, snapshotBytesMax where a chunk ends and what an
 *   acknowledgement claims.
 * - frameBytesMax bounds a body given alone, decoded (FRAME_TOO_LARGE before parsing) and
 *   encoded: a body of exactly the limit passes both ways, one byte more does not.
 * - resolveCodecLimits returns the defaults when given nothing, and refuses limits that are not
 *   positive safe integers.
 */
import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env['MSGPACKR_NATIVE_ACCELERATION_DISABLED'] ??= 'true';
});

import { codecLimitsDefault, resolveCodecLimits, type CodecLimits } from '../../src/io/codec-limits.ts';
import { tryEncodeRaftBody } from '../../src/io/codec-raft.ts';
import { decodeEnvelope, encodeEnvelope, type EnvelopeHeader } from '../../src/io/envelope.ts';
import { at, bodyOf, decodeAs, expectRejected, sampleOf, tamper } from './raft-body-samples.ts';

describe('counts: entries, commands, members', () => {
  it('more members than confMembersMax, more entries than entriesPerFrameMax: INVALID_MESSAGE; at the limit: accepted', () => {
    const append = bodyOf(sampleOf('append')); // 4 entries, a configuration of 4 members
    expect(decodeAs(append, undefined, resolveCodecLimits({ entriesPerFrameMax: 4, confMembersMax: 4 })).ok).toBe(true);
    expectRejected(append, 'INVALID_MESSAGE', 'body.entries', undefined, resolveCodecLimits({ entriesPerFrameMax: 3 }));
    expectRejected(append, 'INVALID_MESSAGE', 'body.entries[2].config', undefined, resolveCodecLimits({ confMembersMax: 3 }));
    const propose = sampleOf('propose'); // 3 commands
    expect(decodeAs(bodyOf(propose), propose, resolveCodecLimits({ entriesPerFrameMax: 3 })).ok).toBe(true);
    expectRejected(bodyOf(propose), 'INVALID_MESSAGE', 'body.data', propose, resolveCodecLimits({ entriesPerFrameMax: 2 }));
  });
});

describe('names counted in code points', () => {
  it('a node id longer than idCharsMax in the body: INVALID_MESSAGE', () => {
    const limits = resolveCodecLimits({ idCharsMax: 2 });
    const transfer = sampleOf('transfer-leader');
    expectRejected(
      tamper(transfer, (b) => (b['transferee'] = 'n33')),
      'INVALID_MESSAGE',
      'body.transferee',
      transfer,
      limits,
    );
    expect(decodeAs(bodyOf(sampleOf('heartbeat')), undefined, limits).ok).toBe(true);
    const longMember = tamper(sampleOf('append'), (b) => (at(b['entries'], 2)['config'] = { voters: ['n1', 'n333'], learners: [] }));
    expectRejected(longMember, 'INVALID_MESSAGE', 'body.entries[2].config.voters[1]', undefined, resolveCodecLimits({ idCharsMax: 3 }));
  });

  const header: EnvelopeHeader = { family: 'raft', cluster: 'c', from: 'n1', to: 'n2', seq: 0 };
  const body = bodyOf(sampleOf('heartbeat'));

  /** The envelope code and field of a frame of `header`, decoded under `limits`. */
  function envelopeVerdict(h: EnvelopeHeader, limits: CodecLimits): [string, string | null] | true {
    const result = decodeEnvelope(encodeEnvelope(h, body), limits, { cluster: h.cluster, self: h.to });
    return result.ok || [result.error.code, result.error.field];
  }

  it('a sender or recipient longer than idCharsMax in the envelope: MALFORMED', () => {
    const limits = resolveCodecLimits({ idCharsMax: 2 });
    expect(envelopeVerdict(header, limits)).toBe(true);
    expect(envelopeVerdict({ ...header, from: 'n11' }, limits)).toEqual(['MALFORMED', 'from']);
    expect(envelopeVerdict({ ...header, to: 'n22' }, limits)).toEqual(['MALFORMED', 'to']);
  });

  it('clusterCharsMax counts an astral character once: 32 of them pass at 32, not at 31', () => {
    const astral = { ...header, cluster: '😀'.repeat(32) }; // 128 bytes, 32 code points
    expect(envelopeVerdict(astral, resolveCodecLimits({ clusterCharsMax: 32 }))).toBe(true);
    expect(envelopeVerdict(astral, resolveCodecLimits({ clusterCharsMax: 31 }))).toEqual(['MALFORMED', 'cluster']);
    expect(envelopeVerdict({ ...header, cluster: 'nœud-ß 東京' }, codecLimitsDefault)).toBe(true);
  });
});

describe('snapshots', () => {
  const snapshot = sampleOf('snapshot'); // a chunk of 256 bytes at offset 65,536

  it('a snapshot chunk beyond snapshotChunkBytesMax or ending beyond snapshotBytesMax: INVALID_MESSAGE', () => {
    const body = bodyOf(snapshot);
    expect(decodeAs(body, snapshot, resolveCodecLimits({ snapshotChunkBytesMax: 256 })).ok).toBe(true);
    expectRejected(body, 'INVALID_MESSAGE', 'body.data', snapshot, resolveCodecLimits({ snapshotChunkBytesMax: 255 }));
    expect(decodeAs(body, snapshot, resolveCodecLimits({ snapshotBytesMax: 65_792 })).ok).toBe(true);
    expectRejected(body, 'INVALID_MESSAGE', 'body.offset', snapshot, resolveCodecLimits({ snapshotBytesMax: 65_791 }));
  });

  it('an acknowledgement claiming more than snapshotBytesMax received: INVALID_MESSAGE', () => {
    const response = sampleOf('snapshot-response'); // 65,792 received
    expectRejected(bodyOf(response), 'INVALID_MESSAGE', 'body.received', response, resolveCodecLimits({ snapshotBytesMax: 1000 }));
  });
});

describe('frameBytesMax on a body given alone', () => {
  const append = sampleOf('append');
  const size = bodyOf(append).byteLength;

  it('decoding: exactly the limit passes; one byte over is FRAME_TOO_LARGE, not parsed', () => {
    expect(decodeAs(bodyOf(append), undefined, resolveCodecLimits({ frameBytesMax: size })).ok).toBe(true);
    expectRejected(bodyOf(append), 'FRAME_TOO_LARGE', null, undefined, resolveCodecLimits({ frameBytesMax: size - 1 }));
  });

  it('encoding: exactly the limit passes; one byte over is FRAME_TOO_LARGE', () => {
    expect(tryEncodeRaftBody(append, resolveCodecLimits({ frameBytesMax: size })).ok).toBe(true);
    const over = tryEncodeRaftBody(append, resolveCodecLimits({ frameBytesMax: size - 1 }));
    expect(over.ok || over.error.code).toBe('FRAME_TOO_LARGE');
  });
});

describe('resolveCodecLimits', () => {
  it('gives the defaults when given nothing, and refuses limits that are not positive integers', () => {
    expect(resolveCodecLimits()).toEqual(codecLimitsDefault);
    for (const bad of [0, -1, 1.5, NaN, Infinity]) {
      expect(() => resolveCodecLimits({ idCharsMax: bad })).toThrow(/idCharsMax/);
    }
  });
});
