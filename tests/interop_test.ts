/**
 * Interop with real DNS software: dig and kdig ask a dnsd started in-process, whose upstream is a
 * real NSD serving tests/testdata/nsd_example_test.zone on a loopback port. NSD is authoritative
 * only, which is enough: dnsd forwards the question as it is.
 * @module
 */
import assert from "node:assert/strict";
import { type RunningServer, startServer } from "../lib/app.ts";
import { decodeMessage, encodeMessage } from "../lib/codec.ts";
import { type Message, Rcode, RRClass, RRType, typeName } from "../lib/types.ts";
import mappings from "../mappings.ts";
import { fixedData } from "../lib/local_data.ts";
import { mappingRecords } from "../lib/static_map.ts";
import { findTool, needsTool } from "./_tools.ts";

const ZONE = new URL("./testdata/nsd_example_test.zone", import.meta.url);
const NSD_START_TIMEOUT_MS = 10_000;
const NSD_STOP_TIMEOUT_MS = 5_000;
const QUERY_TIMEOUT_MS = 2_000;
const TOOL_TIMEOUT_MS = 10_000;

// ---------------------------------------------------------------------------------------------
// Fixtures

/** Test fields for a test needing every tool in `tools` (see {@link needsTool}). */
function needsTools(tools: readonly string[], name: string): { name: string; ignore: boolean } {
  for (const tool of tools) {
    const fields = needsTool(tool, name);
    if (fields.name !== name) return fields;
  }
  return { name, ignore: false };
}

/** A port that was free a moment ago: bind UDP port 0, read the port, close the socket. */
function freeUdpPort(): number {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const { port } = conn.addr as Deno.NetAddr;
  conn.close();
  return port;
}

/** Sends one datagram to 127.0.0.1:`port` and returns the reply, or null after `ms`. */
async function exchange(port: number, bytes: Uint8Array, ms = QUERY_TIMEOUT_MS): Promise<Uint8Array | null> {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    conn.close();
  }, ms);
  try {
    await conn.send(bytes, { transport: "udp", hostname: "127.0.0.1", port });
    const [reply] = await conn.receive();
    return reply;
  } catch (error) {
    if (timedOut) return null;
    throw error;
  } finally {
    clearTimeout(timer);
    if (!timedOut) conn.close();
  }
}

let nextId = 0x1000;

/** A query for `name`/`type` in class IN, RD=1, with or without EDNS. */
function queryBytes(name: string, type: number, edns = true): Uint8Array {
  const message: Message = {
    id: nextId++ & 0xffff,
    response: false,
    opcode: 0,
    authoritative: false,
    truncated: false,
    recursionDesired: true,
    recursionAvailable: false,
    z: false,
    authenticData: false,
    checkingDisabled: false,
    rcode: Rcode.NOERROR,
    questions: [{ name, type, class: RRClass.IN }],
    answers: [],
    authorities: [],
    additionals: [],
    edns: edns ? { udpPayloadSize: 1232, version: 0, dnssecOk: false, flags: 0, options: [] } : null,
  };
  return encodeMessage(message);
}

function nsdConf(dir: string, port: number): string {
  return `server:
    ip-address: 127.0.0.1@${port}
    do-ip6: no
    username: ""
    chroot: ""
    zonesdir: "${dir}"
    database: ""
    zonelistfile: "${dir}/zone.list"
    xfrdfile: "${dir}/xfrd.state"
    xfrdir: "${dir}"
    pidfile: "${dir}/nsd.pid"
    logfile: "${dir}/nsd.log"
    server-count: 1
    verbosity: 1
    hide-version: yes
remote-control:
    control-enable: no
zone:
    name: "example.test"
    zonefile: "${dir}/example.test.zone"
`;
}

interface Nsd {
  readonly port: number;
  stop(): Promise<void>;
}

