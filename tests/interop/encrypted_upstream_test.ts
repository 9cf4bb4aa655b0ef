/**
 * dnsd (main.ts) forwarding to real encrypted servers on loopback, trusting a test CA through
 * `--upstream-ca`: unbound serving DNS over TLS, and dnsdist's DoH frontend in front of that
 * unbound's plain port. unbound answers its own `local-data`, so nothing leaves the machine. Also
 * a certificate for another name (failover, or SERVFAIL), an upstream closing idle connections,
 * and a forward zone mixing an encrypted upstream with a plain one.
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { decodeMessage } from "../../lib/proto/codec.ts";
import { Rcode, RRType } from "../../lib/proto/types.ts";
import { makeCerts, type TestCerts } from "../_certs.ts";
import { type RunningDnsd, startDnsd } from "../_dnsd_process.ts";
import { type Dnsdist, startDnsdist } from "../_dnsdist.ts";
import { needsTools } from "../_nsd.ts";
import { dotUnboundConf, startUnbound, type Unbound } from "../_unbound.ts";
import { exchange, freeUdpPort, queryBytes } from "../_udp_client.ts";

const REPLY_MS = 5_000;
/** unbound closes a TLS connection quiet for this long: dnsd must connect again. */
const IDLE_MS = 300;

const LOCAL_DATA = [
  "www.enc.test. 300 IN A 192.0.2.80",
  "other.enc.test. 300 IN A 192.0.2.81",
  "www.plain.test. 300 IN A 192.0.2.90",
];

/** Asks dnsd for `name` A over UDP; the rcode and the addresses answered. */
async function ask(dnsd: RunningDnsd, name: string): Promise<{ rcode: number; addresses: string[] }> {
  const reply = await exchange(dnsd.port, queryBytes(name, RRType.A), REPLY_MS);
  assert.ok(reply, `no reply from dnsd for ${name}:\n${dnsd.stderr.seen.join("\n")}`);
  const message = decodeMessage(reply);
  return {
    rcode: message.rcode,
    addresses: message.answers.flatMap((record) => record.data.type === "A" ? [record.data.address] : []),
  };
}

/** Asks dnsd for `name` A and expects NOERROR with `address` alone. */
async function expectAddress(dnsd: RunningDnsd, name: string, address: string): Promise<void> {
  assert.deepEqual(await ask(dnsd, name), { rcode: Rcode.NOERROR, addresses: [address] }, name);
}

/** The servers every test here talks to, started once per test and always stopped. */
interface Servers {
  readonly certs: TestCerts;
  readonly unbound: Unbound;
  readonly tlsPort: number;
  readonly dnsdist: Dnsdist;
  readonly dohPort: number;
}

async function withServers(fn: (servers: Servers) => Promise<void>): Promise<void> {
  const certs = await makeCerts(["dns.test", "127.0.0.1"]);
  const tlsPort = freeUdpPort();
  const dohPort = freeUdpPort();
  let unbound: Unbound | undefined;
  let dnsdist: Dnsdist | undefined;
  try {
    unbound = await startUnbound((work, port) =>
      dotUnboundConf(work, port, {
        tlsPort,
        certFile: certs.certFile,
        keyFile: certs.keyFile,
        localData: LOCAL_DATA,
        idleMs: IDLE_MS,
      })
    );
    dnsdist = await startDnsdist(certs.dir, [{ name: "unbound", port: unbound.port }], {
      checkName: "www.enc.test.",
      doh: { port: dohPort, certFile: certs.certFile, keyFile: certs.keyFile },
    });
    await fn({ certs, unbound, tlsPort, dnsdist, dohPort });
  } finally {
    await dnsdist?.stop();
    await unbound?.stop();
    await certs.remove();
  }
}

/** Runs dnsd with `args` (no cache, so every query goes upstream) until `fn` ends. */
async function withDnsd(args: readonly string[], fn: (dnsd: RunningDnsd) => Promise<void>): Promise<void> {
  const dnsd = await startDnsd((port) => ["--port", String(port), "--cache-size", "0", ...args]);
  try {
    await fn(dnsd);
  } finally {
    await dnsd.stop();
  }
}

