/**
 * The client side of the services' wire: a command value for a named part becomes the bytes the
 * log carries (encoded once, by the caller), and a composite result becomes a typed answer.
 * Results come from our own replicas; they are decoded with the snapshot limits.
 */
import { decodeCompositeResult, serviceCommand } from './composite.ts';
import { decodeValue, encodeValue, snapshotValueLimits, type Value } from './value.ts';

/** A service command: `{ op, ...fields }` for the part named `service`. */
export function encodeServiceCommand(service: string, command: object): Uint8Array {
  return serviceCommand(service, encodeValue(command as Value));
}

export type ServiceAnswer<R> =
  | { readonly status: 'applied'; readonly result: R }
  | { readonly status: 'rejected'; readonly reason: string }
  | { readonly status: 'time'; readonly timeMs: number; readonly advanced: boolean };

/** Decode a composite result whose part result is a value (the service parts; not kv or board). */
export function decodeServiceAnswer<R>(bytes: Uint8Array): ServiceAnswer<R> {
  const r = decodeCompositeResult(bytes);
  if (r.status !== 'applied') return r;
  return { status: 'applied', result: decodeValue(r.result, snapshotValueLimits) as unknown as R };
}
