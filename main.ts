/**
 * The dnsd command: the composition root. The only place that reads `Deno.args`, configures
 * logging, opens sockets and installs signal handlers.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import {
  ConfigFileError,
  type ExplainCommand,
  explainUrl,
  forwardingChanges,
  type LiveConfig,
  liveConfigs,
  loadConfigFileReader,
  loadTrustAnchors,
  missingPermission,
  namesConfigFile,
  parseCommand,
  type ServeCommand,
  USAGE,
  UsageError,
  VERSION,
} from "./lib/config/mod.ts";
import {
  type AdminHandlers,
  adminHandlers,
  CertificateError,
  formatStatistics,
  ListenError,
  type ReloadReport,
  type RunningServer,
  startServer,
} from "./lib/server/mod.ts";
import { logToStderr, QueryLogError, writeAll } from "./lib/observe/mod.ts";
import { publicRecursion } from "./lib/policy/mod.ts";
import { formatAddress } from "./lib/upstream/mod.ts";
import type { ResourceRecord } from "./lib/proto/mod.ts";
import mappings from "./mappings.ts";
import { fileURLToPath } from "node:url";
import { dirname } from "node:path";
import { createReloader, type Mappings, mappingsModule, type Reloader, watchFiles } from "./lib/zone/mod.ts";
import { ZoneTransfers } from "./lib/xfr/mod.ts";
import type { PublishedState, WorkerPool, WorkerScaling } from "./lib/workers/mod.ts";
import { nameKey } from "./lib/proto/mod.ts";
import {
  batchedUdpAvailable,
  type BindAddress,
  disarmInspectorSignal,
  type InspectorSignal,
  ListenAddressError,
  mergeDualStack,
  openResolverWarning,
  resolveListen,
  ReusePortUnavailable,
  ThreadCpuClock,
} from "./lib/net/mod.ts";

const MAPPINGS_URL = new URL("./mappings.ts", import.meta.url);

function fail(message: string, status: number): never {
  writeAll(Deno.stderr, `dnsd: ${message}\n`);
  Deno.exit(status);
}

type Configs = ReturnType<typeof liveConfigs>;

async function main(args: readonly string[]): Promise<void> {
  // The config file's parser and schema are loaded only for a run that names one (memory: issue 19).
  const configFile = namesConfigFile(args) ? await loadConfigFileReader() : undefined;
  let command;
  try {
    command = parseCommand(args, configFile ? { configFile } : {});
  } catch (error) {
    // With --check, a config file that does not parse is a failed check (1), not a usage error (2).
    if (error instanceof ConfigFileError && args.includes("--check")) fail(error.message, 1);
    if (error instanceof UsageError) fail(`${error.message} (see --help)`, 2);
    throw error;
  }
  if (command.kind === "help") return writeAll(Deno.stdout, USAGE);
  if (command.kind === "version") return writeAll(Deno.stdout, `dnsd ${VERSION}\n`);
  if (command.kind === "explain") return explainRemote(command);

  logToStderr(command.logLevel);
  const configs = liveConfigs({
    args,
    builtinMappings: mappingsSource(),
    ...(configFile ? { configFile } : {}),
  });
  if (command.check) return check(command, configs);
  // First, before anything slow: Deno's debugger would start on SIGUSR1 from 500 ms on.
  const usr1 = disarmInspectorSignal();
  const log = getLogger(["dnsd"]);
  log.info("DNS server is starting...");
  return configs.load(command).then((live) => {
    // At start-up a broken file or a failed assertion is fatal: one line each, exit status 1.
    if (live.errors.length > 0) fail(startErrors(live.errors), 1);
    return serve(live, configs, usr1);
  });
}

/**
 * `dnsd explain`: asks the running server's `GET /explain` and prints its JSON. A server that
 * cannot be reached, or an error it gives, is one line on stderr and exit status 1.
 */
async function explainRemote(command: ExplainCommand): Promise<void> {
  const url = explainUrl(command);
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    fail(`explain: cannot reach ${url}: ${reason} (is dnsd running with --metrics there?)`, 1);
  }
  const text = await response.text();
  if (!response.ok) {
    let reason = text.trim();
    try {
      reason = (JSON.parse(text) as { error?: string }).error ?? reason;
    } catch {
      // Not JSON: say what came.
    }
    fail(`explain: ${response.status} from ${url}: ${reason}`, 1);
  }
  writeAll(Deno.stdout, text.endsWith("\n") ? text : `${text}\n`);
}

