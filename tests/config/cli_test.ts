/**
 * The command line: `parseCommand()` as a table, then the real `main.ts` in a subprocess (exit
 * codes, stderr, the log line format, a query, and a clean stop on SIGTERM and SIGINT).
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { type Command, parseCommand, UsageError } from "../../lib/config/cli.ts";
import { decodeMessage } from "../../lib/proto/codec.ts";
import { Rcode } from "../../lib/proto/types.ts";
import { PROCESS_TIMEOUT_MS, runDnsd, runningLine, spawnDnsd, STAMP, within } from "../_dnsd_process.ts";
import { exchange, freeUdpPort } from "../_udp_client.ts";
import { hex } from "../_hex.ts";
import { needsPermissions } from "../_tools.ts";

const QUERY_TIMEOUT_MS = 3_000;

const STARTING_LINE = new RegExp(String.raw`^${STAMP} - INFO - DNS server is starting\.\.\.$`);
const ANY_LOG_LINE = new RegExp(String.raw`^${STAMP} - (DEBUG|INFO|WARNING|ERROR|CRITICAL) - .+$`);

// ---------------------------------------------------------------------------------------------
// parseCommand()

const DEFAULTS = {
  kind: "serve",
  host: "127.0.0.1",
  port: 2053,
  listen: [{ hostname: "127.0.0.1", port: 2053 }],
  upstreams: [{ hostname: "8.8.8.8", port: 53 }],
  timeoutMs: 2000,
  maxOutstanding: 10000,
  logLevel: "info",
  zones: [],
  hosts: [],
  blocklists: [],
  allowlists: [],
  blockMode: "null",
  strategy: "sequential",
  caseRandomization: false,
  tcp: { idleTimeoutMs: 10000, maxConnections: 150, writeTimeoutMs: 5000 },
  cache: {
    limits: { maxEntries: 100000, minTtl: 0, maxTtl: 86400, servfailTtl: 5, staleMax: 0 },
    serveStale: false,
    allowSnooping: false,
  },
  udpIo: "auto",
  udpCoalesceUs: 100,
  workers: 0,
  workersSpread: "name",
  workersBusy: 70,
  reloadSettleMs: 2000,
  config: null,
  check: false,
  mappings: "builtin",
  forwardZones: [],
  defaultZones: true,
  forwardSingleLabel: false,
  hideVersion: false,
  identity: null,
  access: { allow: [], deny: [] },
  recursion: {
    disabled: false,
    allow: ["127.0.0.0/8", "::1", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
  },
  rateLimit: { perSecond: 0, prefix4: 24, prefix6: 56, slip: 2 },
  cookies: { secrets: [], require: false },
  metrics: null,
  queryLog: null,
  adminToken: null,
  validation: null,
  transfers: {
    allowTransfer: ["127.0.0.0/8", "::1"],
    notify: [],
    keys: [],
    secondaries: [],
    secondaryDir: null,
    journalSize: 100_000,
  },
  encrypted: { tlsPort: null, httpsPort: null, certFile: null, keyFile: null, upstreamCa: [] },
} as const satisfies Command;

const parsed: readonly { name: string; args: string[]; want: Command }[] = [
  { name: "uses the defaults with no arguments", args: [], want: DEFAULTS },
  { name: "reads --help", args: ["--help"], want: { kind: "help" } },
  { name: "reads --version", args: ["--version"], want: { kind: "version" } },
  // What `deno task start -- --version` passes on.
  {
    name: "skips a leading -- (the end of deno task's options)",
    args: ["--", "--version"],
    want: { kind: "version" },
  },
  {
    name: "reads --rate-limit and its prefixes and slip",
    args: [
      "--rate-limit",
      "20",
      "--rate-limit-prefix",
      "32",
      "--rate-limit-prefix6",
      "64",
      "--rate-limit-slip",
      "0",
    ],
    want: { ...DEFAULTS, rateLimit: { perSecond: 20, prefix4: 32, prefix6: 64, slip: 0 } },
  },
  {
    name: "reads --cookie-secret (repeatable) and --require-cookies",
    args: [
      "--cookie-secret",
      "e5e973e5a6b2a43f48e7dc849e37bfcf",
      "--cookie-secret",
      "DD3BDF9344B678B185A6F5CB60FCA715",
      "--require-cookies",
    ],
    want: {
      ...DEFAULTS,
      cookies: {
        secrets: [
          Uint8Array.from([
            0xe5,
            0xe9,
            0x73,
            0xe5,
            0xa6,
            0xb2,
            0xa4,
            0x3f,
            0x48,
            0xe7,
            0xdc,
            0x84,
            0x9e,
            0x37,
            0xbf,
            0xcf,
          ]),
          Uint8Array.from([
            0xdd,
            0x3b,
            0xdf,
            0x93,
            0x44,
            0xb6,
            0x78,
            0xb1,
            0x85,
            0xa6,
            0xf5,
            0xcb,
            0x60,
            0xfc,
            0xa7,
            0x15,
          ]),
        ],
        require: true,
      },
    },
  },
  {
    name: "reads --host, --port, --timeout and --log-level",
    args: ["--host", "0.0.0.0", "--port", "5353", "--timeout", "750", "--log-level", "debug"],
    want: {
      ...DEFAULTS,
      host: "0.0.0.0",
      port: 5353,
      listen: [{ hostname: "0.0.0.0", port: 5353 }],
      timeoutMs: 750,
      logLevel: "debug",
    },
  },
  {
    name: "accepts --port=0 (any free port)",
    args: ["--port=0"],
    want: { ...DEFAULTS, port: 0, listen: [{ hostname: "127.0.0.1", port: 0 }] },
  },
  {
    name: "reads --host repeated, each HOST[:PORT], with --port where none is given",
    args: [
      "--host",
      "127.0.0.1",
      "--host",
      "[::1]:5300",
      "--host",
      "localhost",
      "--host",
      "::1",
      "--port",
      "53",
    ],
    want: {
      ...DEFAULTS,
      port: 53,
      listen: [
        { hostname: "127.0.0.1", port: 53 },
        { hostname: "::1", port: 5300 },
        { hostname: "localhost", port: 53 },
        { hostname: "::1", port: 53 },
      ],
    },
  },
  { name: "reads -h as --help", args: ["-h"], want: { kind: "help" } },
  {
    name: "reads --max-outstanding",
    args: ["--max-outstanding", "64"],
    want: { ...DEFAULTS, maxOutstanding: 64 },
  },
  { name: "reads --workers 3", args: ["--workers", "3"], want: { ...DEFAULTS, workers: 3 } },
  {
    name: "reads --workers-busy 0 (every worker from the start)",
    args: ["--workers-busy", "0"],
    want: { ...DEFAULTS, workersBusy: 0 },
  },
  { name: "reads --workers-busy 85", args: ["--workers-busy", "85"], want: { ...DEFAULTS, workersBusy: 85 } },
  {
    name: "reads --workers-spread client",
    args: ["--workers-spread", "client"],
    want: { ...DEFAULTS, workersSpread: "client" },
  },
  { name: "reads --udp-io batched", args: ["--udp-io", "batched"], want: { ...DEFAULTS, udpIo: "batched" } },
  {
    name: "reads --udp-coalesce 0 (never)",
    args: ["--udp-coalesce", "0"],
    want: { ...DEFAULTS, udpCoalesceUs: 0 },
  },
  {
    name: "reads --udp-coalesce 250",
    args: ["--udp-coalesce", "250"],
    want: { ...DEFAULTS, udpCoalesceUs: 250 },
  },
  {
    name: "reads --tcp-write-timeout",
    args: ["--tcp-write-timeout", "1500"],
    want: { ...DEFAULTS, tcp: { ...DEFAULTS.tcp, writeTimeoutMs: 1500 } },
  },
  {
    name: "reads --reload-settle",
    args: ["--reload-settle", "150"],
    want: { ...DEFAULTS, reloadSettleMs: 150 },
  },
  {
    name: "accepts --reload-settle 0",
    args: ["--reload-settle=0"],
    want: { ...DEFAULTS, reloadSettleMs: 0 },
  },
  {
    name: "keeps repeated --zone and --hosts in order, with an optional ORIGIN=",
    args: [
      "--zone",
      "a.zone",
      "--zone",
      "example.org=zones/b.zone",
      "--hosts",
      "/etc/hosts",
      "--hosts",
      "more",
    ],
    want: {
      ...DEFAULTS,
      zones: [{ file: "a.zone" }, { origin: "example.org", file: "zones/b.zone" }],
      hosts: ["/etc/hosts", "more"],
    },
  },
  {
    name: "keeps repeated --blocklist and --allowlist in order, and reads --block-mode",
    args: [
      "--blocklist",
      "a.txt",
      "--blocklist",
      "b.txt",
      "--allowlist",
      "ok.txt",
      "--block-mode",
      "nxdomain",
    ],
    want: { ...DEFAULTS, blocklists: ["a.txt", "b.txt"], allowlists: ["ok.txt"], blockMode: "nxdomain" },
  },
  {
    name: "reads a file name with '=' in a folder as a file, not ORIGIN=FILE",
    args: ["--zone", "./dir=x/a.zone"],
    want: { ...DEFAULTS, zones: [{ file: "./dir=x/a.zone" }] },
  },
  {
    name: "keeps repeated --upstream in the order given",
    args: ["--upstream", "127.0.0.1:5353", "--upstream", "[::1]:5353", "--upstream", "9.9.9.9"],
    want: {
      ...DEFAULTS,
      upstreams: [
        { hostname: "127.0.0.1", port: 5353 },
        { hostname: "::1", port: 5353 },
        { hostname: "9.9.9.9", port: 53 },
      ],
    },
  },
  {
    name: "reads a bracketed IPv6 upstream with a port",
    args: ["--upstream", "[::1]:5353"],
    want: { ...DEFAULTS, upstreams: [{ hostname: "::1", port: 5353 }] },
  },
  {
    name: "reads a bare IPv6 upstream as port 53",
    args: ["--upstream", "::1"],
    want: { ...DEFAULTS, upstreams: [{ hostname: "::1", port: 53 }] },
  },
  {
    name: "reads an IPv4 upstream with a port",
    args: ["--upstream", "127.0.0.1:5353"],
    want: { ...DEFAULTS, upstreams: [{ hostname: "127.0.0.1", port: 5353 }] },
  },
  {
    name: "reads a bare IPv4 upstream as port 53",
    args: ["--upstream", "127.0.0.1"],
    want: { ...DEFAULTS, upstreams: [{ hostname: "127.0.0.1", port: 53 }] },
  },
  {
    name: "reads the transfer settings: keys, secondaries with and without a key, NOTIFY targets",
    args: [
      "--tsig-key",
      "Xfr-Key.:HMAC-SHA256:c2VjcmV0",
      "--secondary",
      "example.com.=192.0.2.1@xfr-key",
      "--secondary",
      "example.net=[2001:db8::1]:5300",
      "--secondary-dir",
      "/var/lib/dnsd",
      "--notify",
      "192.0.2.2:5300",
      "--allow-transfer",
      "192.0.2.0/24",
      "--journal-size",
      "0",
    ],
    want: {
      ...DEFAULTS,
      transfers: {
        allowTransfer: ["192.0.2.0/24"],
        notify: [{ hostname: "192.0.2.2", port: 5300 }],
        keys: [{ name: "xfr-key", algorithm: "hmac-sha256", secret: new TextEncoder().encode("secret") }],
        secondaries: [
          {
            zone: "example.com",
            primary: { hostname: "192.0.2.1", port: 53 },
            key: { name: "xfr-key", algorithm: "hmac-sha256", secret: new TextEncoder().encode("secret") },
          },
          { zone: "example.net", primary: { hostname: "2001:db8::1", port: 5300 }, key: null },
        ],
        secondaryDir: "/var/lib/dnsd",
        journalSize: 0,
      },
    },
  },
  {
    name: "reads --forward-zone, forward and reverse, one or more upstreams each",
    args: [
      "--forward-zone",
      "LAN.=192.168.1.1",
      "--forward-zone",
      "168.192.in-addr.arpa=192.168.1.1:5300,[fd00::1]:53,fd00::2",
    ],
    want: {
      ...DEFAULTS,
      forwardZones: [
        { domain: "lan", upstreams: [{ hostname: "192.168.1.1", port: 53 }] },
        {
          domain: "168.192.in-addr.arpa",
          upstreams: [
            { hostname: "192.168.1.1", port: 5300 },
            { hostname: "fd00::1", port: 53 },
            { hostname: "fd00::2", port: 53 },
          ],
        },
      ],
    },
  },
  {
    name: "reads --no-default-zones, --forward-single-label, --hide-version and --identity",
    args: ["--no-default-zones", "--forward-single-label", "--hide-version", "--identity", "ns1.lan"],
    want: {
      ...DEFAULTS,
      defaultZones: false,
      forwardSingleLabel: true,
      hideVersion: true,
      identity: "ns1.lan",
    },
  },
  {
    name: "reads --allow, --deny, --allow-recursion and --no-recursion, IPv4 and IPv6",
    args: [
      "--allow",
      "10.0.0.0/8",
      "--allow",
      "2001:db8::/32",
      "--deny",
      "10.9.0.0/16",
      "--allow-recursion",
      "::1",
      "--no-recursion",
    ],
    want: {
      ...DEFAULTS,
      access: { allow: ["10.0.0.0/8", "2001:db8::/32"], deny: ["10.9.0.0/16"] },
      recursion: { disabled: true, allow: ["::1"] },
    },
  },
];

for (const { name, args, want } of parsed) {
  test(`parseCommand() ${name}`, () => {
    assert.deepEqual(parseCommand(args), want);
  });
}

const rejected: readonly { name: string; args: string[] }[] = [
  { name: "a port above 65535", args: ["--port", "70000"] },
  { name: "a port that is not a number", args: ["--port", "abc"] },
  { name: "a timeout of 0", args: ["--timeout", "0"] },
  { name: "a --max-outstanding of 0", args: ["--max-outstanding", "0"] },
  { name: "a --max-outstanding that is not a number", args: ["--max-outstanding", "lots"] },
  { name: "a timeout that is not a number", args: ["--timeout", "x"] },
  { name: "an unknown log level", args: ["--log-level", "loud"] },
  { name: "an unknown --udp-io", args: ["--udp-io", "fast"] },
  { name: "an unknown --workers-spread", args: ["--workers-spread", "random"] },
  { name: "a --workers-busy over 100", args: ["--workers-busy", "101"] },
  { name: "a --udp-coalesce over 1000 µs", args: ["--udp-coalesce", "1001"] },
  { name: "an unknown --block-mode", args: ["--block-mode", "sinkhole"] },
  { name: "an empty --blocklist", args: ["--blocklist="] },
  { name: "a --tcp-write-timeout of 0", args: ["--tcp-write-timeout", "0"] },
  { name: "a --reload-settle that is not a number", args: ["--reload-settle", "2s"] },
  { name: "a --reload-settle above 600000", args: ["--reload-settle", "600001"] },
  { name: "an upstream host name", args: ["--upstream", "dns.google"] },
  { name: "an upstream host name with a port", args: ["--upstream", "dns.google:53"] },
  { name: "an upstream port above 65535", args: ["--upstream", "127.0.0.1:70000"] },
  { name: "a bracketed upstream that is not IPv6", args: ["--upstream", "[127.0.0.1]:53"] },
  { name: "an unknown flag", args: ["--bogus"] },
  { name: "a positional argument", args: ["example.com"] },
  { name: "a flag without its value", args: ["--port"] },
  { name: "a --forward-zone without =", args: ["--forward-zone", "lan"] },
  { name: "a --forward-zone without a domain", args: ["--forward-zone", "=192.168.1.1"] },
  { name: "a --forward-zone for the root", args: ["--forward-zone", ".=192.168.1.1"] },
  { name: "a --forward-zone without upstreams", args: ["--forward-zone", "lan="] },
  { name: "a --forward-zone with an empty upstream", args: ["--forward-zone", "lan=192.168.1.1,"] },
  { name: "a --forward-zone with a host name", args: ["--forward-zone", "lan=router.lan"] },
  { name: "a --forward-zone with a bad port", args: ["--forward-zone", "lan=192.168.1.1:99999"] },
  { name: "a --forward-zone with an empty label", args: ["--forward-zone", "a..lan=192.168.1.1"] },
  {
    name: "a --forward-zone given twice",
    args: ["--forward-zone", "lan=10.0.0.1", "--forward-zone", "LAN=10.0.0.2"],
  },
  { name: "an --identity over 255 octets", args: ["--identity", "x".repeat(256)] },
  { name: "an --allow prefix longer than 32", args: ["--allow", "10.0.0.0/33"] },
  { name: "a --deny that is not an address", args: ["--deny", "example.com"] },
  { name: "an --allow-recursion IPv6 prefix longer than 128", args: ["--allow-recursion", "::/129"] },
  {
    name: "a --cookie-secret of 31 hex digits",
    args: ["--cookie-secret", "e5e973e5a6b2a43f48e7dc849e37bfc"],
  },
  {
    name: "a --cookie-secret that is not hex",
    args: ["--cookie-secret", "g5e973e5a6b2a43f48e7dc849e37bfcf"],
  },
  { name: "a --rate-limit below 0", args: ["--rate-limit", "-1"] },
  { name: "a --rate-limit-prefix above 32", args: ["--rate-limit-prefix", "33"] },
  { name: "a --rate-limit-prefix6 above 128", args: ["--rate-limit-prefix6", "129"] },
  { name: "a --tsig-key without a secret", args: ["--tsig-key", "k:hmac-sha256"] },
  { name: "a --tsig-key with hmac-md5", args: ["--tsig-key", "k:hmac-md5:c2VjcmV0"] },
  { name: "a --tsig-key secret that is not base64", args: ["--tsig-key", "k:hmac-sha256:!!"] },
  {
    name: "a --tsig-key given twice",
    args: ["--tsig-key", "k:hmac-sha256:c2VjcmV0", "--tsig-key", "K.:hmac-sha1:c2VjcmV0"],
  },
  { name: "a --secondary without =", args: ["--secondary", "example.com"] },
  { name: "a --secondary with a host name", args: ["--secondary", "example.com=ns1.example.net"] },
  { name: "a --secondary with a key not given", args: ["--secondary", "example.com=192.0.2.1@k"] },
  {
    name: "a --secondary zone given twice",
    args: ["--secondary", "example.com=192.0.2.1", "--secondary", "Example.COM.=192.0.2.2"],
  },
  { name: "a --notify with a host name", args: ["--notify", "ns2.example.net"] },
  { name: "an --allow-transfer that is not a prefix", args: ["--allow-transfer", "anyone"] },
  { name: "a --journal-size below 0", args: ["--journal-size", "-1"] },
];

for (const { name, args } of rejected) {
  test(`parseCommand() rejects ${name} with a one-line UsageError`, () => {
    assert.throws(() => parseCommand(args), (error: unknown) => {
      assert.ok(error instanceof UsageError, `expected UsageError, got ${error}`);
      assert.ok(error.message.length > 0 && !error.message.includes("\n"), error.message);
      return true;
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Subprocess helpers

/** Sends one query over UDP from an ephemeral loopback socket and returns the reply. */
async function query(port: number, bytes: Uint8Array): Promise<Uint8Array> {
  const reply = await exchange(port, bytes, QUERY_TIMEOUT_MS);
  if (!reply) throw new Error(`no reply from 127.0.0.1:${port} within ${QUERY_TIMEOUT_MS} ms`);
  return reply;
}

