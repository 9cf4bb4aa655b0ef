/**
 * The local-network defaults end to end over UDP and TCP through `startServer`, with a fake
 * upstream on 127.0.0.1 that must see nothing: localhost, the default zones (NXDOMAIN with their
 * SOA, NODATA at the apex), the PTR of 127.0.0.1, a hosts file's PTR winning over
 * 168.192.in-addr.arpa, single-label names, and CHAOS (never forwarded). Then the switches, and
 * the flags through `main.ts`.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, match } from "node:assert/strict";
import {
  DEFAULT_LOCAL_SETTINGS,
  type LocalSettings,
  type RunningServer,
  startServer,
} from "../../lib/server/app.ts";
import { decodeMessage, encodeMessage } from "../../lib/proto/codec.ts";
import { query } from "../../lib/proto/message.ts";
import { formatRData } from "../../lib/proto/rdata.ts";
import { type Message, Rcode, RRClass, typeFromText } from "../../lib/proto/types.ts";
import { parseHosts } from "../../lib/zone/hosts.ts";
import { fixedData } from "../../lib/zone/local_data.ts";
import { type FakeUpstream, startFakeUpstream } from "../_fake_upstream.ts";
import { connectTcp } from "../_tcp_client.ts";
import { exchange, udpAsk } from "../_udp_client.ts";
import { type RunningDnsd, startDnsd } from "../_dnsd_process.ts";
import { needsPermissions } from "../_tools.ts";

const WAIT_MS = 3_000;
const HOSTS = "192.168.1.10 nas.home.arpa\n";

/** Runs `fn` against a dnsd whose only upstream answers everything; the test checks it saw nothing. */
async function withDnsd(
  settings: Partial<LocalSettings>,
  fn: (server: RunningServer, upstream: FakeUpstream) => Promise<void>,
): Promise<void> {
  const upstream = startFakeUpstream({
    "nas2": { kind: "answer", address: "192.0.2.99" },
    "x.home.arpa": { kind: "nxdomain", zone: "home.arpa" },
  });
  let server: RunningServer | undefined;
  try {
    server = startServer({
      host: "127.0.0.1",
      port: 0,
      upstreams: [upstream.address],
      timeoutMs: 2_000,
      localData: fixedData({ hosts: parseHosts(HOSTS, "/etc/hosts").records }),
      version: "0.1.0",
      local: () => ({ ...DEFAULT_LOCAL_SETTINGS, ...settings }),
    });
    await fn(server, upstream);
  } finally {
    if (server) {
      await server.stop(0);
      await server.finished;
    }
    await upstream.close();
  }
}

/** The query for `question` (`name TYPE [CLASS]`), as dig sends it (RD=1, EDNS). */
function bytesOf(question: string): Uint8Array {
  const [name = "", type = "A", rrClass = "IN"] = question.split(" ");
  return encodeMessage(query({
    name,
    type: typeFromText(type)!,
    class: RRClass[rrClass as keyof typeof RRClass],
  }, {
    id: Math.floor(Math.random() * 0x10000),
    edns: { udpPayloadSize: 1232, version: 0, dnssecOk: false, flags: 0, options: [] },
  }));
}

async function ask(address: Deno.NetAddr, transport: "udp" | "tcp", question: string): Promise<Message> {
  if (transport === "udp") return decodeMessage(await udpAsk(address, bytesOf(question), WAIT_MS));
  const client = await connectTcp({ ...address, transport: "tcp" });
  try {
    return decodeMessage(await client.ask(bytesOf(question), WAIT_MS));
  } finally {
    client.close();
  }
}

/** A response in short: `RCODE aa=N answer... | authority...` */
function brief(message: Message): string {
  const rcode = Object.entries(Rcode).find(([, code]) => code === message.rcode)?.[0] ?? message.rcode;
  const records = (list: Message["answers"]) => list.map((r) => `${r.ttl} ${formatRData(r.data)}`).join(", ");
  return `${rcode} aa=${message.authoritative ? 1 : 0} ${records(message.answers)} | ${
    records(message.authorities)
  }`;
}

/** A negative answer from a default zone: its SOA in the authority section. */
function negative(rcode: "NXDOMAIN" | "NOERROR"): string {
  return `${rcode} aa=1  | 10800 localhost. nobody.invalid. 1 3600 1200 604800 10800`;
}

