/**
 * unbound as a validating resolver for interop tests: started in the foreground (`-d`) on a free
 * loopback port with a temporary configuration, reaching the zones under test through
 * `stub-zone`s on loopback and validating them under the trust anchors given, and stopped by PID.
 * @module
 */
import { encodeMessage } from "../lib/proto/codec.ts";
import { query } from "../lib/proto/message.ts";
import { RRClass, RRType } from "../lib/proto/types.ts";
import { stopProcess } from "./_nsd.ts";
import { findTool } from "./_tools.ts";
import { exchange, freeUdpPort } from "./_udp_client.ts";

const START_TIMEOUT_MS = 10_000;

/** A zone unbound reaches at a loopback server instead of through the root. */
export interface StubZone {
  readonly name: string;
  /** The server's port on 127.0.0.1. */
  readonly port: number;
}

/** What {@link withUnboundStub} configures. */
export interface UnboundStubOptions {
  readonly stubs: readonly StubZone[];
  /** DS or DNSKEY records in zone-file presentation (`trust-anchor:` lines). */
  readonly trustAnchors: readonly string[];
}

/** A running unbound. */
export interface UnboundStub {
  readonly port: number;
  /** unbound's log so far: with `val-log-level: 2` it says why an answer was bogus. */
  log(): Promise<string>;
}

function unboundConf(work: string, port: number, options: UnboundStubOptions): string {
  const anchors = options.trustAnchors.map((anchor) =>
    `    trust-anchor: "${anchor.replace(/\s+/g, " ")}"\n`
  );
  const stubs = options.stubs.map(({ name, port: stubPort }) =>
    `stub-zone:\n    name: "${name}"\n    stub-addr: 127.0.0.1@${stubPort}\n`
  );
  return `server:
    interface: 127.0.0.1
    port: ${port}
    do-ip6: no
    chroot: ""
    username: ""
    directory: "${work}"
    pidfile: "${work}/unbound.pid"
    logfile: "${work}/unbound.log"
    use-syslog: no
    verbosity: 1
    val-log-level: 2
    num-threads: 1
    access-control: 127.0.0.0/8 allow
    # The stubs are on loopback, which unbound refuses to ask by default.
    do-not-query-localhost: no
    module-config: "validator iterator"
    qname-minimisation: no
    # Every query reaches the server under test: no answers synthesised from cached NSEC(3) records.
    aggressive-nsec: no
    prefetch: no
${anchors.join("")}remote-control:
    control-enable: no
${stubs.join("")}`;
}

/** `version.server` CH TXT, which unbound answers itself once it is up. */
function probe(): Uint8Array {
  return encodeMessage(query({ name: "version.server", type: RRType.TXT, class: RRClass.CH }, { id: 4242 }));
}

/**
 * Runs `fn` against an unbound (see the module doc) whose configuration and log live in a fresh
 * temporary folder; always stops it by PID and removes that folder. A port taken between picking
 * and binding is retried with another, twice.
 */
export async function withUnboundStub(
  options: UnboundStubOptions,
  fn: (unbound: UnboundStub) => Promise<void>,
): Promise<void> {
  const work = await Deno.makeTempDir({ prefix: "dnsd_unbound_stub_" });
  try {
    let lastError = "";
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = freeUdpPort();
      const conf = `${work}/unbound.conf`;
      await Deno.writeTextFile(conf, unboundConf(work, port, options));
      const child = new Deno.Command(findTool("unbound") ?? "/usr/sbin/unbound", {
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
      try {
        const deadline = Date.now() + START_TIMEOUT_MS;
        let ready = false;
        while (!exited && !ready && Date.now() < deadline) {
          ready = (await exchange(port, probe(), 200)) !== null;
        }
        if (ready) {
          await fn({ port, log: () => Deno.readTextFile(`${work}/unbound.log`).catch(() => "(no log)") });
          return;
        }
        const log = await Deno.readTextFile(`${work}/unbound.log`).catch(() => "(no log)");
        lastError = `unbound on port ${port} ${
          exited ? `exited (${(await status).code})` : "never answered"
        }:\n${log}`;
      } finally {
        await stopProcess(child, () => exited);
      }
    }
    throw new Error(`Cannot start unbound: ${lastError}`);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}