/**
 * The explain and admin API handlers of a running server, to mount on its HTTP port (`--metrics`):
 * flush drops cached answers, reload runs the SIGHUP transaction and says what it changed, and the
 * token is read from the configuration in force (a reload can change it).
 */
export function adminApiOf(
  server: RunningServer,
  reloader: Reloader<LiveConfig>,
  inForce: () => Promise<void> = () => Promise.resolve(),
): AdminHandlers {
  return adminHandlers({
    token: () => reloader.state().command.adminToken,
    explain: (question) => server.explain(question),
    flush: (name) => server.flushCache(name),
    reload: async (): Promise<ReloadReport> => {
      const before = reloader.state();
      const outcome = await reloader.reload("POST /reload");
      if (!outcome.applied) return { reloaded: false, errors: outcome.errors };
      // Answered once every worker answers from the new data too.
      await inForce();
      return { reloaded: true, records: outcome.records, changed: changesBetween(before, reloader.state()) };
    },
  });
}

/** What a reload changed: the settings (by Command field) whose values differ, and the data and lists. */
function changesBetween(before: LiveConfig, after: LiveConfig): string[] {
  const changed: string[] = [];
  const fields = new Set([...Object.keys(before.command), ...Object.keys(after.command)]);
  for (const key of fields) {
    const was = Object.getOwnPropertyDescriptor(before.command, key)?.value;
    const now = Object.getOwnPropertyDescriptor(after.command, key)?.value;
    if (JSON.stringify(was) !== JSON.stringify(now)) changed.push(key);
  }
  if (before.data !== after.data) changed.push("local data");
  const [was, now] = [before.blocking, after.blocking];
  // A reload that finds the list files unchanged keeps their sets (lib/block/loader.ts).
  if (was.lists.blocked !== now.lists.blocked || was.lists.allowed !== now.lists.allowed) {
    changed.push("lists");
  }
  return changed;
}

/** The files the explain endpoint reads again for file:line, from the configuration in force. */
function explainFilesOf(state: () => LiveConfig) {
  return () => {
    const { command } = state();
    const mappings = command.mappings === "file"
      ? command.config?.path ?? null
      : command.mappings === "builtin" && !Deno.build.standalone
      ? fileURLToPath(MAPPINGS_URL)
      : null;
    return {
      zones: command.zones,
      hosts: command.hosts,
      mappings,
      blocklists: command.blocklists,
      allowlists: command.allowlists,
    };
  };
}

/** Start-up errors, one line each: a missing permission says which `--allow-*` flag. */
function startErrors(errors: readonly Error[]): string {
  return errors.map((error) => missingPermission(error.cause) ?? error.message).join("\ndnsd: ");
}

/** The trust anchors `--dnssec`/`--trust-anchor` name, or null; a bad file: one line, exit status 1. */
function trustAnchorsOf(command: ServeCommand): readonly ResourceRecord[] | null {
  if (!command.validation) return null;
  try {
    return loadTrustAnchors(command.validation);
  } catch (error) {
    if (!(error instanceof ConfigFileError)) throw error;
    fail(missingPermission(error.cause) ?? error.message, 1);
  }
}

/**
 * The PEM texts of the `--upstream-ca` files, read once at start; a file that cannot be read: one
 * line naming it, exit status 1 (a missing permission: the line saying which flag).
 */
function upstreamCaOf(command: ServeCommand): string[] {
  return [...systemRootsFor(command), ...givenCaOf(command)];
}

/** Where Linux distributions keep the system's CA bundle (Debian, Fedora, Alpine and others). */
const SYSTEM_CA_BUNDLES = [
  "/etc/ssl/certs/ca-certificates.crt",
  "/etc/pki/tls/certs/ca-bundle.crt",
  "/etc/ssl/cert.pem",
];

/**
 * The system's CA bundle, when an upstream is encrypted: Deno checks certificates against its own
 * bundled roots unless DENO_TLS_CA_STORE says otherwise, and an operator expects the system's (a CA
 * their organisation added there too). None when no bundle can be read.
 */
function systemRootsFor(command: ServeCommand): string[] {
  const upstreams = [...command.upstreams, ...command.forwardZones.flatMap((zone) => zone.upstreams)];
  if (!upstreams.some((upstream) => upstream.tls || upstream.https)) return [];
  for (const file of SYSTEM_CA_BUNDLES) {
    try {
      return [Deno.readTextFileSync(file)];
    } catch {
      // not this distribution's place
    }
  }
  return [];
}

