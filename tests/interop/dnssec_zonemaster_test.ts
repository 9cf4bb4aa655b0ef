/**
 * Zonemaster (Debian `zonemaster-cli`) on a SIGNED zone, dnsd against NSD: `zmsigned.` (NSEC3,
 * signed in the test) is delegated, with its DS, from a private root on 127.14.0.30:53, and
 * Zonemaster (the root given through `--hints`, `--no-ipv6`) runs once with dnsd serving the zone
 * on 127.14.0.31:53 and once with NSD serving the same file on 127.14.0.32:53. Both runs must
 * report the same set of (test case, tag) at WARNING and above. Port 53 needs root, as CI runs.
 *
 * Zonemaster takes no trust anchor for the root: its DNSSEC test cases check the zone against the
 * DS its parent holds (DNSSEC02 and on), not a chain from the root, so the private root stays
 * unsigned. NSD serves the root, not dnsd: the parent side of a signed delegation (DS answers) is
 * part of what dnsd is being tested on, and the root is the fixture here.
 * @module
 */
import { test } from "../_limit.ts";
import { ok } from "node:assert/strict";
import { type DnsdProcess, spawnDnsd, STAMP } from "../_dnsd_process.ts";
import { stopProcess } from "../_nsd.ts";
import { findTool, needsPort53, needsTool, runCommand } from "../_tools.ts";
import { signZone, zoneText } from "../_signed_zone.ts";
import { NoReply, udpAsk } from "../_udp_client.ts";
import { encodeMessage } from "../../lib/proto/codec.ts";
import { query } from "../../lib/proto/message.ts";
import { RRType } from "../../lib/proto/types.ts";

// Apart from zonemaster_test.ts's 127.14.0.20-21, so the two files never share an address.
const ROOT_NS = "127.14.0.30";
const DNSD_NS = "127.14.0.31";
const NSD_NS = "127.14.0.32";
const ZONE = "zmsigned.";
const TOOLS = ["zonemaster-cli", "nsd", "ldns-keygen", "ldns-signzone"];

/**
 * Tags that may differ between the two runs for reasons unrelated to DNSSEC, each with why.
 * Empty so far: add one only with the reason beside it.
 */
const ALLOWED_DIFFERENCES: ReadonlySet<string> = new Set<string>([]);

/** The root: the zone's delegation and DS, and its servers' addresses (the run's server). */
function rootZone(ds: string, address: string): string {
  return `$ORIGIN .
$TTL 3600
.            SOA  a.root.zm. hostmaster.root.zm. 1 7200 900 1209600 300
.            NS   a.root.zm.
a.root.zm.   A    ${ROOT_NS}
${ZONE}      NS   ns1.zmhost.
${ZONE}      NS   ns2.zmhost.
${ds}
ns1.zmhost.  A    ${address}
ns2.zmhost.  A    ${address}
`;
}

const HINTS = `.            3600000  NS  a.root.zm.
a.root.zm.   3600000  A   ${ROOT_NS}
`;

/** The test's definition: skipped, with the reason, without the tools or port 53 (never under CI). */
function definition(name: string): { name: string; ignore: boolean } {
  for (const tool of TOOLS) {
    const fields = needsTool(tool, name);
    if (fields.name !== name) return fields;
  }
  return needsPort53(ROOT_NS, name);
}

/** A server the test started. */
interface Stoppable {
  stop(): Promise<void>;
}

