/** The text of `peerquorum --help` (kept apart so that the parser reads as rules, not prose). */
export const helpText = `peerquorum: run and talk to a peerquorum cluster of Node.js nodes over WebSocket.

Usage:
  peerquorum node --cluster C --id ID --data DIR --listen HOST:PORT
                  --peers ID=ws://HOST:PORT[,ID=ws://HOST:PORT...]
                  [--secret-file F] [--protocol raft|gossip|bft] [--election-timeout-ms N]
      Run one member until SIGINT or SIGTERM. A leader hands leadership over first, then
      the node stops cleanly. Its log and state live under DIR (crash-safe: every write is
      fdatasync'ed before it counts). The members are ID and every ID of --peers.

  peerquorum propose --cluster C --peers ID=ws://HOST:PORT,... [--secret-file F] JSON
      Propose a key-value command and print its outcome as JSON, e.g.
        '{"op":"write","key":"k","value":"v"}'   '{"op":"cas","key":"k","expected":"v","value":"w"}'
        '{"op":"read","key":"k"}' (a read through the log)
      A value of null deletes the key.

  peerquorum read --cluster C --peers ... [--secret-file F] KEY
      Print the linearizable value of KEY as JSON (null when absent).

  peerquorum status --cluster C --peers ... [--secret-file F]
      Print each member's role, term, commit and applied index as JSON.

  peerquorum --help | peerquorum COMMAND --help

Options:
  --cluster C        the cluster's name (every member and client must use the same)
  --peers LIST       members as ID=ws://HOST:PORT, comma-separated (wss:// behind a TLS proxy)
  --secret-file F    a file holding the cluster secret (at least 16 bytes; a trailing newline
                     is ignored). Without it links are NOT authenticated: anyone who reaches a
                     port can speak for any node. Members and clients must hold the same one.
  --timeout-ms N     clients: how long to wait for the cluster (default 10000)
  --election-timeout-ms N
                     node: how long a follower waits for its leader before it campaigns,
                     randomized up to twice that (default 150, for browsers and quiet
                     machines; on loaded or distant servers 1000, as etcd, avoids elections
                     caused by a process that was not scheduled in time)

A client connects to the members it is given, asks the first that answers, and that member
forwards a proposal to its leader. It sends nothing that matters before a member has answered
a status request over the (authenticated) link.

Exit codes: 0 done; 1 the cluster answered with an error (printed as JSON: TIMEOUT means the
command may or may not have been applied); 2 bad arguments; 3 no member reachable within the
timeout; 4 a member was reached but did not authenticate us (wrong or missing --secret-file);
5 the node could not start or failed (storage, a port in use).
`;
