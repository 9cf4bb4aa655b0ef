/**
 * A zone transfer at scale (issue 17): a zone of 1,000,000 records sent by AXFR over loopback,
 * by dnsd and by NSD in one sitting. For each server: the time to load the zone, the time the
 * AXFR takes (first query octet out to the last record in, three runs), and the server's memory:
 * resident before the transfer and the peak sampled while it runs (NSD's whole process tree).
 * The client is a bare TCP reader that counts records (ANCOUNT) without decoding, so it is not the
 * bottleneck. Servers run on one CPU, the client on the other.
 *
 * `deno task bench:xfr [--records N] [--out FILE]`
 * @module
 */
import { parseArgs } from "node:util";
import { encodeMessage, query, RRType } from "../lib/proto/mod.ts";
import { type Child, delay, freePort, launcher, waitUntilAnswers } from "./_proc.ts";
import { CLIENT_CPU, SERVER_CPU } from "./_servers.ts";
import { say } from "./_harness.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const ZONE = "xfr.bench";
const RUNS = 3;
const START_TIMEOUT_MS = 180_000;
const TRANSFER_TIMEOUT_MS = 300_000;

async function writeZone(path: string, records: number): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  let chunk =
    `$ORIGIN ${ZONE}.\n$TTL 3600\n@ SOA ns1 hostmaster 1 3600 600 86400 300\n@ NS ns1\nns1 A 127.0.0.1\n`;
  for (let n = 3; n < records; n++) {
    chunk += `h${n} A 10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}\n`;
    if (chunk.length > 1 << 20) {
      await file.write(encoder.encode(chunk));
      chunk = "";
    }
  }
  await file.write(encoder.encode(chunk));
  file.close();
}

/** Resident kilobytes of `pid` and every process below it. */
function treeRssKb(pid: number): number {
  let total = 0;
  const children = new Map<number, number[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = children.get(parent) ?? [];
      list.push(Number(entry.name));
      children.set(parent, list);
    } catch {
      // gone
    }
  }
  const visit = (at: number) => {
    try {
      const status = Deno.readTextFileSync(`/proc/${at}/status`);
      total += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch {
      return;
    }
    for (const child of children.get(at) ?? []) visit(child);
  };
  visit(pid);
  return total;
}

/** Reads one AXFR over TCP, counting records until `expected` have come; returns milliseconds. */
async function axfr(port: number, expected: number): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const started = performance.now();
  try {
    const bytes = encodeMessage(
      query({ name: ZONE, type: RRType.AXFR }, { id: 4242, recursionDesired: false }),
    );
    const framed = new Uint8Array(bytes.length + 2);
    framed.set([bytes.length >> 8, bytes.length & 255]);
    framed.set(bytes, 2);
    await conn.write(framed);
    let buffer = new Uint8Array(1 << 20);
    let have = 0;
    let records = 0;
    const deadline = Date.now() + TRANSFER_TIMEOUT_MS;
    while (records < expected) {
      if (Date.now() > deadline) throw new Error(`AXFR stalled at ${records} records`);
      if (have === buffer.length) {
        const grown = new Uint8Array(buffer.length * 2);
        grown.set(buffer);
        buffer = grown;
      }
      const count = await conn.read(buffer.subarray(have));
      if (count === null) throw new Error(`the connection closed after ${records} of ${expected} records`);
      have += count;
      let at = 0;
      while (have - at >= 2) {
        const length = (buffer[at]! << 8) | buffer[at + 1]!;
        if (have - at < 2 + length) break;
        const message = buffer.subarray(at + 2, at + 2 + length);
        if ((message[3]! & 0x0f) !== 0) throw new Error(`rcode ${message[3]! & 0x0f}`);
        records += (message[6]! << 8) | message[7]!;
        at += 2 + length;
      }
      buffer.copyWithin(0, at, have);
      have -= at;
    }
    return performance.now() - started;
  } finally {
    conn.close();
  }
}

interface Figures {
  readonly name: string;
  readonly loadMs: number;
  readonly transfersMs: number[];
  readonly rssBeforeKb: number;
  readonly rssPeakKb: number;
}

