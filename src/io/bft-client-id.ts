/**
 * The id a node's BFT client speaks under (src/core/bft/client.ts): `<node>/client`.
 *
 * Why not the node's own id: PBFT's replica tells a client's request from a backup's relay of it
 * by its sender (normal-case.ts: a replica's relay is not answered from the reply cache and is
 * not relayed again, PBFT §4.1), so a node that is both a replica and a client must be two
 * senders. The alias travels inside the body only: the envelope names the node, which is what
 * the link authenticates, and the codec (codec-bft.ts) lets a body name the sender's own client
 * and nobody else's. The client's signature is made with the node's identity key, so the alias
 * proves nothing its node could not.
 */
export const bftClientSuffix = '/client';

/**
 * A node may run several clients (`bftClients`): PBFT gives each client one request outstanding
 * (§4.1, the exactly-once table holds one timestamp per client), so a node's concurrent
 * proposals go through as many clients as it runs. Client k > 0 is `<node>/client-k`.
 */
export const bftClientsPerNodeMax = 64;

export function bftClientIdOf(node: string, index = 0): string {
  return index === 0 ? `${node}${bftClientSuffix}` : `${node}${bftClientSuffix}-${index}`;
}

const aliasPattern = /\/client(?:-([1-9][0-9]?))?$/;

/** The node whose client `id` is, or null when `id` is not a client alias. */
export function bftClientNodeOf(id: string): string | null {
  const m = aliasPattern.exec(id);
  if (m === null || m.index === 0) return null;
  if (m[1] !== undefined && Number(m[1]) >= bftClientsPerNodeMax) return null;
  return id.slice(0, m.index);
}

/** The node whose key signs as `signer`: the node itself, or the node of a client alias. */
export function bftSignerNode(signer: string): string {
  return bftClientNodeOf(signer) ?? signer;
}
