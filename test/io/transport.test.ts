/**
 * Runs the transport compliance suite against the adapters that work in Node: the in-memory
 * hub, and BroadcastChannel (a global in Node 20, with the same semantics as in browsers:
 * structured-clone delivery to every other channel of the same name). The PeerJS WebRTC
 * adapter runs the same suite in Chromium.
 */
import { BroadcastChannelTransport } from '../../src/io/transport/broadcast-channel-transport.ts';
import { MemoryHub } from '../../src/io/transport/memory-transport.ts';
import { describeTransportCompliance } from './transport-compliance.ts';

const hubs = new Map<string, MemoryHub>();
const frameBytesMax = 64 * 1024;

describeTransportCompliance('memory', {
  frameBytesMax,
  async connect(network, id) {
    let hub = hubs.get(network);
    if (hub === undefined) {
      hub = new MemoryHub();
      hubs.set(network, hub);
    }
    return hub.connect(id, { frameBytesMax });
  },
});

describeTransportCompliance('BroadcastChannel', {
  frameBytesMax,
  async connect(network, id) {
    return new BroadcastChannelTransport({ cluster: network, self: id, frameBytesMax });
  },
});
