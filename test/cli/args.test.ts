/**
 * The command line's argument parser (src/cli/args.ts): each command of the issue parses to the
 * typed command it means (both `--flag value` and `--flag=value`), and each mistake a person
 * makes (unknown command or flag, a flag twice or without a value, a missing flag, a bad peer
 * list, address, protocol, timeout, key-value JSON) is a `UsageError` with one line naming it.
 */
import { describe, expect, it } from 'vitest';
import { parseArgs, parseKvCommand, parseListen, parsePeers, UsageError } from '../../src/cli/args.ts';

const peers = 'n2=ws://127.0.0.1:7002,n3=ws://127.0.0.1:7003';

describe('parseArgs', () => {
  it('parses node with every flag', () => {
    expect(parseArgs(['node', '--cluster', 'c1', '--id', 'n1', '--data', '/tmp/d', '--listen', '127.0.0.1:7001', '--peers', peers, '--secret-file', 's.txt', '--protocol', 'raft'])).toEqual({
      kind: 'node',
      cluster: 'c1',
      id: 'n1',
      data: '/tmp/d',
      listen: { host: '127.0.0.1', port: 7001 },
      peers: [
        { id: 'n2', url: 'ws://127.0.0.1:7002' },
        { id: 'n3', url: 'ws://127.0.0.1:7003' },
      ],
      secretFile: 's.txt',
      protocol: 'raft',
      electionTimeoutMs: null,
    });
    expect(parseArgs(['node', '--cluster', 'c1', '--id', 'n1', '--data', 'd', '--listen', 'h:1', '--peers', peers, '--election-timeout-ms', '1000'])).toMatchObject({ electionTimeoutMs: 1000 });
  });

  it('defaults the protocol to raft and the secret to none; takes --flag=value', () => {
    const c = parseArgs(['node', '--cluster=c1', '--id=n1', '--data=d', '--listen=[::1]:0', `--peers=${peers}`]);
    expect(c).toMatchObject({ kind: 'node', protocol: 'raft', secretFile: null, listen: { host: '::1', port: 0 } });
  });

  it('parses propose, read and status', () => {
    expect(parseArgs(['propose', '--cluster', 'c1', '--peers', peers, '{"op":"write","key":"k","value":"v"}'])).toEqual({
      kind: 'propose',
      cluster: 'c1',
      peers: parsePeers(peers),
      secretFile: null,
      timeoutMs: 10_000,
      command: { op: 'write', key: 'k', value: 'v' },
    });
    expect(parseArgs(['read', '--cluster', 'c1', '--peers', peers, '--timeout-ms', '500', 'k'])).toMatchObject({ kind: 'read', key: 'k', timeoutMs: 500 });
    expect(parseArgs(['status', '--cluster', 'c1', '--peers', peers, '--secret-file', 'f'])).toMatchObject({ kind: 'status', secretFile: 'f' });
  });

  it('answers help for no arguments, --help, and COMMAND --help', () => {
    expect(parseArgs([])).toEqual({ kind: 'help' });
    expect(parseArgs(['--help'])).toEqual({ kind: 'help' });
    expect(parseArgs(['read', '--help'])).toEqual({ kind: 'help' });
  });

  const bad: [string, string[], RegExp][] = [
    ['unknown command', ['serve'], /unknown command "serve"/],
    ['unknown flag', ['status', '--cluster', 'c', '--peers', peers, '--port', '1'], /status has no flag --port/],
    ['flag twice', ['status', '--cluster', 'c', '--cluster', 'd', '--peers', peers], /--cluster is given twice/],
    ['flag without value', ['status', '--peers', peers, '--cluster'], /--cluster needs a value/],
    ['flag followed by a flag', ['status', '--cluster', '--peers', peers], /--cluster needs a value/],
    ['missing flag', ['status', '--cluster', 'c'], /status needs --peers/],
    ['missing JSON', ['propose', '--cluster', 'c', '--peers', peers], /propose takes JSON after its flags, got none/],
    ['extra argument', ['status', '--cluster', 'c', '--peers', peers, 'x'], /status takes no argument/],
    ['peer without id', ['status', '--cluster', 'c', '--peers', 'ws://h:1'], /expected ID=ws:\/\/HOST:PORT/],
    ['peer not ws', ['status', '--cluster', 'c', '--peers', 'n1=http://h:1'], /must be ws:\/\/HOST:PORT/],
    ['peer not a URL', ['status', '--cluster', 'c', '--peers', 'n1=nothing'], /is not a URL/],
    ['peer twice', ['status', '--cluster', 'c', '--peers', 'n1=ws://h:1,n1=ws://h:2'], /names "n1" twice/],
    ['self in peers', ['node', '--cluster', 'c', '--id', 'n2', '--data', 'd', '--listen', 'h:1', '--peers', peers], /own id "n2"/],
    ['bad listen', ['node', '--cluster', 'c', '--id', 'n1', '--data', 'd', '--listen', 'h:70000', '--peers', peers], /--listen: expected HOST:PORT/],
    ['listen without port', ['node', '--cluster', 'c', '--id', 'n1', '--data', 'd', '--listen', 'h', '--peers', peers], /--listen/],
    ['bad protocol', ['node', '--cluster', 'c', '--id', 'n1', '--data', 'd', '--listen', 'h:1', '--peers', peers, '--protocol', 'paxos'], /--protocol must be raft, gossip or bft/],
    ['bad id', ['node', '--cluster', 'c', '--id', 'a b', '--data', 'd', '--listen', 'h:1', '--peers', peers], /--id: an id is/],
    ['bad timeout', ['read', '--cluster', 'c', '--peers', peers, '--timeout-ms', '1e3', 'k'], /--timeout-ms must be an integer/],
    ['election timeout too short', ['node', '--cluster', 'c', '--id', 'n1', '--data', 'd', '--listen', 'h:1', '--peers', peers, '--election-timeout-ms', '10'], /--election-timeout-ms must be an integer in 50\.\.60000/],
    ['zero timeout', ['read', '--cluster', 'c', '--peers', peers, '--timeout-ms', '0', 'k'], /--timeout-ms/],
  ];
  it.each(bad)('refuses %s with one line', (_what, argv, message) => {
    let thrown: unknown;
    try {
      parseArgs(argv);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(UsageError);
    const text = (thrown as Error).message;
    expect(text).toMatch(message);
    expect(text).not.toContain('\n');
  });
});

describe('parseKvCommand', () => {
  it('takes write, cas and read with exactly their fields; null values delete', () => {
    expect(parseKvCommand('{"op":"write","key":"k","value":null}')).toEqual({ op: 'write', key: 'k', value: null });
    expect(parseKvCommand('{"op":"cas","key":"k","expected":null,"value":"v"}')).toEqual({ op: 'cas', key: 'k', expected: null, value: 'v' });
    expect(parseKvCommand('{"op":"read","key":"k"}')).toEqual({ op: 'read', key: 'k' });
  });

  it.each([
    ['{', /not valid JSON/],
    ['[1]', /expected an object/],
    ['{"op":"delete","key":"k"}', /"op" must be "write", "cas" or "read"/],
    ['{"op":"write","key":"k"}', /a write needs "value"/],
    ['{"op":"read","key":"k","value":"v"}', /a read has no field "value"/],
    ['{"op":"write","key":1,"value":"v"}', /"key" must be a string/],
    ['{"op":"write","key":"k","value":5}', /"value" must be a string or null/],
    [`{"op":"write","key":"${'k'.repeat(1025)}","value":"v"}`, /longer than 1024 bytes/],
  ])('refuses %s', (text, message) => {
    expect(() => parseKvCommand(text)).toThrow(message);
  });
});

describe('parseListen', () => {
  it('takes host:port and [ipv6]:port', () => {
    expect(parseListen('0.0.0.0:7001')).toEqual({ host: '0.0.0.0', port: 7001 });
    expect(parseListen('localhost:0')).toEqual({ host: 'localhost', port: 0 });
    expect(parseListen('[::1]:9')).toEqual({ host: '::1', port: 9 });
  });
});
