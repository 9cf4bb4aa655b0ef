/**
 * `--metrics` and `--query-log` on the dnsd process: served and written as the flags say, the log
 * reopened by SIGHUP after the file was moved, and a query log or a metrics address that cannot
 * be had stopping the start with one line.
 * @module
 */
import { test } from "../_limit.ts";
import { equal, match, ok } from "node:assert/strict";
import { needsPermissions } from "../_tools.ts";
import { DNSD_PERMISSIONS, PROCESS_TIMEOUT_MS, runDnsd, startDnsd } from "../_dnsd_process.ts";
import { startFakeUpstream } from "../_fake_upstream.ts";
import { queryBytes, udpAsk } from "../_udp_client.ts";
import { connectTcp, WAIT_MS } from "../_tcp_client.ts";
import { RRType } from "../../lib/proto/types.ts";

const PERMISSIONS = [...DNSD_PERMISSIONS, "--allow-write"];

/** Polls `check` every 50 ms until it is true, failing after `ms`. */
async function eventually(check: () => Promise<boolean>, what: string, ms = WAIT_MS): Promise<void> {
  const until = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function lines(path: string): Promise<Record<string, unknown>[]> {
  try {
    const text = (await Deno.readTextFile(path)).trim();
    return text === "" ? [] : text.split("\n").map((line) => JSON.parse(line));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

test(
  needsPermissions(
    ["run", "read", "write"],
    "dnsd --metrics --query-log: scraped, logged, reopened on SIGHUP",
  ),
  async () => {
    const dir = await Deno.makeTempDir();
    const log = `${dir}/queries.log`;
    await Deno.writeTextFile(`${dir}/hosts`, "192.0.2.7 local.dnsd.test\n");
    const upstream = startFakeUpstream({ "": { kind: "answer", address: "192.0.2.9" } });
    const dnsd = await startDnsd((port) => [
      "--port",
      String(port),
      "--upstream",
      `127.0.0.1:${upstream.address.port}`,
      "--hosts",
      `${dir}/hosts`,
      "--no-mappings",
      "--metrics",
      "127.0.0.1:0",
      "--query-log",
      log,
    ], PERMISSIONS);
    try {
      const line = await dnsd.stderr.waitFor(
        /Metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/,
        PROCESS_TIMEOUT_MS,
      );
      const http = `http://127.0.0.1:${/127\.0\.0\.1:(\d+)\/metrics/.exec(line)![1]}`;
      // Ready with no client query: dnsd's own ". NS" probe got an answer.
      await eventually(async () => {
        const response = await fetch(`${http}/ready`);
        await response.body?.cancel();
        return response.status === 200;
      }, "/ready");
      const server: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: dnsd.port };
      await udpAsk(server, queryBytes("local.dnsd.test", RRType.A));
      const tcp = await connectTcp(server);
      try {
        await tcp.ask(queryBytes("local.dnsd.test", RRType.A));
      } finally {
        tcp.close();
      }
      const metrics = await (await fetch(`${http}/metrics`)).text();
      match(metrics, /^dnsd_queries_total\{protocol="udp",type="A"\} 1$/m);
      match(metrics, /^dnsd_queries_total\{protocol="tcp",type="A"\} 1$/m);
      match(metrics, /^dnsd_responses_total\{rcode="NOERROR",source="local"\} 2$/m);
      match(metrics, /^dnsd_build_info\{version="[^"]+"\} 1$/m);
      equal(await (await fetch(`${http}/health`)).text(), "ok\n");
      // SIGUSR1's statistics line carries the metrics' totals (two local answers so far).
      const before = dnsd.stderr.seen.length;
      dnsd.child.kill("SIGUSR1");
      const statistics = await dnsd.stderr.waitFor(/ - INFO - Statistics: /, PROCESS_TIMEOUT_MS, before);
      match(statistics, /; queries 2 \(local 2, /);
      // The explain endpoint and the admin API are mounted on the same port.
      const explained = await (await fetch(`${http}/explain?name=local.dnsd.test&type=A`)).json();
      equal(explained.question.name, "local.dnsd.test");
      equal(explained.stage, "local-data");
      ok(JSON.stringify(explained).includes("NOERROR"), JSON.stringify(explained));
      const flushed = await fetch(`${http}/cache/flush`, { method: "POST" });
      equal(flushed.status, 200, await flushed.text());
      equal((await fetch(`${http}/cache/flush`)).status, 405);
      await eventually(async () => (await lines(log)).length === 2, "two lines in the query log");
      // logrotate's habit: move the file, then SIGHUP; the next line goes to a new file at the path.
      await Deno.rename(log, `${log}.1`);
      dnsd.child.kill("SIGHUP");
      await dnsd.stderr.waitFor(/[Rr]eload/, PROCESS_TIMEOUT_MS);
      await eventually(async () => {
        await udpAsk(server, queryBytes("local.dnsd.test", RRType.AAAA));
        return (await lines(log)).length > 0;
      }, "a line in the reopened file");
      const moved = await lines(`${log}.1`);
      equal(moved.length, 2);
      ok(moved.every((entry) => entry.type === "A" && entry.source === "local"));
      equal((await lines(log))[0]!.type, "AAAA");
    } finally {
      await dnsd.stop();
      await upstream.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

test(
  needsPermissions(
    ["run", "read", "write"],
    "dnsd: a query log or a metrics address it cannot have stops the start",
  ),
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      const missing = await runDnsd(["--port", "0", "--query-log", `${dir}/no/such/dir/q.log`], PERMISSIONS);
      equal(missing.code, 1);
      match(
        missing.stderr,
        new RegExp(`^dnsd: --query-log: cannot open ${dir}/no/such/dir/q\\.log: .+$`, "m"),
      );
      const bad = await runDnsd(["--port", "0", "--metrics", "localhost"], PERMISSIONS);
      equal(bad.code, 2);
      match(bad.stderr, /--metrics: "localhost" is not HOST:PORT or PORT/);
      const noWrite = await runDnsd(["--port", "0", "--query-log", `${dir}/q.log`], DNSD_PERMISSIONS);
      equal(noWrite.code, 1);
      match(noWrite.stderr, /needs --allow-write/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