/** The PEM texts of the `--upstream-ca` files (see {@link upstreamCaOf}). */
function givenCaOf(command: ServeCommand): string[] {
  return command.encrypted.upstreamCa.map((file) => {
    try {
      const text = Deno.readTextFileSync(file);
      if (!text.includes("-----BEGIN CERTIFICATE-----")) {
        fail(`--upstream-ca ${file}: no PEM certificate in it`, 1);
      }
      return text;
    } catch (error) {
      const reason = missingPermission(error) ?? (error instanceof Error ? error.message : String(error));
      fail(`--upstream-ca ${file}: cannot read it: ${reason}`, 1);
    }
  });
}

/** `--check`: loads everything the configuration names, runs its assertions, says what fails. */
async function check(command: ServeCommand, configs: Configs): Promise<void> {
  const live = await configs.load(command);
  if (live.errors.length > 0) fail(startErrors(live.errors), 1);
  // A --host name that /etc/hosts lacks would stop the start: it fails the check the same way.
  const addresses = bindAddresses(command.listen);
  const clash = command.metrics && addresses.find((address) => sharesPort(address, command.metrics!));
  if (clash) {
    fail(`--metrics ${formatAddress(command.metrics!)}: DNS over TCP listens on ${formatAddress(clash)}`, 1);
  }
  const queryLogDirectory = command.queryLog && command.queryLog !== "-" ? dirname(command.queryLog) : null;
  if (queryLogDirectory !== null && !isDirectory(queryLogDirectory)) {
    fail(`--query-log: cannot open ${command.queryLog}: no directory ${queryLogDirectory}`, 1);
  }
  trustAnchorsOf(command);
  upstreamCaOf(command);
  const assertions = command.config?.assertions.length ?? 0;
  writeAll(Deno.stdout, `dnsd: configuration OK: ${live.data.size} records, ${assertions} assertions hold\n`);
}

/** Whether two TCP listeners would take one port: the same port, and the same address or a wildcard. */
function sharesPort(a: BindAddress, b: BindAddress): boolean {
  const wildcard = (host: string) => host === "0.0.0.0" || host === "::" || host === "[::]";
  return a.port === b.port && (a.hostname === b.hostname || wildcard(a.hostname) || wildcard(b.hostname));
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) throw error;
    return false;
  }
}

/**
 * mappings.ts: compiled in (a static import) in the single binary; when running from source,
 * imported again on a reload once its text changed, so an edit takes effect without a restart
 * and a reload of other files costs no module (Deno never frees one).
 */
function mappingsSource(): () => Promise<Mappings> | Mappings {
  if (Deno.build.standalone) return () => mappings;
  return mappingsModule({ url: MAPPINGS_URL, initial: mappings, importer: (specifier) => import(specifier) });
}

/** The addresses to bind: names looked up in /etc/hosts, read only when a name needs it. */
function bindAddresses(listen: readonly BindAddress[]): BindAddress[] {
  const needsFile = listen.some((item) => /[a-z]/i.test(item.hostname) && !item.hostname.includes(":"));
  let hostsText: string | null = null;
  if (needsFile) {
    try {
      hostsText = Deno.readTextFileSync("/etc/hosts");
    } catch (error) {
      if (error instanceof Deno.errors.NotCapable) throw error;
      // No /etc/hosts: localhost still means loopback; any other name fails with one line.
    }
  }
  let addresses: BindAddress[];
  try {
    addresses = resolveListen(listen, hostsText);
  } catch (error) {
    if (error instanceof ListenAddressError) fail(error.message, 1);
    throw error;
  }
  const { addresses: merged, merged: ports } = mergeDualStack(addresses);
  if (ports.length === 0 || !ipv6WildcardTakesIpv4()) return addresses;
  for (const port of ports) {
    getLogger(["dnsd"]).info(
      "0.0.0.0:{port} is served by [::]:{port}, which takes IPv4 too (bindv6only = 0)",
      {
        port,
      },
    );
  }
  return merged;
}

/**
 * Whether this system's IPv6 wildcard sockets take IPv4 too: `net.ipv6.bindv6only` is 0, Linux's
 * default, also assumed when the setting cannot be read.
 */
function ipv6WildcardTakesIpv4(): boolean {
  const path = "/proc/sys/net/ipv6/bindv6only";
  // Never a permission prompt at start-up: a run that may not read it takes the default.
  if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") return true;
  try {
    return Deno.readTextFileSync(path).trim() === "0";
  } catch {
    return true;
  }
}

