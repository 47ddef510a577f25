/**
 * Runs the transport compliance suite against every adapter that works in Node, each also with
 * its bound on links set (`connectBounded`): the in-memory hub; BroadcastChannel (a global in
 * Node 20, with the same semantics as in browsers: structured-clone delivery to every other
 * channel of the same name); DataChannelTransport over fake channel pairs
 * (transport-fake-channels.ts: its handshake, chunking and link table without a browser); and
 * the MessagePort relay (PortTransport in front of relayTransport over the memory hub, the
 * worker/main split of the fallback). The real WebRTC adapter, direct and relayed, runs the
 * same suite in Chromium (e2e/webrtc-compliance.spec.ts).
 */
import { BroadcastChannelTransport } from '../../src/io/transport/broadcast-channel-transport.ts';
import { DataChannelTransport } from '../../src/io/transport/data-channel-transport.ts';
import { MemoryHub } from '../../src/io/transport/memory-transport.ts';
import { PortTransport, relayTransport } from '../../src/io/transport/relay-transport.ts';
import type { Transport } from '../../src/io/transport/transport.ts';
import { describeTransportCompliance } from './transport-compliance.ts';
import { FakeChannelMesh } from './transport-fake-channels.ts';

const frameBytesMax = 64 * 1024;

const hubs = new Map<string, MemoryHub>();
function hubOf(network: string): MemoryHub {
  let hub = hubs.get(network);
  if (hub === undefined) {
    hub = new MemoryHub();
    hubs.set(network, hub);
  }
  return hub;
}

describeTransportCompliance('memory', {
  frameBytesMax,
  async connect(network, id) {
    return hubOf(network).connect(id, { frameBytesMax });
  },
  async connectBounded(network, id, linksMax) {
    return hubOf(network).connect(id, { frameBytesMax, linksMax });
  },
});

describeTransportCompliance('BroadcastChannel', {
  frameBytesMax,
  async connect(network, id) {
    return new BroadcastChannelTransport({ cluster: network, self: id, frameBytesMax });
  },
  async connectBounded(network, id, linksMax) {
    return new BroadcastChannelTransport({ cluster: network, self: id, frameBytesMax, linksMax });
  },
});

const mesh = new FakeChannelMesh();
function dataChannelNode(network: string, id: string, linksMax?: number): Transport {
  // Small messages, so that the suite's larger frames are chunked.
  const transport = new DataChannelTransport({ self: id, frameBytesMax, messageBytesMax: 1024, helloIntervalMs: 10, ...(linksMax === undefined ? {} : { linksMax }) });
  mesh.join(network, transport);
  const close = transport.close.bind(transport);
  transport.close = async () => {
    mesh.leave(network, id);
    await close();
  };
  return transport;
}

describeTransportCompliance('WebRTC data channels (fake channels)', {
  frameBytesMax,
  async connect(network, id) {
    return dataChannelNode(network, id);
  },
  async connectBounded(network, id, linksMax) {
    return dataChannelNode(network, id, linksMax);
  },
});

/** The worker's PortTransport; the main thread's memory transport behind the relay. */
function relayedNode(network: string, id: string, linksMax?: number): Transport {
  const { port1, port2 } = new MessageChannel();
  relayTransport(hubOf(network).connect(id, { frameBytesMax }), port1);
  return new PortTransport({ self: id, port: port2, frameBytesMax, ...(linksMax === undefined ? {} : { linksMax }) });
}

describeTransportCompliance('MessagePort relay (over memory)', {
  frameBytesMax,
  async connect(network, id) {
    return relayedNode(network, id);
  },
  async connectBounded(network, id, linksMax) {
    return relayedNode(network, id, linksMax);
  },
});
