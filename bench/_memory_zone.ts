/**
 * The zone part of bench/memory.ts: one generated zone file of A records served by dnsd, NSD and
 * Knot DNS in turn. For each: the load time (spawn to the first correct answer for the last name),
 * then the memory of its whole process tree once loaded and after each pass of `dnsperf -n 1` over
 * every name. NSD forks (main, xfrd, a server child), so its RSS is given summed over the tree, for
 * its largest process alone, and as the tree's Pss, which counts the pages they share once.
 * @module
 */
import { mib, say, whole, writeQueryFile } from "./_harness.ts";
import {
  measureEach,
  type Part,
  type PartSetting,
  partTable,
  type Row,
  sendOnce,
  SETTLE_MS,
  START_TIMEOUT_MS,
} from "./_memory_common.ts";
import { delay } from "./_proc.ts";
import { startResponder } from "./_responder.ts";
import { type TreeMemory, treeMemoryOf } from "./_tree_memory.ts";
import {
  dnsdZone,
  knotZone,
  type Loaded,
  nsdZone,
  POLL_MS,
  PROBE_MS,
  type ZoneFile,
  type ZoneServer,
} from "./_zone_servers.ts";

/** How many times every name of the zone is asked. */
const ZONE_PASSES = 3;
const ORIGIN = "big.test";

function zoneName(n: number): string {
  return `host${n}.${ORIGIN}`;
}