/**
 * SIGUSR1 logs the statistics line, as dnsmasq's does. Where dnsd could take SIGUSR1 from Deno,
 * it arrives as SIGALRM (lib/net/inspector_signal.ts); where it could not, Deno's debugger still
 * starts on it, and the log says so at start-up.
 */
function statisticsOnSignal(server: RunningServer, usr1: InspectorSignal): void {
  const log = getLogger(["dnsd"]);
  // Every worker's figures, summed.
  const statistics = () =>
    void server.statistics().then((figures) => log.info("{line}", { line: formatStatistics(figures) }));
  if (usr1 === "relayed") Deno.addSignalListener("SIGALRM", statistics);
  if (usr1 === "unavailable") {
    Deno.addSignalListener("SIGUSR1", statistics);
    log.warning(
      "SIGUSR1 would also start Deno's debugger on 127.0.0.1:9229, open to every local user: run " +
        "with --allow-ffi on Linux (glibc) so dnsd can turn that off, and do not send SIGUSR1 until then",
    );
  }
  if (usr1 === "ignored") log.info("SIGUSR1 is ignored here (no debugger, no statistics)");
}

async function serve(initial: LiveConfig, configs: Configs, usr1: InspectorSignal): Promise<void> {
  const command = initial.command;
  const log = getLogger(["dnsd"]);
  log.info("Loaded local data: {records} records", { records: initial.data.size });
  const anchors = trustAnchorsOf(command);
  const upstreamCa = upstreamCaOf(command);
  if (anchors) {
    log.info("Validating forwarded answers (DNSSEC) under {count} trust anchors", { count: anchors.length });
  }
  const usesMappingsFile = command.mappings === "builtin" && !Deno.build.standalone;
  const mappingsFile = usesMappingsFile ? [fileURLToPath(MAPPINGS_URL)] : [];
  // The callback runs only after a change has settled, by which time `reloader` exists. A zone
  // changed without a new serial waits for SIGHUP: it may be an edit still in progress.
  const watch = watchFiles(
    [...initial.files, ...mappingsFile],
    () => void reloader.reload("a file changed", { requireNewSerial: true }),
    command.reloadSettleMs,
  );
  let logLevel = command.logLevel;
  let running = command;
  const reloader: Reloader<LiveConfig> = createReloader(
    initial,
    (options): Promise<LiveConfig> => configs.reload(reloader.state().command, options),
    (files) => watch.update([...files, ...mappingsFile]),
    (next) => {
      if (next.command.logLevel !== logLevel) {
        logLevel = next.command.logLevel;
        logToStderr(logLevel);
      }
      transfers.zonesChanged();
      void publish();
      const forwarding = forwardingChanges(running, next.command);
      running = next.command;
      if (!forwarding) return;
      server.reconfigure(forwarding.settings);
      log.info("Forwarding changed ({changed}): new upstream sockets, the cache emptied", {
        changed: forwarding.changed.join(", "),
      });
    },
  );
  if (command.udpIo === "batched" && !batchedUdpAvailable()) {
    fail(
      "--udp-io batched needs Linux (glibc) on a 64-bit CPU and --allow-ffi (deno run --allow-ffi ...)",
      2,
    );
  }
  // auto: batched wherever it can work (Linux with glibc, FFI allowed), one op per datagram elsewhere.
  const udpIo = command.udpIo === "auto" ? (batchedUdpAvailable() ? "batched" : "deno") : command.udpIo;
  log.info("Reading UDP {how}", {
    how: udpIo === "batched" ? "in batches (recvmmsg)" : "one datagram per op (Deno.DatagramConn)",
  });
  // lib/workers is loaded only for a run that asks for more than one (idle memory: issue 19).
  const workersModule = command.workers === 1 ? null : await import("./lib/workers/mod.ts");
  let workers: { readonly count: number; readonly why?: string } =
    workersModule?.workersWanted(command.workers, udpIo) ?? { count: 1 };
  // Asked for by number, a worker short is a warning; one per CPU (the default) takes what can be had.
  if ("why" in workers) {
    log[command.workers === 0 ? "info" : "warning"]("Running one worker, not more: {why}", {
      why: workers.why,
    });
  }
  // Without --cookie-secret, every worker draws the same secrets from one seed (lib/workers/cookie_draws.ts).
  const cookieSeed = crypto.getRandomValues(new Uint8Array(16));
  let pool: WorkerPool | undefined;
  let scaling: WorkerScaling | undefined;
  let workersStopped: Promise<void> | undefined;
  // By name with --workers-busy: the main thread alone until it is busy, then more (lib/workers/scaling.ts).
  const byLoad = () => workers.count > 1 && command.workersSpread === "name" && command.workersBusy > 0;
  // The secondaries' copies are written there: a run that cannot write says so now, not per transfer.
  const secondaryDir = command.transfers.secondaryDir;
  if (secondaryDir && Deno.permissions.querySync({ name: "write", path: secondaryDir }).state !== "granted") {
    fail(
      `--secondary-dir ${secondaryDir} needs --allow-write (deno run --allow-write ...; see docs/deployment.md)`,
      1,
    );
  }
  // Zone transfers serve the zones as loaded now: files (through the reloader) and secondaries.
  const transfers = new ZoneTransfers(command.transfers, () => reloader.current());
  // What the workers answer from: sent again whenever it changes (a reload, a transfer, a zone expiring).
  const secondaryApexes = command.transfers.secondaries.map((secondary) => nameKey(secondary.zone));
  const published = (): PublishedState => ({
    command: reloader.state().command,
    data: transfers.localData(),
    blocking: reloader.state().blocking,
    notReady: secondaryApexes.filter((apex) => transfers.zoneNotReady?.(apex) ?? false),
  });
  const publish = () => pool?.publish(published()) ?? Promise.resolve();
  let server: RunningServer;
  // The explain and admin API handlers need the running server: mounted now, bound once it runs.
  const admin: { handlers?: AdminHandlers } = {};
  const mounted =
    (pick: (handlers: AdminHandlers) => AdminHandlers["explain"]) =>
    (request: Request, client: Deno.NetAddr) =>
      admin.handlers ? pick(admin.handlers)(request, client) : new Response("starting\n", { status: 503 });
  // The local stages read the settings in force now, so a reload changes them between two queries.
  const start = (shared: boolean) =>
    startServer({
      routes: {
        "GET /explain": mounted((handlers) => handlers.explain),
        "POST /cache/flush": mounted((handlers) => handlers.flush),
        "POST /reload": mounted((handlers) => handlers.reload),
      },
      ...command,
      dnssec: anchors ? { anchors } : null,
      upstreamCa,
      listen: bindAddresses(command.listen),
      udpIo,
      localData: () => transfers.localData(),
      handlers: { transfer: transfers.transfer, notify: (request) => transfers.notify(request) },
      tsig: { keyring: transfers.keyring, clock: transfers.unixClock },
      ...(transfers.zoneNotReady ? { zoneNotReady: transfers.zoneNotReady } : {}),
      blockPolicy: () => reloader.state().blocking,
      version: VERSION,
      local: () => reloader.state().command,
      explainFiles: explainFilesOf(reloader.state),
      ...(workersModule && shared
        ? {
          reusePort: true,
          // By load: no program until a worker takes queries (the kernel's choice among one socket).
          steerAcross: command.workersSpread === "client" || byLoad() ? 0 : workers.count,
          peers: {
            figures: () => pool?.figures() ?? Promise.resolve([]),
            flush: (name?: string) => pool?.flush(name) ?? Promise.resolve(0),
            loops: () => ({ active: scaling?.active ?? (pool ? pool.size + 1 : 1), max: workers.count }),
          },
          ...(command.cookies.secrets.length === 0
            ? { cookieRandom: workersModule.seededDraws(cookieSeed) }
            : {}),
        }
        : {}),
    });
  try {
    try {
      server = start(workers.count > 1);
    } catch (error) {
      // A kernel without SO_REUSEPORT (before Linux 3.9): one worker, and the log says why.
      if (!(error instanceof ListenError && error.cause instanceof ReusePortUnavailable)) throw error;
      log.warning("Running one worker, not more: {why}", { why: error.cause.message });
      workers = { count: 1 };
      server = start(false);
    }
  } catch (error) {
    watch.close();
    // An address or a query log that cannot be had: one line (a missing permission: the line saying which).
    const named = error instanceof ListenError || error instanceof QueryLogError ||
      error instanceof CertificateError;
    if (named && !(error.cause instanceof Deno.errors.NotCapable)) fail(error.message, 1);
    throw named ? error.cause : error;
  }
  if (workersModule && workers.count > 1) {
    try {
      pool = await workersModule.WorkerPool.start({
        count: workers.count - 1,
        setup: {
          listen: server.addresses.map(({ hostname, port }) => ({ hostname, port })),
          anchors,
          upstreamCa,
          version: VERSION,
          cookieSeed,
        },
        state: published(),
        relayed: {
          notify: (request) => transfers.notify(request),
          transfer: (request) => transfers.transfer(request, null),
        },
        onFailure: (worker, message) => fail(`worker ${worker} stopped: ${message}`, 1),
      }, byLoad() ? 0 : workers.count - 1);
    } catch (error) {
      server.close();
      if (error instanceof workersModule.WorkerStartError) fail(error.message, 1);
      throw error;
    }
    // A zone expiring or a transfer landing changes the data with no reload: looked at each second.
    const republish = setInterval(() => void publish(), 1000);
    void server.finished.then(() => clearInterval(republish));
    if (byLoad()) {
      const running = pool;
      const clock = new ThreadCpuClock();
      const loops = new workersModule.WorkerScaling({
        max: workers.count,
        policy: { ...workersModule.SCALE_POLICY, busy: command.workersBusy / 100 },
        mainCpu: () => clock.seconds(),
        workerCpu: (worker, timeoutMs) => running.cpuSeconds(worker, timeoutMs),
        running: () => running.size,
        addWorker: () => running.add(),
        steer: (count) => server.steer(count),
        now: () => performance.now(),
      });
      scaling = loops;
      const sampling = setInterval(() => void loops.sample(), 1000);
      void server.finished.then(() => {
        clearInterval(sampling);
        clock.close();
      });
      log.info("Answering UDP on 1 event loop, up to {count} when the busiest is {busy}% busy", {
        count: workers.count,
        busy: command.workersBusy,
      });
    } else {
      log.info("Answering UDP on {count} workers", { count: workers.count });
    }
  }
  admin.handlers = adminApiOf(server, reloader, publish);
  // A renewed certificate (certbot, an ACME client) is taken once its files have settled.
  const { certFile, keyFile } = command.encrypted;
  const served = server.tlsAddresses.length + server.httpsAddresses.length > 0;
  const certificateWatch = served && certFile !== null && keyFile !== null
    ? watchFiles([certFile, keyFile], () => void server.reloadCertificates(), command.reloadSettleMs)
    : null;
  // SIGHUP also reopens the query log (logrotate moved the file) and reads the certificate again.
  const reload = () => {
    void reloader.reload("SIGHUP");
    void server.reopenLogs();
    void pool?.reopenLogs();
    if (served) void server.reloadCertificates();
  };
  // Graceful: stop accepting, let queries in progress finish (bounded by the upstream timeout), close.
  const stop = () => {
    watch.close();
    certificateWatch?.close();
    void transfers.close();
    workersStopped ??= pool?.stop(command.timeoutMs);
    void server.stop(command.timeoutMs);
  };
  Deno.addSignalListener("SIGHUP", reload);
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  statisticsOnSignal(server, usr1);
  // The zones as first loaded: NOTIFY goes out for each, as NSD and Knot do at start. Then the
  // secondary zones: their copies on disk served at once, and refreshed from their primaries.
  transfers.zonesChanged();
  transfers.start().catch((error) => log.error("Cannot start the secondary zones: {error}", { error }));
  // Logged only once a signal would stop the server cleanly: supervisors act on this line (the first).
  for (const address of server.addresses) {
    log.info("DNS server is running on {address}", { address: formatAddress(address) });
  }
  for (const address of server.tlsAddresses) {
    log.info("DNS over TLS on {address}", { address: formatAddress(address) });
  }
  for (const address of server.httpsAddresses) {
    log.info("DNS over HTTPS on https://{address}/dns-query", { address: formatAddress(address) });
  }
  if (server.metricsAddress) {
    log.info("Metrics on http://{address}/metrics", { address: formatAddress(server.metricsAddress) });
  }
  const exposed = openResolverWarning(server.addresses, publicRecursion(command.recursion));
  if (exposed) log.warning("{warning}", { warning: exposed });
  return server.finished.then(() => workersStopped).then(() => {
    log.info("DNS server stopped.");
    Deno.exit(0);
  });
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (error) {
    // A run without a permission it needs: one line saying which flag, not a stack trace.
    const missing = missingPermission(error);
    if (missing) fail(missing, 1);
    throw error;
  }
}
