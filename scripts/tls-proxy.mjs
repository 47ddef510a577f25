#!/usr/bin/env node
/**
 * A TLS-terminating TCP proxy, ONLY to try docs/deploy.md's "TLS in front of WebSocket" on one
 * machine without nginx or Caddy: `node scripts/tls-proxy.mjs --listen HOST:PORT --to HOST:PORT
 * --cert cert.pem --key key.pem`. It accepts TLS on --listen and pipes the decrypted bytes to a
 * node's plain ws:// port, so peers and clients dial wss://. In production put a real reverse
 * proxy there (docs/deploy.md shows nginx and Caddy settings); this has no limits of its own
 * beyond a cap on connections.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { createServer } from 'node:tls';

const connectionsMax = 1024;

function arg(name) {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? process.argv[i + 1] : undefined;
  if (value === undefined) {
    process.stderr.write(`tls-proxy: --${name} is required (--listen HOST:PORT --to HOST:PORT --cert F --key F)\n`);
    process.exit(2);
  }
  return value;
}

function hostPort(text, name) {
  const m = /^(.+):(\d{1,5})$/.exec(text);
  if (m === null) {
    process.stderr.write(`tls-proxy: --${name} must be HOST:PORT, got ${JSON.stringify(text)}\n`);
    process.exit(2);
  }
  return { host: m[1], port: Number(m[2]) };
}

const listen = hostPort(arg('listen'), 'listen');
const to = hostPort(arg('to'), 'to');
let open = 0;
const server = createServer({ cert: readFileSync(arg('cert')), key: readFileSync(arg('key')) }, (tls) => {
  if (open >= connectionsMax) return tls.destroy();
  open++;
  const plain = connect(to.port, to.host);
  tls.pipe(plain).pipe(tls);
  const end = () => {
    tls.destroy();
    plain.destroy();
  };
  tls.on('error', end);
  plain.on('error', end);
  tls.once('close', () => {
    open--;
    end();
  });
});
server.on('tlsClientError', () => undefined);
server.listen(listen.port, listen.host, () => process.stderr.write(`tls-proxy: wss on ${listen.host}:${listen.port} -> ws on ${to.host}:${to.port}\n`));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