// dig @127.0.0.1 example.com A +noedns
const QUERY_EXAMPLE_COM = hex`
  abcd 0100 0001 0000 0000 0000   # id=0xabcd RD qd=1
  07 6578616d706c65 03 636f6d 00  # example.com
  0001 0001                       # A IN
`;

// ---------------------------------------------------------------------------------------------
// main.ts in a subprocess

test(needsPermissions(["run", "read"], "dnsd --help prints the usage and exits 0"), async () => {
  const { code, stdout, stderr } = await runDnsd(["--help"]);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^Usage: dnsd \[options\]/);
  assert.match(stdout, /--upstream/);
  assert.equal(stderr, "");
});

test(needsPermissions(["run", "read"], "dnsd --version prints the version and exits 0"), async () => {
  const { code, stdout, stderr } = await runDnsd(["--version"]);
  assert.equal(code, 0, stderr);
  assert.equal(stdout, "dnsd 0.1.0\n");
});

test(
  needsPermissions(["run", "read"], "dnsd exits 2 with exactly one line on stderr for an unknown flag"),
  async () => {
    const { code, stdout, stderr } = await runDnsd(["--bogus"]);
    assert.equal(code, 2);
    assert.equal(stdout, "");
    const lines = stderr.split("\n");
    assert.equal(lines.length, 2, `one line and its newline, got ${JSON.stringify(stderr)}`);
    assert.equal(lines[1], "");
    assert.match(lines[0]!, /^dnsd: .*bogus.* \(see --help\)$/);
  },
);