/** Starts NSD on `address`:53 serving `zones` (name -> file), its state in `work`; waits until it answers. */
async function nsdOn(
  address: string,
  work: string,
  zones: Readonly<Record<string, string>>,
): Promise<Stoppable> {
  const conf = `${work}/nsd-${address}.conf`;
  await Deno.writeTextFile(
    conf,
    `server:
    ip-address: ${address}@53
    do-ip6: no
    username: ""
    chroot: ""
    zonesdir: "${work}"
    database: ""
    zonelistfile: "${work}/zone-${address}.list"
    xfrdfile: "${work}/xfrd-${address}.state"
    xfrdir: "${work}"
    pidfile: "${work}/nsd-${address}.pid"
    logfile: "${work}/nsd-${address}.log"
    server-count: 1
    minimal-responses: yes
remote-control:
    control-enable: no
${
      Object.entries(zones).map(([name, file]) => `zone:\n    name: "${name}"\n    zonefile: "${file}"\n`)
        .join("")
    }`,
  );
  const child = new Deno.Command(findTool("nsd")!, {
    args: ["-d", "-c", conf],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let exited = false;
  child.status.then(() => (exited = true));
  const stop = () => stopProcess(child, () => exited);
  const probe = encodeMessage(
    query({ name: Object.keys(zones)[0]!, type: RRType.SOA }, { recursionDesired: false }),
  );
  const deadline = Date.now() + 10_000;
  while (!exited && Date.now() < deadline) {
    try {
      await udpAsk({ transport: "udp", hostname: address, port: 53 }, probe, 200);
      return { stop };
    } catch (error) {
      if (!(error instanceof NoReply)) throw error;
    }
  }
  await stop();
  const log = await Deno.readTextFile(`${work}/nsd-${address}.log`).catch(() => "(no log)");
  throw new Error(`Cannot start NSD on ${address}:53:\n${log}`);
}

/** Starts dnsd on `address`:53 with `args` and waits for its "running" line. */
async function dnsdOn(address: string, args: readonly string[]): Promise<DnsdProcess> {
  const dnsd = spawnDnsd(["--host", address, "--port", "53", "--no-mappings", "--udp-io", "deno", ...args]);
  const running = new RegExp(
    String.raw`^${STAMP} - INFO - DNS server is running on ${address.replaceAll(".", "\\.")}:53$`,
  );
  try {
    await dnsd.stderr.waitFor(running, 20_000);
  } catch (error) {
    await dnsd.stop();
    throw error;
  }
  return dnsd;
}

/** One Zonemaster message: level, test case, tag. */
interface Finding {
  readonly level: string;
  readonly testcase: string;
  readonly tag: string;
}

const LEVELS = ["WARNING", "ERROR", "CRITICAL"];

/** Runs Zonemaster on the zone against the private root; its messages at INFO and above. */
async function zonemaster(hints: string): Promise<Finding[]> {
  const args = ["--hints", hints, "--no-ipv6", "--raw", "--show-level", "--show-testcase", "--level", "INFO"];
  const done = await runCommand(findTool("zonemaster-cli")!, [...args, ZONE], { ms: 40_000 });
  ok(done.code === 0, `zonemaster-cli exited ${done.code}: ${done.stderr}`);
  // With --raw: seconds, level, test case, tag, arguments.
  return done.stdout.split("\n").flatMap((line) => {
    const found = /^\s*[\d.]+\s+([A-Z]+)\s+(\S+)\s+([A-Z0-9_]+)/.exec(line);
    return found ? [{ level: found[1]!, testcase: found[2]!, tag: found[3]! }] : [];
  });
}

/** The (test case, tag) pairs at WARNING and above, sorted, without the allowed differences. */
function serious(findings: readonly Finding[]): string[] {
  const tags = findings.filter(({ level }) => LEVELS.includes(level)).map(({ testcase, tag }) =>
    `${testcase} ${tag}`
  );
  return [...new Set(tags)].filter((tag) => !ALLOWED_DIFFERENCES.has(tag)).sort();
}

test({
  ...definition("Zonemaster reports the same warnings for a signed zone served by dnsd as by NSD"),
  timeoutMs: 120_000,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "dnsd-zonemaster-signed-" });
    try {
      const servers = [{ name: "ns1.zmhost." }, { name: "ns2.zmhost." }];
      const zone = await signZone(dir, ZONE, "nsec3", zoneText(ZONE, servers));
      await Deno.writeTextFile(`${dir}/hints`, HINTS);
      const runs: Record<string, Finding[]> = {};
      for (const [server, address] of [["nsd", NSD_NS], ["dnsd", DNSD_NS]] as const) {
        await Deno.writeTextFile(`${dir}/root.zone`, rootZone(zone.ds, address));
        const started: Stoppable[] = [await nsdOn(ROOT_NS, dir, { ".": `${dir}/root.zone` })];
        try {
          started.push(
            server === "nsd"
              ? await nsdOn(NSD_NS, dir, { [ZONE]: zone.file })
              : await dnsdOn(DNSD_NS, ["--zone", `${ZONE}=${zone.file}`, "--no-recursion"]),
          );
          runs[server] = await zonemaster(`${dir}/hints`);
        } finally {
          for (const running of started.reverse()) await running.stop();
        }
      }
      const [nsd, dnsd] = [runs.nsd!, runs.dnsd!];
      // The fixture: against NSD, Zonemaster found the DS and ran the DNSSEC test cases.
      const nsdTags = new Set(nsd.map(({ testcase, tag }) => `${testcase} ${tag}`));
      ok([...nsdTags].some((tag) => tag.startsWith("DNSSEC")), `no DNSSEC messages for NSD: ${[...nsdTags]}`);
      const nsdDnssec = serious(nsd).filter((tag) => tag.startsWith("DNSSEC"));
      ok(nsdDnssec.length === 0, `the signed zone itself is at fault (NSD run): ${nsdDnssec.join(", ")}`);
      const [mine, theirs] = [serious(dnsd), serious(nsd)];
      const diff = [
        ...theirs.filter((tag) => !mine.includes(tag)).map((tag) => `  NSD only:  ${tag}`),
        ...mine.filter((tag) => !theirs.includes(tag)).map((tag) => `  dnsd only: ${tag}`),
      ];
      ok(diff.length === 0, `Zonemaster's WARNING and above differ:\n${diff.join("\n")}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