function zoneAddress(n: number): string {
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

/** Writes a zone of `records` A records (and SOA, NS), as bench/zone_bench.ts generates it. */
async function writeZone(path: string, records: number): Promise<void> {
  const head = `$ORIGIN ${ORIGIN}.\n$TTL 3600\n@ SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ NS ns1\n`;
  await Deno.writeTextFile(path, head);
  using file = await Deno.open(path, { append: true });
  const encoder = new TextEncoder();
  for (let from = 0; from < records; from += 100_000) {
    let text = "";
    for (let i = from; i < Math.min(records, from + 100_000); i++) text += `host${i} A ${zoneAddress(i)}\n`;
    const bytes = encoder.encode(text);
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
  }
}

/** What one server measured. */
interface Served {
  readonly loadS: number;
  /** dnsd only: from "DNS server is starting" to "Loaded local data" in its log. */
  readonly loggedS?: number;
  /** Loaded, then after each pass. */
  readonly states: readonly TreeMemory[];
  /** Queries per second of each pass. */
  readonly rates: readonly number[];
}

async function serve(
  setting: PartSetting,
  server: ZoneServer,
  zone: ZoneFile,
  queries: string,
): Promise<Served> {
  const { run } = setting;
  const work = await Deno.makeTempDir({ dir: run.work, prefix: `${server.name}-` });
  const upstream = startResponder(); // only dnsd has one, and every name asked is in the zone
  let loaded: Loaded | undefined;
  try {
    loaded = await server.start({
      launcher: run.launcher,
      work,
      zone,
      upstream: upstream.port,
      timeoutMs: START_TIMEOUT_MS,
    });
    const loggedS = server.loggedLoadS?.(loaded.child.tail());
    await delay(SETTLE_MS);
    const states = [treeMemoryOf(loaded.child.pid)];
    say(`${server.name} loaded in ${loaded.loadS.toFixed(2)} s: RSS ${mib(states[0]!.sum.rss)} MiB.`);
    states.push(await settled(loaded.child.pid));
    // More than one pass: whether answering grows the memory for good or only until garbage collection.
    const rates: number[] = [];
    for (let pass = 1; pass <= ZONE_PASSES; pass++) {
      run.stopping.throwIfAborted();
      say(`${server.name}: asking every name of the zone, pass ${pass} of ${ZONE_PASSES}...`);
      rates.push((await sendOnce(run.launcher, loaded, queries)).qps);
      await delay(SETTLE_MS);
      states.push(treeMemoryOf(loaded.child.pid));
    }
    if (upstream.queries() !== 0) throw new Error(`${upstream.queries()} zone queries reached the upstream`);
    return { loadS: loaded.loadS, ...(loggedS === undefined ? {} : { loggedS }), states, rates };
  } finally {
    await loaded?.child.stop();
    upstream.close();
  }
}

/**
 * The memory once it has stopped falling: read every {@link SETTLE_STEP_MS} until a reading is
 * within 1% of the one before, for at most {@link SETTLE_LIMIT_MS}. A garbage-collected server
 * (dnsd) holds what its loader left behind until the collector's memory reducer runs, which it
 * does on its own schedule when the process goes quiet; a server in C has nothing to give back.
 */
async function settled(pid: number): Promise<TreeMemory> {
  let last = treeMemoryOf(pid);
  for (let waited = 0; waited < SETTLE_LIMIT_MS; waited += SETTLE_STEP_MS) {
    await delay(SETTLE_STEP_MS);
    const now = treeMemoryOf(pid);
    const steady = Math.abs(now.sum.rss - last.sum.rss) <= last.sum.rss / 100;
    last = now;
    // Two close readings in a row, and at least half the limit waited: the reducer may not have run yet.
    if (steady && waited >= SETTLE_LIMIT_MS / 2) break;
  }
  return last;
}

/** How often the memory is read while it settles, and for how long at most. */
const SETTLE_STEP_MS = 5_000;
const SETTLE_LIMIT_MS = 60_000;

/** The rows of one reading of every server: RSS summed, RSS of the largest process, and Pss. */
function memoryRows(label: string, trees: readonly (TreeMemory | undefined)[]): Row[] {
  const whose = (server: number) => {
    const tree = trees[server];
    return tree && tree.processes > 1 ? ` (${tree.largest.role}; ${tree.processes} processes)` : "";
  };
  return [
    { what: `RSS ${label}, all processes, MiB`, values: trees.map((t) => t?.sum.rss), show: mib },
    {
      what: `RSS ${label}, largest process, MiB`,
      values: trees.map((t) => t?.largest.memory.rss),
      show: (value, server) => `${mib(value)}${whose(server)}`,
    },
    { what: `Pss ${label}, all processes, MiB`, values: trees.map((t) => t?.pss), show: mib },
  ];
}

/** The zone part: dnsd, NSD and Knot serving the same file. */
export async function zonePart(setting: PartSetting): Promise<Part> {
  const { run, records } = setting;
  const zone: ZoneFile = {
    origin: ORIGIN,
    path: `${run.work}/${ORIGIN}.zone`,
    last: { name: zoneName(records - 1), address: zoneAddress(records - 1) },
  };
  const queries = `${run.work}/zone.txt`;
  say(`Writing a zone of ${whole(records)} records...`);
  await writeZone(zone.path, records);
  await writeQueryFile(queries, records, zoneName);
  const servers = [dnsdZone, nsdZone, knotZone];
  const notes: string[] = [];
  const results = await measureEach(servers, run.stopping, notes, async (server) => {
    const served = await serve(setting, server, zone, queries);
    notes.push(
      `${server.name}: every name, ${ZONE_PASSES} passes of \`dnsperf -n 1\`: ` +
        `${served.rates.map(whole).join(", ")} QPS, all NOERROR.`,
    );
    return served;
  });
  const seconds = (value: number) => value.toFixed(2);
  const labels = [
    "loaded",
    "loaded and settled",
    "after answering each name once",
    "after answering each name twice",
  ];
  const rows: Row[] = [
    {
      what: "load: spawn to the first correct answer for the last name, s",
      values: results.map((r) => r?.loadS),
      show: seconds,
    },
    {
      what: 'load: dnsd\'s log, "DNS server is starting" to "Loaded local data", s',
      values: results.map((r) => r?.loggedS),
      show: seconds,
    },
  ];
  for (let state = 0; state <= ZONE_PASSES + 1; state++) {
    const label = labels[state] ?? `after answering each name ${state - 1} times`;
    rows.push(...memoryRows(label, results.map((r) => r?.states[state])));
  }
  const last = results.map((r) => r?.states[ZONE_PASSES + 1]);
  rows.push(
    {
      what: "peak RSS at the end, all processes summed, MiB",
      values: last.map((t) => t?.sum.peak),
      show: mib,
    },
    {
      what: "peak RSS at the end, largest process, MiB",
      values: last.map((t) => t?.largest.memory.peak),
      show: mib,
    },
    { what: "first pass, queries per second", values: results.map((r) => r?.rates[0]), show: whole },
  );
  return {
    title: `Zone: ${whole(records)} records`,
    table: partTable(`zone of ${whole(records)} records`, servers.map((s) => s.name), rows),
    notes: [
      "The same file for all: SOA, NS and one A record per name (`hostN A 10.x.y.z`). Load time: from spawning " +
      `the process to its first answer for ${zone.last.name} with ${zone.last.address}, asked over UDP every ` +
      `${POLL_MS} ms; a probe unanswered within ${PROBE_MS} ms (the port not open yet, or the server busy) is ` +
      `given up, so the resolution is about ${POLL_MS + PROBE_MS} ms.`,
      `Memory read ${SETTLE_MS / 1000} s after the load, then once it has settled (read every ` +
      `${SETTLE_STEP_MS / 1000} s until two readings are within 1%, from ${SETTLE_LIMIT_MS / 2000} s on, ` +
      `${SETTLE_LIMIT_MS / 1000} s at most), and ${
        SETTLE_MS / 1000
      } s after each pass. NSD (one server process, ` +
      '`server-count: 1`, `database: ""`) runs as three: the process started becomes `nsd: xfrd` and forks ' +
      "`nsd: main`, which loads the zone and forks `nsd: server 1`. The server shares main's pages until " +
      "either writes them: RSS summed over the tree counts a shared page once per process that touched it, the " +
      "largest process alone leaves out the others' own pages, and Pss counts each page once in all. " +
      "Knot: one UDP, TCP and background worker, `zonefile-load: whole`, `journal-content: none`, no DNSSEC. " +
      "dnsd: `--zone FILE`, forwarding to a fake upstream that no query reached.",
      ...notes,
    ],
  };
}
