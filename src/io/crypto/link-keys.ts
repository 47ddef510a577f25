/**
 * The key of the link between two nodes of a cluster, derived from the cluster secret. Both ends
 * derive the same key on their own, with no exchange; a member that knows the secret can derive
 * the key of any pair (the secret is the trust root: docs/design.md, "Authenticated links").
 *
 * The construction (HKDF-SHA256, RFC 5869), for docs/protocol.md:
 *
 *   label  = UTF-8("peerquorum link v2")                       18 bytes
 *   lp(s)  = u16be(len(UTF-8(s))) || UTF-8(s)                  a length-prefixed string
 *   lo, hi = the two node ids, sorted by their UTF-8 bytes (bytewise, a prefix first)
 *
 *   IKM    = the cluster secret (bytes as given; a string secret is its UTF-8, unnormalized)
 *   salt   = label
 *   info   = label || lp(cluster) || lp(lo) || lp(hi)
 *   L      = 32
 *   K_link = HKDF-SHA256(IKM, salt, info, L)
 *          = HKDF-Expand(HKDF-Extract(salt, IKM), info, 32)    one Expand block: T(1)
 *
 * Why each part:
 * - The label, as salt and again in info, separates these keys from anything else a future
 *   version derives from the same secret (the version is in the label: a v3 gets other keys).
 * - The cluster in info: one secret reused by two clusters still gives them unrelated keys.
 * - Sorting makes the key the same at both ends; the length prefixes make the encoding
 *   injective, so ("ab", "c") and ("a", "bc") are different inputs. Sorting is bytewise on UTF-8
 *   (code point order), not JavaScript's UTF-16 `<`, so another language reproduces it.
 * - Names are non-empty, well-formed (no lone surrogate, which UTF-8 would turn into U+FFFD and
 *   so merge two ids) and at most 65,535 UTF-8 bytes; a link joins two DIFFERENT ids.
 *
 * The secret must be at least `secretBytesMin` (16) bytes. HKDF does not stretch a weak secret:
 * use 32 random bytes (`crypto.getRandomValues`), not a password.
 */
import type { NodeId } from '../../core/raft/types.ts';
import { ConfigError } from '../../core/raft/errors.ts';
import { compareBytes, isWellFormed, lengthPrefixed, lengthPrefixedBytesMax, nameProblem, utf8 } from './bytes.ts';
import { hkdfSha256Expand, hkdfSha256Extract, sha256DigestBytes } from './sha256.ts';

/** The protocol name and version bound into every link key (salt and info). */
export const linkKeyLabel = 'peerquorum link v2';
/** Bytes in a link key. */
export const linkKeyBytesCount = sha256DigestBytes;
/** Shortest cluster secret accepted, in bytes. */
export const secretBytesMin = 16;

/** A cluster secret as the app passes it: bytes, or a string taken as its UTF-8. */
export type ClusterSecret = Uint8Array | string;

const labelBytes = utf8(linkKeyLabel);

/** The secret's bytes (a copy), checked. Throws `ConfigError`: the secret is configuration. */
export function secretBytes(secret: ClusterSecret): Uint8Array {
  let bytes: Uint8Array;
  if (typeof secret === 'string') {
    if (!isWellFormed(secret)) {
      throw new ConfigError('the cluster secret string is not well-formed UTF-16 (lone surrogate)');
    }
    bytes = utf8(secret);
  } else if (secret instanceof Uint8Array) {
    bytes = new Uint8Array(secret);
  } else {
    throw new ConfigError(`the cluster secret must be a Uint8Array or a string, got ${typeof secret}`);
  }
  if (bytes.length < secretBytesMin) {
    throw new ConfigError(`the cluster secret has ${bytes.length} bytes, fewer than ${secretBytesMin}`);
  }
  return bytes;
}

/** Throws `ConfigError` unless `value` can be a cluster or id in the construction. */
export function checkLinkName(value: unknown, what: string): asserts value is string {
  const problem = nameProblem(value, lengthPrefixedBytesMax);
  if (problem !== null) throw new ConfigError(`${what}: ${problem}`);
}

/** The HKDF info of the link (a, b) of `cluster` (see the header); exported for tests and docs. */
export function linkKeyInfo(cluster: string, a: NodeId, b: NodeId): Uint8Array {
  checkLinkName(cluster, 'cluster');
  checkLinkName(a, 'node id');
  checkLinkName(b, 'node id');
  const aBytes = utf8(a);
  const bBytes = utf8(b);
  const order = compareBytes(aBytes, bBytes);
  if (order === 0) throw new ConfigError(`a link joins two different nodes, got ${JSON.stringify(a)} twice`);
  const [lo, hi] = order < 0 ? [aBytes, bBytes] : [bBytes, aBytes];
  const names = lengthPrefixed([utf8(cluster), lo, hi]);
  const info = new Uint8Array(labelBytes.length + names.length);
  info.set(labelBytes, 0);
  info.set(names, labelBytes.length);
  return info;
}

/**
 * The 32-byte key of the link between `a` and `b` in `cluster` (symmetric: (a, b) and (b, a)
 * give the same key). Throws `ConfigError` on a bad secret, cluster or id.
 */
export function linkKeyBytes(secret: ClusterSecret, cluster: string, a: NodeId, b: NodeId): Uint8Array {
  return new LinkKeyDeriver(secret, cluster).keyFor(a, b);
}

/**
 * `linkKeyBytes` for many links of one cluster: the HKDF-Extract step (which depends only on
 * the secret) is done once, each key then costs one Expand block. Holds the PRK, not the secret.
 */
export class LinkKeyDeriver {
  readonly cluster: string;
  private readonly prk: Uint8Array;

  constructor(secret: ClusterSecret, cluster: string) {
    checkLinkName(cluster, 'cluster');
    const ikm = secretBytes(secret);
    this.cluster = cluster;
    this.prk = hkdfSha256Extract(ikm, labelBytes);
    ikm.fill(0);
  }

  keyFor(a: NodeId, b: NodeId): Uint8Array {
    return hkdfSha256Expand(this.prk, linkKeyInfo(this.cluster, a, b), linkKeyBytesCount);
  }
}