test(needsPermissions(["run", "read"], "dnsd exits 2 for a bad port, naming it"), async () => {
  const { code, stderr } = await runDnsd(["--port", "70000"]);
  assert.equal(code, 2);
  assert.equal(stderr, 'dnsd: --port: "70000" is not a port number (0-65535) (see --help)\n');
});

test(
  needsPermissions(["run", "read"], "dnsd exits 1 with a clear message when the port is in use"),
  async () => {
    const holder = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    try {
      const { port } = holder.addr as Deno.NetAddr;
      const { code, stderr } = await runDnsd(["--port", String(port), "--upstream", "127.0.0.1:9"]);
      assert.equal(code, 1, stderr);
      const lines = stderr.trimEnd().split("\n");
      assert.match(lines[0]!, STARTING_LINE);
      assert.equal(lines.at(-1), `dnsd: cannot listen on 127.0.0.1:${port}: address already in use`);
      assert.ok(!stderr.includes("running on"), stderr);
    } finally {
      holder.close();
    }
  },
);

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  test(
    needsPermissions(
      ["run", "read"],
      `dnsd serves a query, logs in the expected format and exits 0 on ${signal}`,
    ),
    async () => {
      const port = freeUdpPort();
      const upstream = freeUdpPort(); // nothing listens there: only local names are asked
      const dnsd = spawnDnsd(
        ["--port", String(port), "--upstream", `127.0.0.1:${upstream}`, "--log-level", "debug"],
      );
      const { child, stderr } = dnsd;
      try {
        await stderr.waitFor(runningLine(port), PROCESS_TIMEOUT_MS);
        assert.match(stderr.seen[0]!, STARTING_LINE);

        const reply = decodeMessage(await query(port, QUERY_EXAMPLE_COM));
        assert.equal(reply.id, 0xabcd);
        assert.equal(reply.rcode, Rcode.NOERROR);
        assert.equal(reply.authoritative, true);
        assert.deepEqual(reply.answers.map((rr) => [rr.name, rr.ttl, rr.data]), [
          ["example.com", 300, { type: "A", address: "8.8.8.8" }],
        ]);
        await stderr.waitFor(
          new RegExp(
            String.raw`^${STAMP} - DEBUG - Received query for domain: example\.com \(type A, RD=1\)$`,
          ),
          QUERY_TIMEOUT_MS,
        );

        child.kill(signal);
        const status = await within(child.status, PROCESS_TIMEOUT_MS, () => `dnsd ignored ${signal}`);
        const lines = await stderr.drain(PROCESS_TIMEOUT_MS);
        assert.equal(status.code, 0, lines.join("\n"));
        assert.equal(status.signal, null);
        assert.match(lines.at(-1)!, new RegExp(String.raw`^${STAMP} - INFO - DNS server stopped\.$`));
        for (const line of lines) assert.match(line, ANY_LOG_LINE);
      } finally {
        await dnsd.stop();
      }
    },
  );
}

