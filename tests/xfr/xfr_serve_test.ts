/**
 * Serving transfers through the real path: `main.ts` started with a zone file, asked by dig and
 * kdig over loopback. AXFR (unsigned, signed with `dig -y`, refused to the unsigned and to
 * clients outside --allow-transfer), IXFR (`kdig ixfr=SERIAL`) after the file is saved with a
 * higher serial, UDP IXFR, signed ordinary queries and the TSIG errors dig reads.
 * @module
 */
import assert from "node:assert/strict";
import { test } from "../_limit.ts";
import { startDnsd } from "../_dnsd_process.ts";
import { needsTools } from "../_nsd.ts";
import { runTool } from "../_tools.ts";
import { exchange, queryBytes } from "../_udp_client.ts";
import { decodeMessage, EdeCode, edeOf, Rcode, RRType } from "../../lib/proto/mod.ts";

const KEY = "k1.example:hmac-sha256:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0";
const DIG_KEY = "hmac-sha256:k1.example:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0";

function zoneText(serial: number, extra = ""): string {
  return `$ORIGIN example.com.
$TTL 3600
@ IN SOA ns1 hostmaster ${serial} 3600 600 86400 300
@ NS ns1
ns1 A 192.0.2.1
www A 192.0.2.2
mail MX 10 www
${extra}`;
}

/** The records of a dig or kdig transfer, one a line with single spaces, comments dropped. */
function records(text: string): string[] {
  return text.split("\n").filter((line) => line.trim() !== "" && !line.startsWith(";"))
    .map((line) => line.trim().split(/\s+/).join(" "));
}