/** Runs the transfers against a started server, sampling its memory every 10 ms. */
async function measure(
  name: string,
  child: Child,
  port: number,
  loadMs: number,
  expected: number,
): Promise<Figures> {
  await delay(500);
  const rssBeforeKb = treeRssKb(child.pid);
  let rssPeakKb = rssBeforeKb;
  const sampler = setInterval(() => (rssPeakKb = Math.max(rssPeakKb, treeRssKb(child.pid))), 10);
  const transfersMs: number[] = [];
  try {
    for (let run = 0; run < RUNS; run++) transfersMs.push(await axfr(port, expected));
  } finally {
    clearInterval(sampler);
  }
  rssPeakKb = Math.max(rssPeakKb, treeRssKb(child.pid));
  return { name, loadMs, transfersMs, rssBeforeKb, rssPeakKb };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: { records: { type: "string" }, out: { type: "string" } },
  });
  const records = Number(values.records ?? 1_000_000);
  const work = await Deno.makeTempDir({ prefix: "dnsd_bench_xfr_" });
  const processes = launcher();
  const results: Figures[] = [];
  try {
    await writeZone(`${work}/${ZONE}.zone`, records);
    const last = `h${records - 1}.${ZONE}`;
    // NSD first, alone on its CPU.
    const nsdPort = freePort();
    await Deno.writeTextFile(
      `${work}/nsd.conf`,
      `server:\n    ip-address: 127.0.0.1@${nsdPort}\n    do-ip6: no\n    username: ""\n    chroot: ""\n` +
        `    zonesdir: "${work}"\n    database: ""\n    zonelistfile: "${work}/zone.list"\n` +
        `    xfrdfile: "${work}/xfrd.state"\n    xfrdir: "${work}"\n    pidfile: "${work}/nsd.pid"\n` +
        `    logfile: "${work}/nsd.log"\n    server-count: 1\n    verbosity: 1\n` +
        `remote-control:\n    control-enable: no\nzone:\n    name: "${ZONE}"\n    zonefile: "${ZONE}.zone"\n` +
        `    provide-xfr: 127.0.0.1 NOKEY\n`,
    );
    let started = performance.now();
    const nsd = processes.spawn("nsd", ["/usr/sbin/nsd", "-d", "-c", `${work}/nsd.conf`], {
      cpu: SERVER_CPU,
      cwd: work,
    });
    await waitUntilAnswers(nsd, nsdPort, last, START_TIMEOUT_MS);
    results.push(await measure("NSD", nsd, nsdPort, performance.now() - started, records + 1));
    await nsd.stop();
    const dnsdPort = freePort();
    started = performance.now();
    const dnsd = processes.spawn("dnsd", [
      Deno.execPath(),
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-env",
      "--allow-ffi",
      `${ROOT}main.ts`,
      "--port",
      String(dnsdPort),
      "--no-recursion",
      "--zone",
      `${work}/${ZONE}.zone`,
      "--log-level",
      "warning",
    ], { cpu: SERVER_CPU, cwd: ROOT });
    await waitUntilAnswers(dnsd, dnsdPort, last, START_TIMEOUT_MS);
    results.push(await measure("dnsd", dnsd, dnsdPort, performance.now() - started, records + 1));
    await dnsd.stop();
  } finally {
    await processes.stopAll();
    await Deno.remove(work, { recursive: true });
  }
  const mib = (kb: number) => (kb / 1024).toFixed(0);
  const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
  const [nsd, dnsd] = results as [Figures, Figures];
  const lines = [
    `# Zone transfer sitting, ${new Date().toISOString().slice(0, 10)}`,
    "",
    `A zone of ${
      records.toLocaleString("en")
    } records (A records), AXFR over loopback by a client that counts`,
    `records, ${RUNS} runs each; the server on CPU ${SERVER_CPU}, the client on CPU ${CLIENT_CPU}. \`deno task bench:xfr\`.`,
    "",
    "| server | load (s) | AXFR median (s) | AXFR runs (s) | RSS before (MiB) | RSS peak during AXFR (MiB) |",
    "|---|---|---|---|---|---|",
    ...results.map((row) =>
      `| ${row.name} | ${(row.loadMs / 1000).toFixed(1)} | ${(median(row.transfersMs) / 1000).toFixed(2)} | ${
        row.transfersMs.map((ms) => (ms / 1000).toFixed(2)).join(", ")
      } | ${mib(row.rssBeforeKb)} | ${mib(row.rssPeakKb)} |`
    ),
    "",
    `dnsd / NSD: AXFR time ${(median(dnsd.transfersMs) / median(nsd.transfersMs)).toFixed(2)}x, ` +
    `peak RSS ${(dnsd.rssPeakKb / nsd.rssPeakKb).toFixed(2)}x, ` +
    `RSS growth during the transfer ${mib(dnsd.rssPeakKb - dnsd.rssBeforeKb)} MiB (NSD ${
      mib(nsd.rssPeakKb - nsd.rssBeforeKb)
    } MiB).`,
    "",
  ];
  const text = lines.join("\n");
  say(text);
  if (values.out) await Deno.writeTextFile(values.out, text);
}

if (import.meta.main) await main();
