/**
 * The load benchmark's report: one markdown table, a row per scenario and server, then the
 * ratios of dnsd to the ceiling and to each peer; with the machine, the versions and the date.
 * @module
 */
import type { Measure } from "./_dnsperf.ts";

/** The scenarios, in table order, with what each measures. */
export const SCENARIOS = {
  local: "the mapped names (A), as fast as dnsperf sends",
  cached: "1,000 upstream names after a warm-up pass",
  uncached: "unique upstream names, each once, cold cache (server restarted)",
  "fixed-rate": "the mapped names at a fixed rate, for server CPU per answer",
  "fixed-rate-cached": "the cached names at the same fixed rate, for server CPU per cached answer",
} as const;

/** A scenario's name. */
export type Scenario = keyof typeof SCENARIOS;

/** Measures by scenario, then by server. */
export type Results = Map<Scenario, Map<string, Measure>>;

/** What the report says besides the numbers. */
export interface Context {
  readonly date: string;
  readonly machine: string;
  readonly versions: Readonly<Record<string, string>>;
  readonly settings: string;
  readonly notes: readonly string[];
}

const whole = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "—";
}

function ratio(a: number, b: number): string {
  return b > 0 && Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : "—";
}

/** dnsd and its variants (dnsd-batched, dnsd-dnssec), but not dnsdist. */
function isDnsd(server: string): boolean {
  return server === "dnsd" || server.startsWith("dnsd-");
}

function row(cells: readonly string[]): string {
  return `| ${cells.join(" | ")} |`;
}

/**
 * The table: per scenario a row per server, then dnsd/ceiling and dnsd/peer ratio rows for each dnsd.
 * @param scenarios the rows' scenarios, in order (those of the load benchmark unless given)
 */
export function table(
  results: ReadonlyMap<string, ReadonlyMap<string, Measure>>,
  servers: readonly string[],
  scenarios: readonly string[] = Object.keys(SCENARIOS),
): string {
  const lines = [
    row(["scenario", "server", "QPS", "avg latency ms", "lost", "server CPU µs/answer"]),
    row(["---", "---", "---:", "---:", "---:", "---:"]),
  ];
  for (const scenario of scenarios) {
    const measures = results.get(scenario) ?? new Map<string, Measure>();
    let first = true;
    const label = () => (first ? ((first = false), `**${scenario}**`) : "");
    for (const server of servers) {
      const m = measures.get(server);
      if (!m) continue;
      lines.push(row([
        label(),
        server,
        whole.format(m.qps),
        fixed(m.latencyMs, 3),
        whole.format(m.lost),
        fixed(m.cpuUsPerAnswer, 1),
      ]));
    }
    // Ratios for each dnsd variant (plain, batched UDP) against every other server.
    for (const mine of servers.filter(isDnsd)) {
      const ours = measures.get(mine);
      if (!ours) continue;
      for (const other of servers) {
        const theirs = measures.get(other);
        if (isDnsd(other) || !theirs) continue;
        lines.push(row([
          label(),
          `*${mine}/${other}*`,
          ratio(ours.qps, theirs.qps),
          ratio(ours.latencyMs, theirs.latencyMs),
          "",
          ratio(ours.cpuUsPerAnswer, theirs.cpuUsPerAnswer),
        ]));
      }
    }
  }
  return lines.join("\n");
}

/** The whole report, in markdown. */
export function report(results: Results, servers: readonly string[], context: Context): string {
  const scenarios = Object.entries(SCENARIOS).map(([name, what]) => `- **${name}**: ${what}`);
  const versions = Object.entries(context.versions).map(([tool, version]) => `- ${tool}: ${version}`);
  const notes = context.notes.map((note) => `- ${note}`);
  return [
    "# dnsd load benchmark",
    "",
    `${context.date} on ${context.machine}.`,
    "",
    table(results, servers),
    "",
    "dnsperf shares CPU 0 with NSD and has a ceiling of its own: where a server needs little CPU per answer,",
    "QPS may measure dnsperf rather than the server, so read QPS together with server CPU. Ratios are dnsd",
    "over the other server: for QPS, higher is better for dnsd; for latency and CPU, lower.",
    "",
    ...scenarios,
    "",
    context.settings,
    "",
    ...versions,
    ...(notes.length > 0 ? ["", "Notes:", "", ...notes] : []),
    "",
  ].join("\n");
}
