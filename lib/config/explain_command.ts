/**
 * `dnsd explain NAME [TYPE] [--metrics HOST:PORT] [--client IP] [--do]`: the command line of the
 * subcommand that asks a running server's `GET /explain`. Pure: arguments in, a command or a
 * usage error out. Its flags are its own (not settings of a server), so they are not in OPTIONS.
 * @module
 */
import { parseArgs } from "node:util";
import { checkName, parseIPv4, parseIPv6, typeFromText } from "../proto/mod.ts";
import { UsageError } from "./errors.ts";
import { type ListenAddress, parseListen } from "./cli.ts";

/** Where `dnsd explain` looks for the server's HTTP port when `--metrics` is not given. */
export const DEFAULT_METRICS = "127.0.0.1:9153";

/** A parsed `dnsd explain`. */
export interface ExplainCommand {
  /** The subcommand. */
  readonly kind: "explain";
  /** The name to explain. */
  readonly name: string;
  /** The type's mnemonic as given (A by default). */
  readonly type: string;
  /** The server's HTTP address (`--metrics`). */
  readonly metrics: ListenAddress;
  /** `--client IP`: the client to explain for; null: the server's default (loopback). */
  readonly client: string | null;
  /** `--do`: with the DO bit. */
  readonly dnssecOk: boolean;
}

/**
 * Parses the arguments after `explain`.
 * @throws {UsageError} for a missing or bad name, type, address or flag
 * @example parseExplain(["www.example.com", "AAAA"]) // { kind: "explain", name: "www.example.com", type: "AAAA", ... }
 */
export function parseExplain(args: readonly string[]): ExplainCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: true,
      options: { metrics: { type: "string" }, client: { type: "string" }, do: { type: "boolean" } },
    });
  } catch (error) {
    throw new UsageError(`explain: ${error instanceof Error ? error.message.split("\n")[0] : error}`);
  }
  const [name, type = "A", ...rest] = parsed.positionals;
  if (name === undefined || name === "") {
    throw new UsageError("explain: a NAME is needed: dnsd explain NAME [TYPE]");
  }
  if (rest.length > 0) throw new UsageError(`explain: unexpected "${rest[0]}" after NAME and TYPE`);
  try {
    checkName(name);
  } catch (error) {
    throw new UsageError(
      `explain: "${name}" is not a domain name (${error instanceof Error ? error.message : error})`,
    );
  }
  if (typeFromText(type) === null) throw new UsageError(`explain: "${type}" is not a record type`);
  const client = parsed.values.client ?? null;
  if (client !== null && !parseIPv4(client) && !parseIPv6(client)) {
    throw new UsageError(`explain: --client "${client}" is not an IP address`);
  }
  const metricsText = parsed.values.metrics ?? DEFAULT_METRICS;
  const metrics = parseListen(metricsText, 9153, `explain --metrics ${metricsText}`);
  return { kind: "explain", name, type, metrics, client, dnssecOk: parsed.values.do === true };
}

/** The URL of the server's `GET /explain` for `command`. */
export function explainUrl(command: ExplainCommand): string {
  const host = command.metrics.hostname.includes(":")
    ? `[${command.metrics.hostname}]`
    : command.metrics.hostname;
  const params = new URLSearchParams({ name: command.name, type: command.type });
  if (command.client !== null) params.set("client", command.client);
  if (command.dnssecOk) params.set("do", "1");
  return `http://${host}:${command.metrics.port}/explain?${params}`;
}