const TOOLS = ["openssl", "unbound", "dnsdist"];

test({
  ...needsTools(TOOLS, "dnsd forwards over DoT to unbound and over DoH to dnsdist, through idle closes"),
  timeoutMs: 90_000,
  fn: () =>
    withServers(async ({ certs, tlsPort, dohPort }) => {
      const upstreams = [
        `tls://127.0.0.1:${tlsPort}#dns.test`,
        `https://dns.test:${dohPort}/dns-query#127.0.0.1`,
      ];
      for (const upstream of upstreams) {
        await withDnsd(["--upstream", upstream, "--upstream-ca", certs.caFile], async (dnsd) => {
          await expectAddress(dnsd, "www.enc.test", "192.0.2.80");
          // Quiet for longer than unbound keeps a TLS connection: the next query needs a new one.
          await new Promise((resolve) => setTimeout(resolve, IDLE_MS * 3));
          await expectAddress(dnsd, "other.enc.test", "192.0.2.81");
          const many = await Promise.all(
            Array.from({ length: 20 }, (_, i) => ask(dnsd, i % 2 ? "www.enc.test" : "other.enc.test")),
          );
          assert.ok(many.every((answer) => answer.rcode === Rcode.NOERROR && answer.addresses.length === 1));
        });
      }
    }),
});

test({
  ...needsTools(TOOLS, "dnsd refuses an upstream whose certificate is for another name"),
  timeoutMs: 90_000,
  fn: () =>
    withServers(async ({ certs, unbound, tlsPort, dohPort }) => {
      const wrong = [
        `tls://127.0.0.1:${tlsPort}#wrong.test`,
        `https://wrong.test:${dohPort}/dns-query#127.0.0.1`,
      ];
      for (const upstream of wrong) {
        // Alone: SERVFAIL.
        await withDnsd(["--upstream", upstream, "--upstream-ca", certs.caFile], async (dnsd) => {
          assert.equal((await ask(dnsd, "www.enc.test")).rcode, Rcode.SERVFAIL, upstream);
        });
        // Before a plain upstream: the plain one answers.
        const args = [
          "--upstream",
          upstream,
          "--upstream",
          `127.0.0.1:${unbound.port}`,
          "--upstream-ca",
          certs.caFile,
        ];
        await withDnsd(args, async (dnsd) => {
          await expectAddress(dnsd, "www.enc.test", "192.0.2.80");
        });
      }
      // Without the test CA the right name is not enough: the certificate must chain to a trusted root.
      await withDnsd(["--upstream", `tls://127.0.0.1:${tlsPort}#dns.test`], async (dnsd) => {
        assert.equal((await ask(dnsd, "www.enc.test")).rcode, Rcode.SERVFAIL);
      });
    }),
});

test({
  ...needsTools(TOOLS, "dnsd mixes encrypted and plain upstreams in forward zones"),
  timeoutMs: 90_000,
  fn: () =>
    withServers(async ({ certs, unbound, tlsPort, dohPort }) => {
      const args = [
        "--upstream",
        `https://dns.test:${dohPort}/dns-query#127.0.0.1`,
        "--forward-zone",
        `enc.test=tls://127.0.0.1:${tlsPort}#dns.test,127.0.0.1:${unbound.port}`,
        "--forward-zone",
        `plain.test=127.0.0.1:${unbound.port}`,
        "--upstream-ca",
        certs.caFile,
      ];
      await withDnsd(args, async (dnsd) => {
        await expectAddress(dnsd, "www.enc.test", "192.0.2.80");
        await expectAddress(dnsd, "www.plain.test", "192.0.2.90");
      });
    }),
});

test({
  ...needsTools(["openssl"], "dnsd will not start with an --upstream-ca it cannot read"),
  timeoutMs: 30_000,
  async fn() {
    const { runDnsd } = await import("../_dnsd_process.ts");
    const { code, stderr } = await runDnsd(["--upstream-ca", "/nonexistent/ca.pem", "--port", "0"]);
    assert.equal(code, 1);
    assert.match(stderr.trim(), /^dnsd: --upstream-ca \/nonexistent\/ca\.pem: cannot read it: /m);
  },
});
