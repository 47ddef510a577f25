/**
 * What this proves about `CodecMetrics` (src/io/codec-metrics.ts): it starts with a zero for
 * every code, and counting a receiver's outcomes (the v2 envelope, then the `raft` body codec)
 * gives frames decoded, frames dropped, and drops by code, each frame once, by the first
 * refusal it met.
 */
import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env['MSGPACKR_NATIVE_ACCELERATION_DISABLED'] ??= 'true';
});

import type { Message } from '../../src/core/raft/messages.ts';
import type { Result } from '../../src/core/result.ts';
import { codecErrorCodes, type CodecError } from '../../src/io/codec-error.ts';
import { codecLimitsDefault } from '../../src/io/codec-limits.ts';
import { countDecode, createCodecMetrics } from '../../src/io/codec-metrics.ts';
import { decodeRaftBody } from '../../src/io/codec-raft.ts';
import { decodeEnvelope, encodeEnvelope, type EnvelopeExpect } from '../../src/io/envelope.ts';
import { bodyOf, sampleOf } from './raft-body-samples.ts';

const cluster = 'test-cluster';

/** What a receiver does with a frame (minus the tag check): the envelope, then the body. */
function receive(frame: Uint8Array, expect: EnvelopeExpect): Result<Message, CodecError> {
  const envelope = decodeEnvelope(frame, codecLimitsDefault, expect);
  if (!envelope.ok) return envelope;
  return decodeRaftBody(envelope.value.body, { from: envelope.value.from, to: envelope.value.to });
}

describe('metrics', () => {
  it('start at zero for every code', () => {
    const metrics = createCodecMetrics();
    expect([metrics.framesDecoded, metrics.framesDropped]).toEqual([0, 0]);
    expect(Object.keys(metrics.droppedByCode)).toEqual([...codecErrorCodes]);
    expect(Object.values(metrics.droppedByCode).every((n) => n === 0)).toBe(true);
  });

  it('count frames decoded and frames dropped by code, each frame once', () => {
    const metrics = createCodecMetrics();
    const frameOf = (body: Uint8Array): Uint8Array => encodeEnvelope({ family: 'raft', cluster, from: 'n1', to: 'n2', seq: 0 }, body);
    const heartbeat = frameOf(bodyOf(sampleOf('heartbeat')));
    const n2 = { cluster, self: 'n2' };
    for (let i = 0; i < 3; i++) countDecode(metrics, receive(heartbeat, n2));
    countDecode(metrics, receive(new Uint8Array(0), n2)); // not an envelope
    countDecode(metrics, receive(Uint8Array.of(0x81, 0xa1, 0x76, 0x01), n2)); // a v1 frame
    countDecode(metrics, receive(frameOf(Uint8Array.of(0xc1)), n2)); // an envelope around a bad body
    countDecode(metrics, receive(heartbeat, { cluster: 'other', self: 'n3' })); // both wrong: the cluster is checked first
    countDecode(metrics, receive(heartbeat, { cluster, self: 'n3' }));
    countDecode(metrics, receive(frameOf(bodyOf(sampleOf('vote'))), n2)); // a body from n3 in a frame from n1
    receive(heartbeat, n2); // not counted
    expect(metrics.framesDecoded).toBe(3);
    expect(metrics.framesDropped).toBe(6);
    expect(metrics.droppedByCode).toEqual({
      FRAME_TOO_LARGE: 0,
      MALFORMED: 2,
      TOO_MANY_VALUES: 0,
      BAD_VERSION: 1,
      WRONG_CLUSTER: 1,
      WRONG_RECIPIENT: 1,
      UNSUPPORTED_FAMILY: 0,
      UNKNOWN_TYPE: 0,
      INVALID_MESSAGE: 1,
    });
  });
});
