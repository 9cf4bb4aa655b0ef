/**
 * dnsd as the secondary of BIND, Knot and NSD, without and with TSIG (hmac-sha256): it takes the
 * zone by AXFR, serves it authoritatively with the primary's answers, follows the primary's NOTIFY
 * to a new serial by IXFR, and keeps a copy in --secondary-dir. Then the faults: a restart with the
 * primary down serves the copy at once; a NOTIFY from a stranger is refused and triggers nothing;
 * a wrong TSIG secret loads nothing (SERVFAIL, a warning saying why).
 * @module
 */
import assert from "node:assert/strict";
import { test } from "../_limit.ts";
import { type DnsdProcess, runningLine, spawnDnsd } from "../_dnsd_process.ts";
import { dig, needsTools } from "../_nsd.ts";
import { runTool } from "../_tools.ts";
import { freeUdpPort } from "../_udp_client.ts";
import {
  MORE_TYPES,
  moreTypesQuestions,
  type PeerKind,
  peerTools,
  retryOnPortClash,
  startPrimary,
  type TsigKeySpec,
  versionedZone,
  XFR_KEY,
} from "../_xfr_peers.ts";
import { decodeMessage, encodeMessage, Opcode, query, Rcode, RRType } from "../../lib/proto/mod.ts";

const ZONE = "sec.test";
const FOLLOW_MS = 10_000;
/**
 * The first load: a primary that is not ready for the first transfer costs dnsd its first retries
 * (5 s, then 10 s more, before it holds a copy), so room for three tries.
 */
const FIRST_LOAD_MS = 20_000;
const KEY = XFR_KEY;

function zoneText(serial: number): string {
  const moved = serial === 1 ? "old A 192.0.2.50" : "new AAAA 2001:db8::2";
  return versionedZone(
    ZONE,
    serial,
    `mail MX  10 www\nsub  NS  ns.elsewhere.example.\n${moved}\n${MORE_TYPES}`,
  );
}

const QUESTIONS = [
  [ZONE, "SOA"],
  [ZONE, "NS"],
  [`www.${ZONE}`, "A"],
  [`mail.${ZONE}`, "MX"],
  [`same.${ZONE}`, "TXT"],
  [`old.${ZONE}`, "A"],
  [`new.${ZONE}`, "AAAA"],
  [`nothing.${ZONE}`, "A"],
  [`host.sub.${ZONE}`, "A"],
  ...moreTypesQuestions(ZONE),
] as const;

/**
 * The status, AA and answer for each question, one line each (records sorted); the authority
 * section too where the answer is empty (negative answers, referrals). Positive answers' authority
 * differs by design: NSD adds the zone's NS records, dnsd answers minimally.
 */
async function answers(port: number): Promise<string[]> {
  const lines: string[] = [];
  for (const [name, type] of QUESTIONS) {
    const got = await dig(port, "+norecurse", name, type);
    const aa = got.flags.split(" ").includes("aa") ? "aa" : "";
    const shown = got.answer.length > 0 ? got.answer : got.authority;
    lines.push(`${name} ${type} ${got.status} ${aa}: ${[...shown].sort().join(" | ")}`);
  }
  return lines;
}

/** The serial dnsd serves, or the RCODE's name when it answers without one. */
async function servedSerial(port: number): Promise<string> {
  const text = await runTool("dig", [
    "-r",
    "@127.0.0.1",
    "-p",
    String(port),
    "+time=1",
    "+tries=1",
    ZONE,
    "SOA",
  ]);
  const soa = new RegExp(
    `^${ZONE.replace(".", "\\.")}\\.\\s+\\d+\\s+IN\\s+SOA\\s+\\S+\\s+\\S+\\s+(\\d+)`,
    "m",
  ).exec(text);
  return soa ? soa[1]! : /status: ([A-Z]+)/.exec(text)?.[1] ?? "none";
}

