/**
 * One body codec per protocol family (DESIGN.md §4): the shape the runtime's frame router uses
 * to hand each decoded envelope's body to the codec of its family, and each message to its
 * engine. The envelope (envelope.ts) is routed and authenticated first; only then does a family
 * codec read the body.
 *
 * `raft`, `gossip` and `bft` have codecs. `client` is a family of the protocol without one
 * yet: `decodeFamilyBody` refuses its bodies as UNSUPPORTED_FAMILY, which the router counts
 * like any other drop. A family joins by adding its message type to `FamilyMessages` and its
 * codec to `createFamilyCodecs`; the types then make every router `switch` on the family name
 * it.
 */
import type { BftWireMessage } from './codec-bft.ts';
import type { GossipMessage } from '../core/gossip/messages.ts';
import type { Message } from '../core/raft/messages.ts';
import type { NodeId } from '../core/raft/types.ts';
import { err, ok, type Result } from '../core/result.ts';
import { CodecError } from './codec-error.ts';
import { codecLimitsDefault, type CodecLimits } from './codec-limits.ts';
import { decodeBftBody, encodeBftBody } from './codec-bft.ts';
import { decodeGossipBody, encodeGossipBody } from './codec-gossip.ts';
import { decodeRaftBody, encodeRaftBody } from './codec-raft.ts';
import type { DecodedEnvelope, ProtocolFamily } from './envelope.ts';

/** What the envelope tells a body codec: the body must agree with it (a peer speaks only for itself). */
export interface FamilyBodyContext {
  readonly cluster: string;
  readonly from: NodeId;
  readonly to: NodeId;
}

/**
 * The codec of one family's bodies.
 * - `encode` checks our own message by the rules its receivers apply and throws a `CodecError`
 *   if it breaks one (a bug or a misconfigured limit, never a peer's doing).
 * - `decode` NEVER throws: a peer's body becomes a validated message of the family, or a
 *   `CodecError` to count and drop.
 */
export interface FamilyCodec<M, F extends ProtocolFamily = ProtocolFamily> {
  readonly family: F;
  encode(message: M): Uint8Array;
  decode(body: Uint8Array, ctx: FamilyBodyContext): Result<M, CodecError>;
}

/** The message type of each family that has a codec. */
export interface FamilyMessages {
  readonly raft: Message;
  readonly gossip: GossipMessage;
  readonly bft: BftWireMessage;
}

/** The families with a codec. */
export type CodedFamily = keyof FamilyMessages;

/** A codec for every family that has one. */
export type FamilyCodecs = { readonly [F in CodedFamily]: FamilyCodec<FamilyMessages[F], F> };

/** A decoded body, tagged with its family so that a router can `switch` on it. */
export type FamilyBody = { readonly [F in CodedFamily]: { readonly family: F; readonly message: FamilyMessages[F] } }[CodedFamily];

/** The `raft` family's codec (codec-raft.ts) under `limits`. */
export function createRaftCodec(limits: CodecLimits = codecLimitsDefault): FamilyCodec<Message, 'raft'> {
  return {
    family: 'raft',
    encode: (message) => encodeRaftBody(message, limits),
    decode: (body, ctx) => decodeRaftBody(body, { from: ctx.from, to: ctx.to, limits }),
  };
}

/** The `gossip` family's codec (codec-gossip.ts) under `limits`. */
export function createGossipCodec(limits: CodecLimits = codecLimitsDefault): FamilyCodec<GossipMessage, 'gossip'> {
  return {
    family: 'gossip',
    encode: (message) => encodeGossipBody(message, limits),
    decode: (body, ctx) => decodeGossipBody(body, { from: ctx.from, to: ctx.to, limits }),
  };
}

/** The `bft` family's codec (codec-bft.ts) under `limits`: request digests computed at decode. */
export function createBftCodec(limits: CodecLimits = codecLimitsDefault): FamilyCodec<BftWireMessage, 'bft'> {
  return {
    family: 'bft',
    encode: (message) => encodeBftBody(message, limits),
    decode: (body, ctx) => decodeBftBody(body, { from: ctx.from, to: ctx.to, limits }),
  };
}

/** Every family codec under one set of limits. */
export function createFamilyCodecs(limits: CodecLimits = codecLimitsDefault): FamilyCodecs {
  return { raft: createRaftCodec(limits), gossip: createGossipCodec(limits), bft: createBftCodec(limits) };
}

export function isCodedFamily(family: ProtocolFamily, codecs: FamilyCodecs): family is CodedFamily {
  return Object.hasOwn(codecs, family);
}

/**
 * The body of a decoded (and, on an authenticated link, authenticated) envelope, read by its
 * family's codec. NEVER throws: UNSUPPORTED_FAMILY for a family without a codec, otherwise the
 * codec's own refusals.
 */
export function decodeFamilyBody(codecs: FamilyCodecs, envelope: Pick<DecodedEnvelope, 'family' | 'cluster' | 'from' | 'to' | 'body'>): Result<FamilyBody, CodecError> {
  const { family, cluster, from, to, body } = envelope;
  if (!isCodedFamily(family, codecs)) {
    return err(new CodecError('UNSUPPORTED_FAMILY', `family: ${family} has no codec on this node yet`, 'family'));
  }
  switch (family) {
    case 'raft': {
      const decoded = codecs.raft.decode(body, { cluster, from, to });
      return decoded.ok ? ok({ family, message: decoded.value }) : decoded;
    }
    case 'gossip': {
      const decoded = codecs.gossip.decode(body, { cluster, from, to });
      return decoded.ok ? ok({ family, message: decoded.value }) : decoded;
    }
    case 'bft': {
      const decoded = codecs.bft.decode(body, { cluster, from, to });
      return decoded.ok ? ok({ family, message: decoded.value }) : decoded;
    }
    default: {
      const never: never = family;
      return never;
    }
  }
}
