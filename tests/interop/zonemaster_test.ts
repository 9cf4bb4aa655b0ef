/**
 * Zonemaster (Debian `zonemaster-cli`) against a zone dnsd serves, delegated from a private root
 * on loopback: a second dnsd serves a root zone on 127.14.0.20:53 that delegates `zmtest.` to dnsd
 * on 127.14.0.21:53, and Zonemaster gets that root through `--hints` (and `--no-ipv6`), so it never
 * asks the real root. Its NAMESERVER01 test ("a name server should not be a recursor") must report
 * NO_RECURSOR with `--no-recursion` and for a client outside `--allow-recursion`, and IS_A_RECURSOR
 * without them (dnsd then sets RA=1 for its loopback client). Port 53 needs root, as CI runs.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, match, ok } from "node:assert/strict";
import { type DnsdProcess, spawnDnsd, STAMP } from "../_dnsd_process.ts";
import { findTool, needsPort53, needsTool, runCommand } from "../_tools.ts";

const ROOT_NS = "127.14.0.20";
const ZONE_NS = "127.14.0.21";

const ROOT_ZONE = `$ORIGIN .
$TTL 3600
.            SOA  a.root.zm. hostmaster.root.zm. 1 7200 900 1209600 300
.            NS   a.root.zm.
a.root.zm.   A    ${ROOT_NS}
zmtest.      NS   ns1.zmtest.
zmtest.      NS   ns2.zmtest.
ns1.zmtest.  A    ${ZONE_NS}
ns2.zmtest.  A    ${ZONE_NS}
`;

const TEST_ZONE = `$ORIGIN zmtest.
$TTL 3600
@      SOA  ns1 hostmaster 2026010101 14400 3600 1209600 300
@      NS   ns1
@      NS   ns2
ns1    A    ${ZONE_NS}
ns2    A    ${ZONE_NS}
www    A    192.0.2.80
`;

/** The root hints Zonemaster gets instead of the real root's. */
const HINTS = `.            3600000  NS  a.root.zm.
a.root.zm.   3600000  A   ${ROOT_NS}
`;

/** The test's definition: skipped, with the reason, without the tool or port 53 (never under CI). */
function definition(name: string): { name: string; ignore: boolean } {
  const tool = needsTool("zonemaster-cli", name);
  return tool.ignore ? tool : needsPort53(ROOT_NS, name);
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

/** Runs Zonemaster on `zmtest` against the private root; returns its raw output lines. */
async function zonemaster(hints: string, tests: readonly string[]): Promise<string[]> {
  const args = ["--hints", hints, "--no-ipv6", "--raw", "--show-testcase", "--level", "INFO"];
  const done = await runCommand(
    findTool("zonemaster-cli")!,
    [...args, ...tests.flatMap((name) => ["--test", name]), "zmtest"],
    { ms: 120_000 },
  );
  ok(done.code === 0, `zonemaster-cli exited ${done.code}: ${done.stderr}`);
  const lines = done.stdout.split("\n");
  // It never left loopback: every name server address it reports is one of ours.
  const servers = [...done.stdout.matchAll(/(?:ns_ip(?:_list)?=|\/)(\d+(?:\.\d+){3})/g)].map((found) =>
    found[1]!
  );
  ok(servers.length > 0, "Zonemaster reported the name servers it asked");
  for (const address of servers) ok(address.startsWith("127.14.0."), `Zonemaster asked ${address}`);
  return lines;
}

/** The NAMESERVER01 tags Zonemaster reported, one per name server, sorted. */
function nameserver01(lines: readonly string[]): string[] {
  return lines.flatMap((line) => {
    const found = /\bNAMESERVER01\s+(\S+)\s+ns=(\S+)/.exec(line);
    return found ? [`${found[2]} ${found[1]}`] : [];
  }).sort();
}

test({
  ...definition("Zonemaster finds no recursor in dnsd with --no-recursion, and one without it"),
  timeoutMs: 180_000,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "dnsd-zonemaster-" });
    const started: DnsdProcess[] = [];
    try {
      await Deno.writeTextFile(`${dir}/root.zone`, ROOT_ZONE);
      await Deno.writeTextFile(`${dir}/zmtest.zone`, TEST_ZONE);
      await Deno.writeTextFile(`${dir}/hints`, HINTS);
      started.push(await dnsdOn(ROOT_NS, ["--zone", `.=${dir}/root.zone`, "--no-recursion"]));
      const zone = ["--zone", `${dir}/zmtest.zone`];
      const cases = [
        // The whole default profile each time (under a second): everything it asks is answered on loopback.
        { flags: ["--no-recursion"], tests: [], tag: "NO_RECURSOR" },
        // Zonemaster asks from 127.0.0.1: outside --allow-recursion, it gets RA=0 and REFUSED.
        {
          flags: ["--allow-recursion", "10.0.0.0/8", "--upstream", "127.0.0.1:9"],
          tests: [],
          tag: "NO_RECURSOR",
        },
        // Allowed to recurse (127.0.0.0/8 by default), with an upstream: RA=1, a recursor.
        {
          flags: ["--upstream", "127.0.0.1:9", "--timeout", "300"],
          tests: [],
          tag: "IS_A_RECURSOR",
        },
      ];
      for (const { flags, tests, tag } of cases) {
        const dnsd = await dnsdOn(ZONE_NS, [...zone, ...flags]);
        try {
          const lines = await zonemaster(`${dir}/hints`, tests);
          match(
            lines.join("\n"),
            /BASIC01\s+HAS_PARENT\s+pname=\./,
            `${flags.join(" ")}: the private root delegates zmtest`,
          );
          deepEqual(
            nameserver01(lines),
            [`ns1.zmtest/${ZONE_NS} ${tag}`, `ns2.zmtest/${ZONE_NS} ${tag}`],
            flags.join(" "),
          );
        } finally {
          await dnsd.stop();
        }
      }
    } finally {
      for (const dnsd of started) await dnsd.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