test(
  needsPermissions(
    ["run", "read"],
    "dnsd --udp-io batched without --allow-ffi exits 2, saying what it needs",
  ),
  async () => {
    const { code, stderr } = await runDnsd(
      ["--port", String(freeUdpPort()), "--udp-io", "batched"],
      ["--allow-net", "--allow-read", "--allow-env"],
    );
    assert.equal(code, 2);
    assert.equal(
      stderr.trimEnd().split("\n").at(-1),
      "dnsd: --udp-io batched needs Linux (glibc) on a 64-bit CPU and --allow-ffi (deno run --allow-ffi ...)",
    );
  },
);

test(
  needsPermissions(["run", "read"], "dnsd without --allow-ffi reads UDP one datagram per op, and answers"),
  async () => {
    const port = freeUdpPort();
    const child = spawnDnsd(["--port", String(port)], ["--allow-net", "--allow-read"]);
    try {
      await child.stderr.waitFor(runningLine(port), PROCESS_TIMEOUT_MS);
      assert.ok(
        child.stderr.seen.some((line) =>
          line.endsWith(" - INFO - Reading UDP one datagram per op (Deno.DatagramConn)")
        ),
      );
      const reply = await exchange(
        port,
        hex`abcd 0100 0001 0000 0000 0000 07 6578616d706c65 03 636f6d 00 0001 0001`,
        2000,
      );
      assert.ok(reply, "an answer");
      assert.deepEqual(decodeMessage(reply).answers.map((r) => r.data), [{ type: "A", address: "8.8.8.8" }]);
    } finally {
      await child.stop();
    }
  },
);

