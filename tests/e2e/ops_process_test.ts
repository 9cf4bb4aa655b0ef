/**
 * dnsd as an operator runs it, in a subprocess: `--host localhost --host ::1 --port 0` with batched
 * UDP (which crashed on a name before) answers over UDP and TCP on every address, logs one running
 * line per address and no open-resolver warning on loopback; SIGUSR1 logs one statistics line and
 * opens no debugger on 127.0.0.1:9229 (Deno 2.9.2+ would), and dnsd still answers; at `info`, a
 * forwarded query logs nothing. Without --allow-ffi, dnsd says at start-up that SIGUSR1 is unsafe.
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { decodeMessage } from "../../lib/proto/codec.ts";
import { Rcode } from "../../lib/proto/types.ts";
import { DNSD_PERMISSIONS, PROCESS_TIMEOUT_MS, spawnDnsd, STAMP, within } from "../_dnsd_process.ts";
import { connectTcp } from "../_tcp_client.ts";
import { queryBytes } from "../_udp_client.ts";
import { needsFfi } from "../_batched.ts";
import { needsPermissions } from "../_tools.ts";

const WAIT_MS = 3_000;
/** Deno installs its SIGUSR1 inspector trigger 500 ms after start-up: wait past it. */
const PAST_INSPECTOR_GRACE_MS = 800;

const running = (address: string) =>
  new RegExp(
    String.raw`^${STAMP} - INFO - DNS server is running on ${address.replace(/[.[\]]/g, "\\$&")}:(\d+)$`,
  );

async function udpAsk(hostname: string, port: number, bytes: Uint8Array): Promise<Uint8Array> {
  const conn = Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
  const timer = setTimeout(() => conn.close(), WAIT_MS);
  try {
    await conn.send(bytes, { transport: "udp", hostname, port });
    return (await conn.receive())[0];
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // closed by the timer
    }
  }
}

async function tcpAsk(hostname: string, port: number, bytes: Uint8Array): Promise<Uint8Array> {
  const client = await connectTcp({ transport: "tcp", hostname, port });
  try {
    return await client.ask(bytes, WAIT_MS);
  } finally {
    client.close();
  }
}

/** Whether anything accepts a TCP connection on 127.0.0.1:9229, the V8 inspector's port. */
async function inspectorPortOpen(): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port: 9229 })).close();
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.ConnectionRefused) return false;
    throw error;
  }
}

/** Asks example.com (local, 8.8.8.8) over UDP and TCP on each address; every answer must match. */
async function answersEverywhere(addresses: readonly string[], port: number): Promise<void> {
  for (const hostname of addresses) {
    for (const ask of [udpAsk, tcpAsk]) {
      const reply = decodeMessage(await ask(hostname, port, queryBytes("example.com", 1)));
      assert.equal(reply.rcode, Rcode.NOERROR, `${ask.name} on ${hostname}`);
      assert.deepEqual(reply.answers.map((r) => r.data), [{ type: "A", address: "8.8.8.8" }]);
    }
  }
}

test(
  needsFfi(
    "dnsd --host localhost --host ::1 --port 0 (batched UDP) serves both; SIGUSR1 logs statistics, opens no debugger",
    ["run"],
  ),
  async () => {
    // An upstream that never answers, so a forwarded query fails fast (--timeout 300).
    const silent = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const upstream = `127.0.0.1:${(silent.addr as Deno.NetAddr).port}`;
    const args = ["--host", "localhost", "--host", "::1", "--port", "0", "--udp-io", "batched"];
    const dnsd = spawnDnsd([...args, "--upstream", upstream, "--timeout", "300"]);
    try {
      const first = await dnsd.stderr.waitFor(running("127.0.0.1"), PROCESS_TIMEOUT_MS);
      const port = Number(running("127.0.0.1").exec(first)![1]);
      assert.notEqual(port, 0);
      await dnsd.stderr.waitFor(new RegExp(String.raw`running on \[::1\]:${port}$`), PROCESS_TIMEOUT_MS);
      await answersEverywhere(["127.0.0.1", "::1"], port);

      // At info, a forwarded query logs no per-query line.
      const failed = decodeMessage(await udpAsk("127.0.0.1", port, queryBytes("forward.dnsd.test", 1)));
      assert.equal(failed.rcode, Rcode.SERVFAIL);

      await new Promise((resolve) => setTimeout(resolve, PAST_INSPECTOR_GRACE_MS));
      const before = dnsd.stderr.seen.length;
      dnsd.child.kill("SIGUSR1");
      const line = await dnsd.stderr.waitFor(/ - INFO - Statistics: /, WAIT_MS, before);
      assert.match(
        line,
        /cache size \d+, hits \d+, misses \d+.*; forwarded 1, answered 0, upstream timeouts \d+/,
      );
      assert.match(line, /TCP connections open 0$/);
      assert.equal(await inspectorPortOpen(), false, "something listens on 127.0.0.1:9229 after SIGUSR1");
      await answersEverywhere(["127.0.0.1", "::1"], port);

      dnsd.child.kill("SIGTERM");
      const status = await within(dnsd.child.status, PROCESS_TIMEOUT_MS, () => "dnsd did not stop");
      assert.equal(status.code, 0);
      const lines = await dnsd.stderr.drain(PROCESS_TIMEOUT_MS);
      const log = lines.join("\n");
      assert.equal(lines.filter((l) => / - INFO - Statistics: /.test(l)).length, 1, log);
      assert.ok(!/Debugger|inspect/i.test(log), log);
      assert.ok(!log.includes("not found locally"), log);
      assert.ok(!log.includes("open resolver"), log);
      // One running line per address, the first exactly as before; the names resolved, never logged.
      assert.deepEqual(lines.filter((l) => l.includes("DNS server is running on")).map((l) => l.slice(26)), [
        `INFO - DNS server is running on 127.0.0.1:${port}`,
        `INFO - DNS server is running on [::1]:${port}`,
      ]);
    } finally {
      await dnsd.stop();
      silent.close();
    }
  },
);

test(
  needsPermissions(
    ["run", "read"],
    "dnsd without --allow-ffi says at start-up that SIGUSR1 would open a debugger",
  ),
  async () => {
    const permissions = DNSD_PERMISSIONS.filter((flag) => flag !== "--allow-ffi");
    const dnsd = spawnDnsd(["--host", "localhost", "--port", "0", "--upstream", "127.0.0.1:9"], permissions);
    try {
      const first = await dnsd.stderr.waitFor(running("127.0.0.1"), PROCESS_TIMEOUT_MS);
      const port = Number(running("127.0.0.1").exec(first)![1]);
      await dnsd.stderr.waitFor(
        / - WARNING - SIGUSR1 would also start Deno's debugger on 127\.0\.0\.1:9229.*--allow-ffi/,
        PROCESS_TIMEOUT_MS,
      );
      await answersEverywhere(["127.0.0.1"], port);
    } finally {
      await dnsd.stop();
    }
  },
);