async function stopProcess(child: Deno.ChildProcess, exited: () => boolean): Promise<void> {
  if (exited()) return;
  child.kill("SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((
    resolve,
  ) => (timer = setTimeout(() => resolve("late"), NSD_STOP_TIMEOUT_MS)));
  try {
    if ((await Promise.race([child.status, late])) === "late") {
      child.kill("SIGKILL");
      await child.status;
    }
  } finally {
    clearTimeout(timer);
  }
}

/** Starts NSD in the foreground on a free loopback port; resolves once it answers. */
async function startNsd(dir: string): Promise<Nsd> {
  await Deno.writeTextFile(`${dir}/example.test.zone`, await Deno.readTextFile(ZONE));
  const probe = queryBytes("example.test", RRType.SOA);
  let lastError = "";
  // A port free for UDP a moment ago may be taken (for TCP too) by now: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = freeUdpPort();
    const conf = `${dir}/nsd.conf`;
    await Deno.writeTextFile(conf, nsdConf(dir, port));
    const child = new Deno.Command(findTool("nsd") ?? "/usr/sbin/nsd", {
      args: ["-d", "-c", conf],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    let exited = false;
    const status = child.status.then((s) => {
      exited = true;
      return s;
    });
    const deadline = Date.now() + NSD_START_TIMEOUT_MS;
    let ready = false;
    while (!exited && !ready && Date.now() < deadline) {
      ready = (await exchange(port, probe, 200)) !== null;
    }
    if (ready) return { port, stop: () => stopProcess(child, () => exited) };
    await stopProcess(child, () => exited);
    const log = await Deno.readTextFile(`${dir}/nsd.log`).catch(() => "(no log)");
    lastError = `nsd on port ${port} ${
      exited ? `exited (${(await status).code})` : "never answered"
    }:\n${log}`;
  }
  throw new Error(`Cannot start NSD: ${lastError}`);
}

interface Stack {
  /** NSD's port, for direct queries. */
  readonly nsd: number;
  /** dnsd's port. */
  readonly dnsd: number;
  readonly server: RunningServer;
}

/** Runs `fn` against a fresh NSD and a dnsd forwarding to it; always stops both. */
async function withStack(fn: (stack: Stack) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dnsd_interop_" });
  try {
    const nsd = await startNsd(dir);
    try {
      const server = startServer({
        host: "127.0.0.1",
        port: 0,
        upstreams: [{ hostname: "127.0.0.1", port: nsd.port }],
        timeoutMs: 2000,
        localData: fixedData({ mappings: mappingRecords(mappings) }),
      });
      try {
        await fn({ nsd: nsd.port, dnsd: server.address.port, server });
      } finally {
        server.close();
        await server.finished;
      }
    } finally {
      await nsd.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// ---------------------------------------------------------------------------------------------
// dig and kdig

/** What dig and kdig print, reduced to what the tests compare. */
interface ToolAnswer {
  readonly status: string;
  readonly flags: string;
  /** Records with single spaces between fields: `example.com. 300 IN A 8.8.8.8`. */
  readonly answer: readonly string[];
  readonly authority: readonly string[];
  /** Whether the reply had an OPT record. */
  readonly edns: boolean;
  readonly text: string;
}

function section(text: string, title: string): string[] {
  const lines = text.split("\n");
  const start = lines.findIndex((line) => line === `;; ${title} SECTION:`);
  if (start < 0) return [];
  const records: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === "") break;
    records.push(line.trim().split(/\s+/).join(" "));
  }
  return records;
}

/** Parses dig's or kdig's default output (`status: X` and `flags: ...;` / `Flags: ...;`). */
function parseToolOutput(text: string): ToolAnswer {
  const status = /status: ([A-Z]+)/.exec(text)?.[1];
  const flags = /^;; [Ff]lags: ([a-z ]*);/m.exec(text)?.[1];
  assert.ok(status !== undefined && flags !== undefined, `no header in:\n${text}`);
  return {
    status,
    flags: flags.trim(),
    answer: section(text, "ANSWER"),
    authority: section(text, "AUTHORITY"),
    edns: /^;; (OPT|EDNS) PSEUDOSECTION:/m.test(text),
    text,
  };
}

async function runTool(tool: string, args: readonly string[]): Promise<ToolAnswer> {
  const path = findTool(tool);
  assert.ok(path, `${tool} is not installed`);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TOOL_TIMEOUT_MS);
  try {
    const output = await new Deno.Command(path, {
      args: [...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: controller.signal,
    }).output();
    const text = new TextDecoder().decode(output.stdout);
    const errors = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, `${tool} ${args.join(" ")} failed (${output.code}):\n${text}${errors}`);
    return parseToolOutput(text);
  } finally {
    clearTimeout(timer);
  }
}

/** `dig` at dnsd with one try and a short wait, ignoring any ~/.digrc. */
function dig(port: number, ...args: string[]): Promise<ToolAnswer> {
  return runTool("dig", ["-r", "@127.0.0.1", "-p", String(port), "+time=2", "+tries=1", ...args]);
}

function kdig(port: number, ...args: string[]): Promise<ToolAnswer> {
  return runTool("kdig", ["@127.0.0.1", "-p", String(port), "+timeout=2", "+retry=0", ...args]);
}

const MAPPED_A = ["example.com. 300 IN A 8.8.8.8"];
const WWW_FROM_NSD = [
  "www.example.test. 3600 IN CNAME web.example.test.",
  "web.example.test. 3600 IN A 192.0.2.10",
];
const SOA_FROM_NSD = [
  "example.test. 300 IN SOA ns1.example.test. hostmaster.example.test. 2026112601 7200 3600 1209600 300",
];

Deno.test(needsTools(["nsd", "dig"], "dig gets a mapped name from dnsd, authoritatively"), async () => {
  await withStack(async ({ dnsd }) => {
    const got = await dig(dnsd, "example.com");
    assert.equal(got.status, "NOERROR", got.text);
    assert.equal(got.flags, "qr aa rd ra", got.text);
    assert.deepEqual(got.answer, MAPPED_A, got.text);
    assert.equal(got.edns, true, got.text);
  });
});

Deno.test(needsTools(["nsd", "dig"], "dig +norecurse still gets a mapped name"), async () => {
  await withStack(async ({ dnsd, server }) => {
    const got = await dig(dnsd, "+norecurse", "example.com");
    assert.equal(got.status, "NOERROR", got.text);
    assert.equal(got.flags, "qr aa ra", got.text);
    assert.deepEqual(got.answer, MAPPED_A, got.text);
    assert.equal(server.counters.forwarded, 0);
  });
});

Deno.test(needsTools(["nsd", "dig"], "dig gets a forwarded name: the CNAME and A from NSD"), async () => {
  await withStack(async ({ dnsd, server }) => {
    const got = await dig(dnsd, "www.example.test");
    assert.equal(got.status, "NOERROR", got.text);
    assert.equal(got.flags, "qr rd ra", got.text);
    assert.deepEqual(got.answer, WWW_FROM_NSD, got.text);
    assert.equal(server.counters.forwarded, 1);
    assert.equal(server.counters.answered, 1);
  });
});

Deno.test(needsTools(["nsd", "dig"], "dig gets NXDOMAIN passed through from NSD"), async () => {
  await withStack(async ({ dnsd }) => {
    const got = await dig(dnsd, "nope.example.test");
    assert.equal(got.status, "NXDOMAIN", got.text);
    assert.deepEqual(got.answer, [], got.text);
    assert.deepEqual(got.authority, SOA_FROM_NSD, got.text);
  });
});

Deno.test(
  needsTools(["nsd", "dig"], "dig +norecurse gets REFUSED for a name dnsd would forward"),
  async () => {
    await withStack(async ({ dnsd, server }) => {
      const got = await dig(dnsd, "+norecurse", "www.example.test");
      assert.equal(got.status, "REFUSED", got.text);
      assert.deepEqual(got.answer, [], got.text);
      assert.equal(server.counters.forwarded, 0, "no packet goes upstream for RD=0");
    });
  },
);

Deno.test(needsTools(["nsd", "dig"], "dig gets NODATA for AAAA of a name mapped to IPv4"), async () => {
  await withStack(async ({ dnsd }) => {
    const got = await dig(dnsd, "example.com", "AAAA");
    assert.equal(got.status, "NOERROR", got.text);
    assert.equal(got.flags, "qr aa rd ra", got.text);
    assert.deepEqual(got.answer, [], got.text);
    assert.match(got.text, /ANSWER: 0,/);
  });
});

Deno.test(needsTools(["nsd", "dig"], "dig +noedns gets mapped and forwarded names without OPT"), async () => {
  await withStack(async ({ dnsd }) => {
    const mapped = await dig(dnsd, "+noedns", "example.com");
    assert.equal(mapped.status, "NOERROR", mapped.text);
    assert.deepEqual(mapped.answer, MAPPED_A, mapped.text);
    assert.equal(mapped.edns, false, mapped.text);
    const forwarded = await dig(dnsd, "+noedns", "www.example.test");
    assert.equal(forwarded.status, "NOERROR", forwarded.text);
    assert.deepEqual(forwarded.answer, WWW_FROM_NSD, forwarded.text);
    assert.equal(forwarded.edns, false, forwarded.text);
  });
});

Deno.test(needsTools(["nsd", "kdig"], "kdig gets a mapped name and a forwarded name"), async () => {
  await withStack(async ({ dnsd }) => {
    const mapped = await kdig(dnsd, "example.com");
    assert.equal(mapped.status, "NOERROR", mapped.text);
    assert.equal(mapped.flags, "qr aa rd ra", mapped.text);
    assert.deepEqual(mapped.answer, MAPPED_A, mapped.text);
    const forwarded = await kdig(dnsd, "www.example.test");
    assert.equal(forwarded.status, "NOERROR", forwarded.text);
    assert.deepEqual(forwarded.answer, WWW_FROM_NSD, forwarded.text);
  });
});

// ---------------------------------------------------------------------------------------------
// Raw bytes: dnsd against NSD asked directly

const compared: readonly { name: string; type: number; edns: boolean }[] = [
  { name: "www.example.test", type: RRType.A, edns: true },
  { name: "web.example.test", type: RRType.AAAA, edns: true },
  { name: "example.test", type: RRType.MX, edns: true },
  { name: "example.test", type: RRType.TXT, edns: true },
  { name: "example.test", type: RRType.NS, edns: false },
  { name: "example.test", type: RRType.SOA, edns: false },
  { name: "Web.Example.TEST", type: RRType.A, edns: false },
  { name: "nope.example.test", type: RRType.A, edns: true },
  { name: "mail.example.test", type: RRType.TXT, edns: true },
];

Deno.test(needsTool("nsd", "dnsd's forwarded answers carry NSD's rcode and RRsets"), async (t) => {
  await withStack(async ({ nsd, dnsd }) => {
    for (const { name, type, edns } of compared) {
      await t.step(`${name} ${typeName(type)}${edns ? " with EDNS" : ""}`, async () => {
        const query = queryBytes(name, type, edns);
        const direct = await exchange(nsd, query);
        const relayed = await exchange(dnsd, query);
        assert.ok(direct && relayed, "both answer");
        const want = decodeMessage(direct);
        const got = decodeMessage(relayed);
        assert.equal(got.id, want.id);
        assert.deepEqual(got.questions, want.questions, "the question as asked");
        assert.equal(got.rcode, want.rcode);
        assert.deepEqual(got.answers, want.answers);
        assert.deepEqual(got.authorities, want.authorities);
        assert.deepEqual(got.additionals, want.additionals);
        assert.equal(got.edns !== null, edns, "OPT only for an EDNS query");
        assert.equal(got.authoritative, false, "dnsd is not the authority for forwarded names");
        assert.equal(got.recursionAvailable, true);
      });
    }
  });
});
