/**
 * dnsdist for the scale-out test: started in the foreground (`--supervised`, no console, no web
 * server, no security polling) on a free loopback port with a temporary Lua configuration, in
 * front of backends on 127.0.0.1, and stopped by PID. Its log (stdout) is read line by line, so a
 * test can wait for a backend to be marked up or down. Every wait is bounded.
 * @module
 */
import { RRType } from "../lib/proto/types.ts";
import { Lines } from "./_dnsd_process.ts";
import { stopProcess } from "./_nsd.ts";
import { exchange, freeUdpPort, queryBytes } from "./_udp_client.ts";
import { findTool } from "./_tools.ts";

const DNSDIST_START_TIMEOUT_MS = 10_000;
const PROBE_WAIT_MS = 200;

/** A backend dnsdist sends queries to: its name in dnsdist's log, and its port on 127.0.0.1. */
export interface DnsdistBackend {
  readonly name: string;
  readonly port: number;
}

/** How dnsdist checks its backends and spreads queries over them. */
export interface DnsdistOptions {
  /**
   * The name each health check asks (type A), with a trailing dot. It must be one the backends
   * answer themselves: dnsdist's default, `a.root-servers.net.`, would be forwarded upstream.
   */
  readonly checkName: string;
  /** dnsdist's load-balancing policy (default `roundrobin`). */
  readonly policy?: "roundrobin" | "leastOutstanding" | "firstAvailable";
  /** Serve DNS over HTTPS too (`addDOHLocal`) on 127.0.0.1:`port`, at `/dns-query`. */
  readonly doh?: { readonly port: number; readonly certFile: string; readonly keyFile: string };
}

/** A running dnsdist. */
export interface Dnsdist {
  /** The port it serves on 127.0.0.1, UDP and TCP. */
  readonly port: number;
  /** Its log, read as needed. */
  readonly log: Lines;
  /** Resolves once dnsdist logs that `backend` is marked `state`; fails after `ms`. */
  waitForState(backend: string, state: "up" | "down", ms: number): Promise<string>;
  /** SIGTERM, then SIGKILL if it lingers; waits for the exit and stops reading its log. */
  stop(): Promise<void>;
}

/**
 * The Lua configuration for dnsdist on 127.0.0.1:`port` in front of `backends`: a health check
 * every second on `checkName` (which must resolve), one failure marks a backend down, and no
 * packet cache, so every query reaches a backend.
 */
export function dnsdistConf(
  port: number,
  backends: readonly DnsdistBackend[],
  options: DnsdistOptions,
): string {
  const servers = backends.map(({ name, port }) =>
    `newServer({address="127.0.0.1:${port}", name="${name}", checkName="${options.checkName}", ` +
    `checkType="A", mustResolve=true, checkInterval=1, checkTimeout=500, maxCheckFailures=1, rise=1})\n`
  );
  const doh = options.doh
    ? `addDOHLocal("127.0.0.1:${options.doh.port}", "${options.doh.certFile}", "${options.doh.keyFile}", "/dns-query")\n`
    : "";
  return `-- written by tests/_dnsdist.ts
setSecurityPollSuffix("") -- no security-status lookups through the system resolver
setLocal("127.0.0.1:${port}")
${doh}setACL({"127.0.0.0/8"})
${servers.join("")}setServerPolicy(${options.policy ?? "roundrobin"})
`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Starts dnsdist in the foreground on a free loopback port in front of `backends`, its
 * configuration in `work`; resolves once it answers a query for the health-check name.
 */
export async function startDnsdist(
  work: string,
  backends: readonly DnsdistBackend[],
  options: DnsdistOptions,
): Promise<Dnsdist> {
  const path = findTool("dnsdist");
  if (!path) throw new Error("dnsdist is not installed");
  const probe = queryBytes(options.checkName, RRType.A);
  let lastError = "";
  // A port free for UDP a moment ago may be taken (for TCP too) by now: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = freeUdpPort();
    const conf = `${work}/dnsdist.conf`;
    await Deno.writeTextFile(conf, dnsdistConf(port, backends, options));
    const child = new Deno.Command(path, {
      args: ["--supervised", "--disable-syslog", "-C", conf],
      cwd: work,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const log = new Lines(child.stdout);
    // Read stderr whole in the background: it only carries a fatal error, and must never fill up.
    const errors = new Response(child.stderr).text();
    let exited = false;
    const status = child.status.then((s) => {
      exited = true;
      return s;
    });
    const stop = async () => {
      try {
        await stopProcess(child, () => exited);
      } finally {
        await log.cancel();
        await errors.catch(() => "");
      }
    };
    const deadline = Date.now() + DNSDIST_START_TIMEOUT_MS;
    let ready = false;
    while (!exited && !ready && Date.now() < deadline) {
      ready = (await exchange(port, probe, PROBE_WAIT_MS)) !== null;
    }
    if (ready) {
      return {
        port,
        log,
        waitForState: (backend, state, ms) =>
          log.waitFor(new RegExp(`Marking downstream ${escapeRegExp(backend)} \\(.*\\) as '${state}'`), ms),
        stop,
      };
    }
    if (exited) await log.drain(PROBE_WAIT_MS * 5).catch(() => {}); // its last words
    await stop();
    lastError = `dnsdist on port ${port} ${exited ? `exited (${(await status).code})` : "never answered"}:\n${
      log.seen.join("\n")
    }\n${await errors.catch(() => "")}`;
    if (!/address already in use/i.test(lastError)) break;
  }
  throw new Error(`Cannot start dnsdist: ${lastError}`);
}