const EXPECTED: readonly [string, string][] = [
  ["localhost A", "NOERROR aa=1 10800 127.0.0.1 | "],
  ["www.localhost AAAA", "NOERROR aa=1 10800 ::1 | "],
  ["1.0.0.127.in-addr.arpa PTR", "NOERROR aa=1 10800 localhost. | "],
  ["10.1.168.192.in-addr.arpa PTR", "NOERROR aa=1 300 nas.home.arpa. | "],
  ["11.1.168.192.in-addr.arpa PTR", negative("NXDOMAIN")],
  ["nas.home.arpa A", "NOERROR aa=1 300 192.168.1.10 | "],
  ["x.home.arpa A", negative("NXDOMAIN")],
  ["home.arpa A", negative("NOERROR")],
  ["printer.local A", negative("NXDOMAIN")],
  ["abc.onion AAAA", negative("NXDOMAIN")],
  ["x.invalid A", negative("NXDOMAIN")],
  ["1.0.0.10.in-addr.arpa PTR", negative("NXDOMAIN")],
  ["nas2 A", "NXDOMAIN aa=0  | "],
  ["nas2 AAAA", "NXDOMAIN aa=0  | "],
  ["version.bind TXT CH", 'NOERROR aa=0 0 "dnsd 0.1.0" | '],
  ["version.server TXT CH", 'NOERROR aa=0 0 "dnsd 0.1.0" | '],
  ["hostname.bind TXT CH", "REFUSED aa=0  | "],
  ["id.server TXT CH", "REFUSED aa=0  | "],
  ["authors.bind TXT CH", "REFUSED aa=0  | "],
  ["www.example.com A CH", "REFUSED aa=0  | "],
];

for (const transport of ["udp", "tcp"] as const) {
  test(`local defaults over ${transport}: answered here, nothing reaches the upstream`, async () => {
    await withDnsd({}, async (server, upstream) => {
      for (const [question, want] of EXPECTED) {
        equal(brief(await ask(server.address, transport, question)), want, question);
      }
      deepEqual(upstream.received.length, 0, "the upstream saw a query");
    });
  });
}

test("local defaults: the switches forward what the defaults answered, over UDP and TCP", async () => {
  await withDnsd(
    { defaultZones: false, forwardSingleLabel: true, hideVersion: true, identity: "ns1.lan" },
    async (server, upstream) => {
      equal(brief(await ask(server.address, "udp", "nas2 A")), "NOERROR aa=0 60 192.0.2.99 | ");
      // The upstream's own NXDOMAIN, with its SOA (TTL 60 in the fake), not dnsd's.
      equal((await ask(server.address, "tcp", "x.home.arpa A")).authorities[0]?.ttl, 60);
      equal(brief(await ask(server.address, "udp", "version.bind TXT CH")), "REFUSED aa=0  | ");
      equal(brief(await ask(server.address, "tcp", "hostname.bind TXT CH")), 'NOERROR aa=0 0 "ns1.lan" | ');
      deepEqual(upstream.received.map((q) => q.message?.questions[0]?.name), ["nas2", "x.home.arpa"]);
    },
  );
});

test(
  {
    ...needsPermissions(
      ["run", "read"],
      "dnsd --identity, --hide-version and --forward-zone through main.ts",
    ),
    timeoutMs: 30_000,
  },
  async () => {
    let dnsd: RunningDnsd | undefined;
    try {
      dnsd = await startDnsd((port) => [
        "--port",
        String(port),
        "--upstream",
        "127.0.0.1:9",
        "--identity",
        "ns1.lan",
        "--forward-zone",
        "version.bind=127.0.0.1:9",
      ]);
      const address: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: dnsd.port };
      // CH first: a forward zone covering version.bind does not make it forwarded.
      const version = await exchange(dnsd.port, bytesOf("version.bind TXT CH"), WAIT_MS);
      match(brief(decodeMessage(version!)), /^NOERROR aa=0 0 "dnsd \d+\.\d+\.\d+" \| $/);
      equal(brief(await ask(address, "tcp", "id.server TXT CH")), 'NOERROR aa=0 0 "ns1.lan" | ');
      equal(brief(await ask(address, "udp", "localhost A")), "NOERROR aa=1 10800 127.0.0.1 | ");
    } finally {
      await dnsd?.stop();
    }
  },
);
