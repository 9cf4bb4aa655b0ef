/**
 * A configuration in force: the settings (command line over config file), the local data they
 * name, and the check of the file's assertions against both. Made the same way at start-up, on
 * every reload (SIGHUP, or the config file or a data file changed) and by `--check`; a reload
 * that fails anywhere is not used (lib/zone/reloader.ts keeps the running one).
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { DataError } from "../proto/mod.ts";
import { type BlockPolicy, listLoader } from "../block/mod.ts";
import {
  buildResolver,
  checkAssertions,
  type ForwardingSettings,
  type ServerCounters,
  wouldForward,
} from "../server/mod.ts";
import { forwardRouter, upstreamName } from "../upstream/mod.ts";
import { dataLoader, type LoadedData, type Mappings, type ReloadOptions } from "../zone/mod.ts";
import { type Command, parseCommand, VERSION } from "./cli.ts";
import type { ConfigFileReader } from "./file.ts";

const log = getLogger(["dnsd", "config"]);

/** The command that serves. */
export type ServeCommand = Extract<Command, { kind: "serve" }>;

/** A configuration with its data: what the server reads while it is in force. */
export interface LiveConfig extends LoadedData {
  /** The settings. */
  readonly command: ServeCommand;
  /** The blocklists and allowlists, and how blocked names are answered. */
  readonly blocking: BlockPolicy;
}

/** Where a configuration's parts come from. */
export interface LiveConfigOptions {
  /** The command line, parsed again on each reload (the config file it names is read again). */
  readonly args: readonly string[];
  /** mappings.ts, when the configuration uses it. */
  readonly builtinMappings: () => Promise<Mappings> | Mappings;
  /** Reads the config file (default `Deno.readTextFileSync`). */
  readonly readConfig?: (path: string) => string;
  /** Parses the config file's text: needed when `args` name one (see `loadConfigFileReader`). */
  readonly configFile?: ConfigFileReader;
  /** Reads a data file (default `Deno.readTextFile`). */
  readonly readData?: (path: string) => Promise<string>;
}

/** The settings a running server keeps until it restarts, by the Command field that holds each. */
const RESTART_FIELDS = [
  ["host", "host"],
  ["port", "port"],
  ["listen", "host"],
  ["tcp", "tcp-*"],
  ["cache", "cache settings"],
  ["udpIo", "udp-io"],
  ["udpCoalesceUs", "udp-coalesce"],
  ["workers", "workers"],
  ["workersSpread", "workers-spread"],
  ["workersBusy", "workers-busy"],
  ["reloadSettleMs", "reload-settle"],
  ["rateLimit", "rate-limit-*"],
  ["cookies", "cookie-secret, require-cookies"],
  ["validation", "dnssec, trust-anchor"],
  ["transfers", "allow-transfer, notify, tsig-key, secondary, secondary-dir, journal-size"],
  ["encrypted", "tls-port, https-port, tls-cert, tls-key, upstream-ca"],
] as const satisfies readonly (readonly [keyof ServeCommand, string])[];

/** The settings that say where and how queries are forwarded, by the Command field that holds each. */
const FORWARDING_FIELDS = [
  ["upstreams", "upstream"],
  ["forwardZones", "forward-zone"],
  ["timeoutMs", "timeout"],
  ["maxOutstanding", "max-outstanding"],
  ["strategy", "upstream-strategy"],
  ["caseRandomization", "0x20"],
] as const satisfies readonly (readonly [keyof ServeCommand, string])[];

/**
 * The forwarding settings of `next` when any differs from `running`'s, with the names of those
 * that do (for the log); null when forwarding stays as it is. A running server takes them with
 * `RunningServer.reconfigure()`.
 */
export function forwardingChanges(
  running: ServeCommand,
  next: ServeCommand,
): { readonly settings: ForwardingSettings; readonly changed: readonly string[] } | null {
  const changed = FORWARDING_FIELDS.filter(([field]) =>
    JSON.stringify(running[field]) !== JSON.stringify(next[field])
  )
    .map(([, name]) => name);
  if (changed.length === 0) return null;
  return {
    settings: {
      upstreams: next.upstreams,
      forwardZones: next.forwardZones,
      timeoutMs: next.timeoutMs,
      maxOutstanding: next.maxOutstanding,
      strategy: next.strategy,
      caseRandomization: next.caseRandomization,
    },
    changed,
  };
}

/**
 * `next` with the settings a running server cannot change put back to `running`'s, each change
 * logged once as needing a restart (listen addresses, ports, sockets and sizes made at start-up).
 */
export function keepRestartSettings(running: ServeCommand, next: ServeCommand): ServeCommand {
  const kept: Record<string, unknown> = { ...next };
  const changed: string[] = [];
  for (const [field, name] of RESTART_FIELDS) {
    if (JSON.stringify(running[field]) === JSON.stringify(next[field])) continue;
    changed.push(name);
    kept[field] = running[field];
  }
  if (changed.length > 0) {
    log.warning("Changed settings take effect after a restart, not on reload: {names}", {
      names: [...new Set(changed)].join(", "),
    });
  }
  return kept as ServeCommand;
}

