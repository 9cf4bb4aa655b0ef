/**
 * h2load (nghttp2's HTTP/2 load generator) as a DoH load source: one DNS query POSTed as
 * `application/dns-message`, 4 connections of 10 streams each, for a fixed time. dnsperf 2.10's DoH
 * client loses most answers from HTTP/2 servers that write a response's HEADERS and DATA as
 * separate TLS records (h2o in dnsdist, hyper in Deno), so DoH is measured with both.
 * @module
 */
import { encodeMessage, query } from "../lib/proto/mod.ts";
import type { Measure } from "./_dnsperf.ts";
import { cpuTicks, delay, type Launcher } from "./_proc.ts";
import { CLIENT_CPU, type Server } from "./_servers.ts";

const OVERRUN_MS = 30_000;

/** Whether h2load is installed (Debian's nghttp2-client). */
export function h2loadMissing(): string | null {
  try {
    Deno.statSync("/usr/bin/h2load");
    return null;
  } catch {
    return "h2load is not installed (apt-get install nghttp2-client)";
  }
}

/** Reads h2load's summary into a {@link Measure} (rcodes: the HTTP status line). */
export function parseH2load(text: string, ticks: number, hz: number): Measure {
  const requests = /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed/.exec(text);
  const rate = /finished in [\d.]+s, ([\d.]+) req\/s/.exec(text);
  const mean = /time for request:\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)/.exec(text);
  const statuses = /status codes: (.*)/.exec(text);
  if (!requests || !rate) throw new Error(`no h2load summary in:\n${text}`);
  const completed = Number(requests[3]);
  const unit = mean?.[2] === "us" ? 1e-3 : mean?.[2] === "s" ? 1e3 : 1;
  return {
    sent: Number(requests[1]),
    completed,
    lost: Number(requests[1]) - completed,
    qps: Number(rate[1]),
    latencyMs: mean ? Number(mean[1]) * unit : NaN,
    rcodes: statuses?.[1]?.trim() ?? "",
    cpuUsPerAnswer: completed > 0 ? (ticks / hz) * 1e6 / completed : NaN,
  };
}

/** Runs h2load on the client CPU against `server`'s DoH endpoint, asking `name` A for `seconds`. */
export async function h2load(
  launcher: Launcher,
  server: Server,
  options: { readonly work: string; readonly name: string; readonly seconds: number; readonly hz: number },
): Promise<Measure> {
  const body = `${options.work}/query.bin`;
  await Deno.writeFile(body, encodeMessage(query({ name: options.name }, { id: 0 })));
  const args = ["-D", String(options.seconds), "-c", "4", "-m", "10", "-t", "1", "-d", body];
  args.push("-H", "content-type: application/dns-message", `https://127.0.0.1:${server.port}/dns-query`);
  const before = cpuTicks(server.child.pid);
  const child = launcher.spawn("h2load", ["/usr/bin/h2load", ...args], { cpu: CLIENT_CPU, collect: true });
  const limit = options.seconds * 1000 + OVERRUN_MS;
  const code = await Promise.race([child.status, delay(limit).then(() => null)]);
  if (code === null) {
    await child.stop();
    throw new Error(`h2load did not finish within ${limit / 1000} s:\n${child.tail()}`);
  }
  const ticks = cpuTicks(server.child.pid) - before;
  const text = await child.output;
  if (code !== 0) throw new Error(`h2load ${args.join(" ")} failed (${code}):\n${text}${child.tail()}`);
  return parseH2load(text, ticks, options.hz);
}
