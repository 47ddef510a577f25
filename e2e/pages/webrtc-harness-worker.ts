/**
 * The dedicated worker of the WebRTC e2e tests: it owns a DataChannelTransport whose channels
 * the page transferred to it at creation (DESIGN.md section 3), and answers the page's calls.
 * RTCPeerConnection does not exist here; the channels work all the same.
 */
import { acceptChannelHandoff } from '../../src/io/transport/channel-handoff.ts';
import { DataChannelTransport } from '../../src/io/transport/data-channel-transport.ts';
import { PortTransport } from '../../src/io/transport/relay-transport.ts';
import { callNode, HarnessNode, type HarnessNodeMethod, type HarnessNodeOptions, type TransportTuning } from './webrtc-harness-node.ts';

interface InitMessage {
  readonly kind: 'init';
  readonly id: number;
  readonly self: string;
  readonly tuning: TransportTuning;
  readonly options?: HarnessNodeOptions;
  /** Relay mode: the worker's end of the main thread's relay (a PortTransport is made on it). */
  readonly relayPort?: MessagePort;
}

interface CallMessage {
  readonly kind: 'call';
  readonly id: number;
  readonly method: HarnessNodeMethod;
  readonly args: unknown[];
}

let node: HarnessNode | undefined;
const scope = globalThis as unknown as { onmessage: ((e: MessageEvent) => void) | null; postMessage(m: unknown): void };

scope.onmessage = (e: MessageEvent<unknown>) => {
  if (node?.transport instanceof DataChannelTransport && acceptChannelHandoff(node.transport, e.data)) return;
  void handle(e.data as InitMessage | CallMessage);
};

async function handle(m: InitMessage | CallMessage): Promise<void> {
  try {
    if (m.kind === 'init') {
      node =
        m.relayPort === undefined
          ? HarnessNode.overDataChannels(m.self, m.tuning, m.options)
          : new HarnessNode(new PortTransport({ self: m.self, port: m.relayPort }), m.options);
      scope.postMessage({
        id: m.id,
        result: {
          realm: globalThis.constructor.name,
          hasRTCPeerConnection: typeof (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection !== 'undefined',
          hasRTCDataChannel: typeof (globalThis as { RTCDataChannel?: unknown }).RTCDataChannel !== 'undefined',
        },
      });
      return;
    }
    if (node === undefined) throw new Error('worker node not initialised');
    const result = await callNode(node, m.method, m.args);
    scope.postMessage({ id: m.id, result });
  } catch (e) {
    scope.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) });
  }
}