async function waitForServed(dnsd: DnsdProcess, port: number, serial: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  let last = "";
  while (Date.now() < deadline) {
    last = await servedSerial(port);
    if (last === serial) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // Everything dnsd wrote by now (stderr is read as lines are waited for): why it did not load.
  await dnsd.stderr.waitFor(/^\b$/, 300).catch(() => {});
  throw new Error(
    `dnsd serves ${last}, not serial ${serial}, after ${ms} ms:\n${dnsd.stderr.seen.join("\n")}`,
  );
}

/** Starts dnsd on `port` as a secondary of 127.0.0.1:`primary`; resolves once it logs that it runs. */
async function startSecondaryDnsd(
  port: number,
  primary: number,
  dir: string,
  key?: string,
): Promise<DnsdProcess> {
  const dnsd = spawnDnsd(
    [
      "--port",
      String(port),
      "--no-recursion",
      "--secondary",
      `${ZONE}=127.0.0.1:${primary}${key ? `@${KEY.name}` : ""}`,
      "--secondary-dir",
      dir,
      ...(key ? ["--tsig-key", key] : []),
    ],
    ["--allow-net", "--allow-read", "--allow-write", "--allow-env", "--allow-ffi"],
  );
  try {
    await dnsd.stderr.waitFor(runningLine(port), 20_000);
  } catch (error) {
    await dnsd.stop();
    throw error;
  }
  return dnsd;
}

async function secondaryOf(kind: PeerKind, tsig: TsigKeySpec | undefined): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dnsd_xfr_secondary_" });
  const port = freeUdpPort();
  const key = tsig ? `${tsig.name}:${tsig.algorithm}:${tsig.secret}` : undefined;
  const primary = await startPrimary(kind, {
    zone: ZONE,
    zoneText: zoneText(1),
    notify: [port],
    ...(tsig ? { tsig } : {}),
  });
  let dnsd: DnsdProcess | undefined;
  let primaryStopped = false;
  try {
    dnsd = await startSecondaryDnsd(port, primary.port, dir, key);
    const running = dnsd;
    const context = async () =>
      `${kind} log:\n${await primary.log()}\ndnsd log:\n${running.stderr.seen.join("\n")}`;
    await waitForServed(dnsd, port, "1", FIRST_LOAD_MS).catch(async (error) =>
      assert.fail(`${error}\n${await context()}`)
    );
    await dnsd.stderr.waitFor(
      /INFO - Zone sec\.test serial 1 transferred from 127\.0\.0\.1:\d+ \(AXFR/,
      FOLLOW_MS,
    );
    assert.deepEqual(await answers(port), await answers(primary.port), await context());
    await primary.updateZone!(zoneText(2));
    await waitForServed(dnsd, port, "2", FOLLOW_MS);
    await dnsd.stderr.waitFor(
      /INFO - Zone sec\.test serial 2 transferred from 127\.0\.0\.1:\d+ \(IXFR,/,
      FOLLOW_MS,
    )
      .catch(async (error) => assert.fail(`${error}\n${await context()}`));
    assert.deepEqual(await answers(port), await answers(primary.port), await context());
    // The copy is written just after the zone is served: give it a moment.
    const written = /new\.sec\.test\.\s+300\s+IN\s+AAAA\s+2001:db8::2/;
    let copy = "";
    for (let tries = 0; tries < 50 && !written.test(copy); tries++) {
      copy = await Deno.readTextFile(`${dir}/${ZONE}.zone`).catch(() => "");
      if (!written.test(copy)) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.match(copy, written);
    // A restart with the primary gone: the copy is served at once.
    await dnsd.stop();
    const served = await answers(primary.port);
    await primary.stop();
    primaryStopped = true;
    dnsd = await startSecondaryDnsd(port, primary.port, dir, key);
    assert.equal(await servedSerial(port), "2");
    assert.deepEqual(await answers(port), served);
  } finally {
    await dnsd?.stop();
    if (!primaryStopped) await primary.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

for (const kind of ["bind", "knot", "nsd"] as const) {
  for (const tsig of [undefined, KEY]) {
    test({
      ...needsTools(
        ["dig", ...peerTools(kind)],
        `xfr interop: dnsd as ${kind}'s secondary${tsig ? ", TSIG" : ""}`,
      ),
      timeoutMs: 60_000,
      fn: () => retryOnPortClash(() => secondaryOf(kind, tsig)),
    });
  }
}

/** A NOTIFY for the zone, as a primary would send it, from `hostname`; the RCODE of the answer. */
async function notifyFrom(hostname: string, port: number): Promise<number> {
  const socket = Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
  try {
    const message = {
      ...query({ name: ZONE, type: RRType.SOA }, { id: 777, recursionDesired: false }),
      opcode: Opcode.NOTIFY,
      authoritative: true,
    };
    await socket.send(encodeMessage(message), { transport: "udp", hostname: "127.0.0.1", port });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((
      _,
      reject,
    ) => (timer = setTimeout(() => reject(new Error("no answer to NOTIFY")), 3_000)));
    try {
      const [bytes] = await Promise.race([socket.receive(), late]);
      return decodeMessage(bytes).rcode;
    } finally {
      clearTimeout(timer);
    }
  } finally {
    socket.close();
  }
}

test({
  ...needsTools(
    ["dig", ...peerTools("nsd")],
    "xfr faults: a stranger's NOTIFY is refused; a wrong TSIG secret loads nothing",
  ),
  timeoutMs: 60_000,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "dnsd_xfr_faults_" });
    const port = freeUdpPort();
    const primary = await startPrimary("nsd", { zone: ZONE, zoneText: zoneText(1), tsig: KEY });
    let dnsd: DnsdProcess | undefined;
    try {
      // The key's name is right, its secret is not: every transfer fails its TSIG check.
      const wrong = `${KEY.name}:${KEY.algorithm}:d3Jvbmcgc2VjcmV0IHdyb25nIHNlY3JldA==`;
      dnsd = await startSecondaryDnsd(port, primary.port, dir, wrong);
      await dnsd.stderr.waitFor(
        /WARNING - Refresh of zone sec\.test from 127\.0\.0\.1:\d+ failed: /,
        FOLLOW_MS,
      );
      assert.equal(await servedSerial(port), "SERVFAIL");
      await assert.rejects(Deno.stat(`${dir}/${ZONE}.zone`), Deno.errors.NotFound);
      await dnsd.stop();
      // The right key: loaded. A NOTIFY from another address (127.0.0.2) is refused; one from a
      // zone dnsd is not secondary for is NOTAUTH.
      dnsd = await startSecondaryDnsd(port, primary.port, dir, `${KEY.name}:${KEY.algorithm}:${KEY.secret}`);
      await waitForServed(dnsd, port, "1", FIRST_LOAD_MS);
      assert.equal(await notifyFrom("127.0.0.2", port), Rcode.REFUSED);
      // From the primary's address but unsigned while keys are set: refused too.
      assert.equal(await notifyFrom("127.0.0.1", port), Rcode.REFUSED);
      const seen = dnsd.stderr.seen.length;
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.ok(
        !dnsd.stderr.seen.slice(seen).some((line) => /transferred|Refresh/.test(line)),
        "a refused NOTIFY triggered a refresh",
      );
    } finally {
      await dnsd?.stop();
      await primary.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
