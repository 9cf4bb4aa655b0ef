/**
 * The config file, end to end through the real `main.ts`: a file's `[mappings]` answered over UDP
 * and TCP; a reload whose assertion fails keeps the old answers (and says why at FILE:LINE); a
 * good edit of the file is picked up by the watcher; `--check`'s exit codes and lines.
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { decodeMessage } from "../../lib/proto/codec.ts";
import { type Message, Rcode, RRType } from "../../lib/proto/types.ts";
import { runDnsd, type RunningDnsd, startDnsd } from "../_dnsd_process.ts";
import { exchange, queryBytes } from "../_udp_client.ts";
import { connectTcp, query } from "../_tcp_client.ts";
import { needsPermissions } from "../_tools.ts";
import { startFakeUpstream } from "../_fake_upstream.ts";

const QUERY_TIMEOUT_MS = 2_000;
const RELOAD_WITHIN_MS = 5_000;
const POLL_EVERY_MS = 50;

function needsFiles(name: string): { name: string; ignore: boolean } {
  return needsPermissions(["read", "write", "run"], name);
}

/** A config file: `[mappings]` naming nas.home.arpa at `address`, and an assertion expecting `expected`. */
function configText(address: string, expected: string): string {
  return [
    "# dnsd test config", // 1
    'upstream = ["127.0.0.1:9"]', // 2: nothing is forwarded in these tests
    "reload_settle = 100", // 3
    "", // 4
    "[mappings]", // 5
    `"nas.home.arpa" = "${address}"`, // 6
    "", // 7
    "[[assert]]", // 8
    'name = "nas.home.arpa"', // 9
    `expect = ["${expected}"]`, // 10
    "", // 11
    "[[assert]]", // 12
    'name = "example.com"', // 13: mappings.ts is not read when the file has [mappings]
    'expect = "FORWARDED"', // 14
    'upstream = "127.0.0.1:9"', // 15
  ].join("\n") + "\n";
}

async function udpAddress(dnsd: RunningDnsd, name: string): Promise<string[]> {
  const reply = await exchange(dnsd.port, queryBytes(name, RRType.A), QUERY_TIMEOUT_MS);
  assert.ok(reply, `no UDP reply for ${name}`);
  return addresses(decodeMessage(reply));
}

async function tcpAddress(dnsd: RunningDnsd, name: string): Promise<string[]> {
  const client = await connectTcp({ transport: "tcp", hostname: "127.0.0.1", port: dnsd.port });
  try {
    return addresses(decodeMessage(await client.ask(query(name), QUERY_TIMEOUT_MS)));
  } finally {
    client.close();
  }
}

function addresses(message: Message): string[] {
  assert.equal(message.rcode, Rcode.NOERROR);
  return message.answers.flatMap((record) => record.data.type === "A" ? [record.data.address] : []);
}

/** Waits until both transports answer `name` with `want`. */
async function untilAnswers(dnsd: RunningDnsd, name: string, want: string): Promise<void> {
  const deadline = Date.now() + RELOAD_WITHIN_MS;
  let last: string[] = [];
  while (Date.now() < deadline) {
    last = await udpAddress(dnsd, name);
    if (last.join() === want) {
      assert.deepEqual(await tcpAddress(dnsd, name), [want]);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_EVERY_MS));
  }
  assert.fail(`${name} still answers ${last.join()} after ${RELOAD_WITHIN_MS} ms, not ${want}`);
}

