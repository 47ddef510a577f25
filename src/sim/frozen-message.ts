import type { Message } from '../core/raft/messages.ts';

/**
 * Messages travel by reference in the simulator, where a real transport would copy them; frozen,
 * an engine that mutated a message after sending it (or one it received) throws instead of
 * silently changing what another node sees. (Entry data bytes cannot be frozen.)
 */
export function freezeMessage(m: Message): Message {
  if (m.type === 'append') {
    for (const e of m.entries) Object.freeze(e);
    Object.freeze(m.entries);
  } else if (m.type === 'propose') {
    Object.freeze(m.data);
  }
  return Object.freeze(m);
}