async function withServer(
  extraArgs: readonly string[],
  fn: (port: number, zoneFile: string) => Promise<void>,
  zone = zoneText(1),
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dnsd_xfr_" });
  const zoneFile = `${dir}/example.com.zone`;
  await Deno.writeTextFile(zoneFile, zone);
  const dnsd = await startDnsd((port) => [
    "--port",
    String(port),
    "--no-recursion",
    "--zone",
    zoneFile,
    "--reload-settle",
    "100",
    ...extraArgs,
  ]);
  try {
    await fn(dnsd.port, zoneFile);
  } finally {
    await dnsd.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

const dig = (port: number, ...args: string[]) =>
  runTool("dig", ["-r", "@127.0.0.1", "-p", String(port), "+time=3", "+tries=1", ...args]);
const kdig = (port: number, ...args: string[]) =>
  runTool("kdig", ["@127.0.0.1", "-p", String(port), "+time=3", "+retry=0", ...args]);

test({
  ...needsTools(
    ["dig", "kdig"],
    "xfr: dig axfr gets the zone, SOA first and last; kdig ixfr gets the difference",
  ),
  timeoutMs: 60_000,
  async fn() {
    await withServer([], async (port, zoneFile) => {
      const axfr = records(await dig(port, "example.com", "AXFR"));
      assert.equal(axfr.length, 6, axfr.join("\n"));
      assert.match(axfr[0]!, /^example\.com\. 3600 IN SOA .* 1 3600 600 86400 300$/);
      assert.equal(axfr.at(-1), axfr[0]);
      assert.ok(axfr.includes("mail.example.com. 3600 IN MX 10 www.example.com."));
      // Saved with serial 2: the watcher reloads it, and the journal keeps 1 -> 2.
      await Deno.writeTextFile(zoneFile, zoneText(2, 'new TXT "hello"\n').replace("192.0.2.2", "192.0.2.22"));
      let ixfr: string[] = [];
      for (let tries = 0; tries < 50; tries++) {
        ixfr = records(await kdig(port, "example.com", "IXFR=1"));
        if (ixfr.length > 1 && / 2 3600 600/.test(ixfr[0]!)) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.deepEqual(
        ixfr.map((line) => line.replace(/^(\S+) \d+ IN SOA .* (\d+) 3600 600 86400 300$/, "$1 SOA $2")),
        [
          "example.com. SOA 2",
          "example.com. SOA 1",
          "www.example.com. 3600 IN A 192.0.2.2",
          "example.com. SOA 2",
          "www.example.com. 3600 IN A 192.0.2.22",
          'new.example.com. 3600 IN TXT "hello"',
          "example.com. SOA 2",
        ],
      );
      // Up to date: the SOA alone, over TCP and UDP.
      assert.equal(records(await kdig(port, "example.com", "IXFR=2")).length, 1);
      const udp = await kdig(port, "+notcp", "example.com", "IXFR=2");
      assert.match(udp, /SOA\s+ns1\.example\.com\. hostmaster\.example\.com\. 2 /);
      // Behind, over UDP: TC, so the client asks again over TCP (dig does).
      assert.match(await dig(port, "+notcp", "example.com", "IXFR=1"), /SOA.* 2 3600 600 86400 300/);
      // A serial the journal does not have: the whole zone, in the IXFR's AXFR form.
      assert.equal(records(await kdig(port, "example.com", "IXFR=0")).length, 7);
      // A client "ahead" (RFC 1982) is up to date as far as dnsd can tell: the SOA alone.
      assert.equal(records(await kdig(port, "example.com", "IXFR=7777")).length, 1);
      // Not a zone dnsd serves.
      assert.match(await dig(port, "example.org", "AXFR"), /Transfer failed/);
    });
  },
});

test({
  ...needsTools(
    ["dig"],
    "xfr: with --tsig-key, dig -y gets a signed transfer and signed answers; unsigned is refused",
  ),
  timeoutMs: 60_000,
  async fn() {
    await withServer(["--tsig-key", KEY], async (port) => {
      const signed = await dig(port, "-y", DIG_KEY, "example.com", "AXFR");
      assert.doesNotMatch(signed, /could not be validated|Transfer failed/, signed);
      assert.equal(records(signed).filter((line) => !line.includes(" TSIG ")).length, 6, signed);
      assert.match(await dig(port, "example.com", "AXFR"), /Transfer failed/);
      const query = await dig(port, "-y", DIG_KEY, "www.example.com", "A");
      assert.match(query, /status: NOERROR/);
      assert.match(query, /k1\.example\.\s+0\s+ANY\s+TSIG\s+hmac-sha256\./);
      assert.doesNotMatch(query, /could not be validated/);
      const unknown = await dig(port, "-y", "hmac-sha256:k9.example:c2VjcmV0", "www.example.com", "A");
      assert.match(unknown, /status: NOTAUTH/);
      assert.match(unknown, /TSIG.* BADKEY /);
      const wrong = await dig(port, "-y", "hmac-sha256:k1.example:d3JvbmdzZWNyZXQ=", "www.example.com", "A");
      assert.match(wrong, /status: NOTAUTH/);
      assert.match(wrong, /TSIG.* BADSIG /);
    });
  },
});

test({
  ...needsTools(["dig"], "xfr: a client outside --allow-transfer is refused, with EDE 18"),
  timeoutMs: 60_000,
  async fn() {
    await withServer(["--allow-transfer", "192.0.2.0/24"], async (port) => {
      assert.match(await dig(port, "example.com", "AXFR"), /Transfer failed/);
      const bytes = await exchange(port, queryBytes("example.com", RRType.AXFR), 2_000);
      assert.ok(bytes, "no answer over UDP");
      const refused = decodeMessage(bytes);
      assert.equal(refused.rcode, Rcode.REFUSED);
      assert.deepEqual(edeOf(refused.edns).map(({ code }) => code), [EdeCode.PROHIBITED]);
    });
  },
});

test({
  ...needsTools(
    ["dig"],
    "xfr: a signed AXFR of a zone over 64 KiB comes in several messages, each framed and signed right",
  ),
  timeoutMs: 60_000,
  async fn() {
    // 3,000 TXT records of about 70 octets: about 210 KB, so four messages of nearly 64 KiB each,
    // every one of which must leave room for its TSIG record (dig checks each one's MAC).
    const lines = Array.from({ length: 3000 }, (_, i) => `t${i} TXT "${"x".repeat(50)}"`);
    await withServer(["--tsig-key", KEY], async (port) => {
      const signed = await dig(port, "-y", DIG_KEY, "example.com", "AXFR");
      assert.doesNotMatch(
        signed,
        /could not be validated|Transfer failed|Couldn't verify/,
        signed.slice(-2000),
      );
      assert.equal(records(signed).filter((line) => !line.includes(" TSIG ")).length, 3006);
      const messages = /XFR size: \d+ records \(messages (\d+)/.exec(signed)?.[1];
      assert.ok(Number(messages) >= 4, `messages: ${messages}`);
    }, zoneText(1, lines.join("\n") + "\n"));
  },
});