test(
  {
    ...needsFiles(
      "a config file's [mappings] are served over UDP and TCP; a reload whose assertion fails keeps them",
    ),
    timeoutMs: 60_000,
  },
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "dnsd-config-" });
    const path = `${dir}/dnsd.toml`;
    await Deno.writeTextFile(path, configText("192.168.1.10", "192.168.1.10"));
    const dnsd = await startDnsd((port) => ["--config", path, "--port", String(port)]);
    try {
      assert.deepEqual(await udpAddress(dnsd, "nas.home.arpa"), ["192.168.1.10"]);
      assert.deepEqual(await tcpAddress(dnsd, "nas.home.arpa"), ["192.168.1.10"]);

      // The mapping changes but the assertion still expects the old address: not used.
      const from = dnsd.stderr.seen.length;
      await Deno.writeTextFile(path, configText("192.168.1.12", "192.168.1.10"));
      dnsd.child.kill("SIGHUP");
      const error = await dnsd.stderr.waitFor(
        / - ERROR - .*assert nas\.home\.arpa A/,
        RELOAD_WITHIN_MS,
        from,
      );
      assert.ok(
        error.includes(`${path}:8: assert nas.home.arpa A: expected 192.168.1.10, got 192.168.1.12`),
        error,
      );
      await dnsd.stderr.waitFor(/ - ERROR - Reload failed, keeping the running configuration/, 1_000, from);
      assert.deepEqual(await udpAddress(dnsd, "nas.home.arpa"), ["192.168.1.10"]);
      assert.deepEqual(await tcpAddress(dnsd, "nas.home.arpa"), ["192.168.1.10"]);
      assert.ok(
        !dnsd.stderr.seen.slice(from).some((line) => line.includes("Local data reloaded")),
        "a failed reload does not say it reloaded",
      );

      // A consistent edit, seen by the file watcher (no signal): used.
      await Deno.writeTextFile(path, configText("192.168.1.12", "192.168.1.12"));
      await untilAnswers(dnsd, "nas.home.arpa", "192.168.1.12");
    } finally {
      await dnsd.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

test(needsFiles("dnsd --check exits 0 for a good config, 1 with FILE:LINE lines for a bad one"), async () => {
  const dir = await Deno.makeTempDir({ prefix: "dnsd-check-" });
  try {
    const good = `${dir}/good.toml`;
    await Deno.writeTextFile(good, configText("192.168.1.10", "192.168.1.10"));
    const ok = await runDnsd(["--config", good, "--check"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^dnsd: configuration OK: 1 records, 2 assertions hold\n$/);

    const failing = `${dir}/failing.toml`;
    await Deno.writeTextFile(failing, configText("192.168.1.12", "192.168.1.10"));
    const failed = await runDnsd(["--config", failing, "--check"]);
    assert.equal(failed.code, 1, failed.stderr);
    assert.equal(
      failed.stderr,
      `dnsd: ${failing}:8: assert nas.home.arpa A: expected 192.168.1.10, got 192.168.1.12\n`,
    );

    const broken = `${dir}/broken.toml`;
    await Deno.writeTextFile(broken, "port = 53\ncache_sise = 1\n");
    const refused = await runDnsd(["--config", broken, "--check"]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.equal(refused.stderr, `dnsd: ${broken}:2: cache_sise: unknown key (did you mean cache_size?)\n`);

    // Without --check, the same file is a usage error: status 2.
    const usage = await runDnsd(["--config", broken]);
    assert.equal(usage.code, 2, usage.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

test(
  {
    ...needsFiles("a reload that changes the upstreams forwards to the new ones at once, over UDP and TCP"),
    timeoutMs: 60_000,
  },
  async () => {
    const first = startFakeUpstream({ "www.example.net": { kind: "answer", address: "192.0.2.1" } });
    const second = startFakeUpstream({ "www.example.net": { kind: "answer", address: "192.0.2.2" } });
    const dir = await Deno.makeTempDir({ prefix: "dnsd-config-upstream-" });
    const path = `${dir}/dnsd.toml`;
    const config = (upstream: Deno.NetAddr) =>
      `upstream = ["127.0.0.1:${upstream.port}"]\nreload_settle = 100\n`;
    await Deno.writeTextFile(path, config(first.address));
    const dnsd = await startDnsd((port) => ["--config", path, "--port", String(port)]);
    try {
      assert.deepEqual(await udpAddress(dnsd, "www.example.net"), ["192.0.2.1"]);
      const from = dnsd.stderr.seen.length;
      await Deno.writeTextFile(path, config(second.address));
      await dnsd.stderr.waitFor(/ - INFO - Forwarding changed \(upstream\)/, RELOAD_WITHIN_MS, from);
      // The cached answer from the first upstream is gone with it.
      assert.deepEqual(await udpAddress(dnsd, "www.example.net"), ["192.0.2.2"]);
      assert.deepEqual(await tcpAddress(dnsd, "www.example.net"), ["192.0.2.2"]);
      assert.equal(second.count("udp", "www.example.net"), 1);
      assert.ok(
        !dnsd.stderr.seen.slice(from).some((line) => line.includes("after a restart")),
        "upstreams need no restart",
      );
    } finally {
      await dnsd.stop();
      await Promise.all([first.close(), second.close()]);
      await Deno.remove(dir, { recursive: true });
    }
  },
);

test(
  needsFiles("the example of docs/configuration.md passes --check (its hosts file left out)"),
  async () => {
    const docs = await Deno.readTextFile(new URL("../../docs/configuration.md", import.meta.url));
    const example = /```toml\n([\s\S]*?)```/.exec(docs)?.[1];
    assert.ok(example);
    const dir = await Deno.makeTempDir({ prefix: "dnsd-config-docs-" });
    try {
      const path = `${dir}/dnsd.toml`;
      await Deno.writeTextFile(path, example.replace(/^hosts = .*$/m, ""));
      const { code, stdout, stderr } = await runDnsd(["--config", path, "--check"]);
      assert.equal(code, 0, stderr);
      assert.match(stdout, /configuration OK: \d+ records, 2 assertions hold/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
