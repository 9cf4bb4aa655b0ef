/**
 * The dnsd command: the composition root. The only place that reads `Deno.args`, configures
 * logging, opens sockets and installs signal handlers.
 * @module
 */
import { configureSync, getLogger, type LogRecord } from "@logtape/logtape";
import { parseCommand, USAGE, UsageError, VERSION } from "./lib/cli.ts";
import { startServer } from "./lib/app.ts";
import { DataError } from "./lib/errors.ts";
import { formatLogRecord } from "./lib/log_format.ts";
import { formatAddress } from "./lib/udp_exchange.ts";
import mappings from "./mappings.ts";

const encoder = new TextEncoder();

function writeAll(file: { writeSync(p: Uint8Array): number }, text: string): void {
  let bytes = encoder.encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
}

function fail(message: string, status: number): never {
  writeAll(Deno.stderr, `dnsd: ${message}\n`);
  Deno.exit(status);
}

function main(args: readonly string[]): Promise<void> | void {
  let command;
  try {
    command = parseCommand(args);
  } catch (error) {
    if (error instanceof UsageError) fail(`${error.message} (see --help)`, 2);
    throw error;
  }
  if (command.kind === "help") return writeAll(Deno.stdout, USAGE);
  if (command.kind === "version") return writeAll(Deno.stdout, `dnsd ${VERSION}\n`);

  configureSync({
    sinks: { stderr: (record: LogRecord) => writeAll(Deno.stderr, formatLogRecord(record)) },
    loggers: [
      { category: ["dnsd"], lowestLevel: command.logLevel, sinks: ["stderr"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
  const log = getLogger(["dnsd"]);
  log.info("DNS server is starting...");
  let server;
  try {
    server = startServer({ ...command, mappings });
  } catch (error) {
    if (error instanceof DataError) fail(error.message, 1);
    if (error instanceof Deno.errors.AddrInUse) {
      fail(
        `cannot listen on ${
          formatAddress({ hostname: command.host, port: command.port })
        }: address already in use`,
        1,
      );
    }
    if (error instanceof Deno.errors.AddrNotAvailable || error instanceof Deno.errors.PermissionDenied) {
      fail(
        `cannot listen on ${formatAddress({ hostname: command.host, port: command.port })}: ${error.message}`,
        1,
      );
    }
    throw error;
  }
  const stop = () => server.close();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  // Logged only once a signal would stop the server cleanly: supervisors act on this line.
  log.info("DNS server is running on {address}", { address: formatAddress(server.address) });
  return server.finished.then(() => {
    log.info("DNS server stopped.");
    Deno.exit(0);
  });
}

if (import.meta.main) await main(Deno.args);
