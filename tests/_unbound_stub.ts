/**
 * unbound as a validating resolver for interop tests: started in the foreground (`-d`) on a free
 * loopback port with a temporary configuration, reaching the zones under test through
 * `stub-zone`s on loopback and validating them under the trust anchors given, and stopped by PID.
 * @module
 */
import { startUnbound, type Unbound } from "./_unbound.ts";

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

/** A running unbound (its log, with `val-log-level: 2`, says why an answer was bogus). */
export type UnboundStub = Pick<Unbound, "port" | "log">;

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

/**
 * Runs `fn` against an unbound (see the module doc) started by {@link startUnbound}; always stops it
 * by PID and removes its folder.
 */
export async function withUnboundStub(
  options: UnboundStubOptions,
  fn: (unbound: UnboundStub) => Promise<void>,
): Promise<void> {
  const unbound = await startUnbound((work, port) => unboundConf(work, port, options));
  try {
    await fn(unbound);
  } finally {
    await unbound.stop();
  }
}