const linux64 = Deno.build.os === "linux" && (Deno.build.arch === "x86_64" || Deno.build.arch === "aarch64");

test(
  {
    ...needsPermissions(["run", "read"], "dnsd with --allow-ffi reads UDP in batches by default and answers"),
    ...(linux64 ? {} : { ignore: true }),
  },
  async () => {
    const port = freeUdpPort();
    const child = spawnDnsd(
      ["--port", String(port), "--upstream", `127.0.0.1:${freeUdpPort()}`],
      ["--allow-net", "--allow-read", "--allow-ffi"],
    );
    try {
      await child.stderr.waitFor(runningLine(port), PROCESS_TIMEOUT_MS);
      assert.ok(
        child.stderr.seen.some((line) => line.endsWith(" - INFO - Reading UDP in batches (recvmmsg)")),
      );
      const reply = await exchange(
        port,
        hex`abcd 0100 0001 0000 0000 0000 07 6578616d706c65 03 636f6d 00 0001 0001`,
        2000,
      );
      assert.ok(reply, "an answer");
      const message = decodeMessage(reply);
      assert.equal(message.id, 0xabcd);
      assert.deepEqual(message.answers.map((r) => r.data), [{ type: "A", address: "8.8.8.8" }]);
    } finally {
      await child.stop();
    }
  },
);