/** The upstreams a question goes to, as `HOST:PORT`, in the order tried: its forward zone's, or the defaults. */
function routeOf(command: ServeCommand): (name: string) => readonly string[] {
  const router = forwardRouter(command.upstreams, command.forwardZones);
  return (name) => router.route(name).upstreams.map(upstreamName);
}

/** The file's `[[assert]]`s, each asked of a resolver over `data` that forwards nothing. */
async function assertionErrors(
  command: ServeCommand,
  data: LoadedData,
  blocking: BlockPolicy,
): Promise<Error[]> {
  const assertions = command.config?.assertions ?? [];
  if (assertions.length === 0) return [];
  const counters = {} as ServerCounters; // never read: nothing is forwarded
  const { resolve } = buildResolver(
    {
      host: command.host,
      port: command.port,
      upstreams: command.upstreams,
      timeoutMs: 1,
      localData: () => data.data,
      blockPolicy: () => blocking,
      forwardZones: command.forwardZones,
      version: VERSION,
      local: () => command,
    },
    counters,
    { forwarder: wouldForward(routeOf(command)) },
  );
  const failures = await checkAssertions(
    assertions.map((assertion) => ({
      name: assertion.name,
      type: assertion.type,
      expect: assertion.expect,
      ...(assertion.upstream !== undefined ? { upstream: assertion.upstream } : {}),
      where: `${command.config!.path}:${assertion.line}`,
    })),
    resolve,
  );
  return failures.map((failure) => new DataError(failure));
}

/** The config file's `[mappings]`, as mappings.ts would give them (the data loader checks each). */
function fileMappings(command: ServeCommand): Mappings {
  return (command.config?.mappings ?? {}) as Mappings;
}

/**
 * Makes the loader of configurations. `load(command)` loads the data a parsed command names and
 * checks its assertions; `reload()` parses the command line and config file again first. Errors
 * come back in `errors` (a reload keeps the running configuration when there are any).
 */
export function liveConfigs(options: LiveConfigOptions): {
  load(command: ServeCommand, reloadOptions?: ReloadOptions): Promise<LiveConfig>;
  reload(running: ServeCommand, reloadOptions?: ReloadOptions): Promise<LiveConfig>;
} {
  // One data loader per set of sources, kept while they stay the same: it remembers each zone's
  // serial, which the file watcher's reloads go by.
  let loaderKey = "";
  let loader: ReturnType<typeof dataLoader> | null = null;
  // Keeps the last lists it parsed: a reload that finds their files unchanged parses nothing.
  const loadLists = listLoader(options.readData ? { read: options.readData } : {});

  function loaderFor(command: ServeCommand): ReturnType<typeof dataLoader> {
    const mappingsKey = command.mappings === "file"
      ? JSON.stringify(command.config?.mappings)
      : command.mappings;
    const key = JSON.stringify([command.zones, command.hosts, mappingsKey]);
    if (loader && key === loaderKey) return loader;
    loaderKey = key;
    const mappings = command.mappings === "builtin"
      ? options.builtinMappings
      : command.mappings === "file"
      ? () => fileMappings(command)
      : () => ({});
    loader = dataLoader({
      zones: command.zones,
      hosts: command.hosts,
      mappings,
      ...(options.readData ? { read: options.readData } : {}),
      // With workers, zones are packed in shared memory at once: sharing them then copies nothing.
      sharedMemory: command.workers !== 1,
    });
    return loader;
  }

  async function load(command: ServeCommand, reloadOptions: ReloadOptions = {}): Promise<LiveConfig> {
    const data = await loaderFor(command)(false, reloadOptions);
    const lists = await loadLists({
      blocklists: command.blocklists,
      allowlists: command.allowlists,
      mode: command.blockMode,
    });
    const blocking = lists.policy;
    const configFile = command.config ? [command.config.path] : [];
    const files = [...data.files, ...lists.files, ...configFile];
    if (data.errors.length > 0 || lists.errors.length > 0) {
      // A [mappings] entry's error names the entry; say which file it is in.
      const where = command.mappings === "file" ? `${command.config?.path}: [mappings]: ` : "";
      const errors = data.errors.map((error) =>
        where && error.message.startsWith("Cannot load mapping")
          ? new DataError(where + error.message)
          : error
      );
      return { ...data, files, errors: [...errors, ...lists.errors], command, blocking };
    }
    return { ...data, files, errors: await assertionErrors(command, data, blocking), command, blocking };
  }

  return {
    load,
    reload(running, reloadOptions = {}) {
      let parsed: Command;
      try {
        parsed = parseCommand(options.args, {
          ...(options.readConfig ? { readFile: options.readConfig } : {}),
          ...(options.configFile ? { configFile: options.configFile } : {}),
        });
      } catch (error) {
        // A config file that does not parse: its one line (FILE:LINE: KEY: ...), and nothing is loaded.
        return Promise.reject(error);
      }
      if (parsed.kind !== "serve") return Promise.reject(new Error(`unexpected ${parsed.kind} on reload`));
      return load(keepRestartSettings(running, parsed), reloadOptions);
    },
  };
}
