/**
 * TCP clients that never read (issue 12, defect 1), against a real process (`deno run -A main.ts`):
 * 150 connections each pipeline 256 queries for a 63 KB answer and never read (one in eight
 * half-closes); 3 s later a legitimate client asks 8 queries over TCP, each on a new connection,
 * retried every 100 ms when turned away, for 10 s. Reports the answers it got, dnsd's VmRSS (from
 * /proc/PID/status) before the attack and at its peak, and the log lines written meanwhile. Not a
 * test, and not run by CI.
 *
 * `deno run -A bench/tcp_never_read.ts [--root DIR] [--port PORT]` (`--root`: the tree whose
 * `main.ts` runs, e.g. a copy of an older commit)
 * @module
 */
import { parseArgs } from "node:util";
import { memoryOf } from "./_harness.ts";
import { queryA } from "./_proc.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { root: { type: "string", default: "." }, port: { type: "string", default: "25353" } },
});
const port = Number(values.port);
const encoder = new TextEncoder();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// 240 TXT records of 250 octets: a 63 KB answer, under the 65,535 octets of a TCP message.
const zone = await Deno.makeTempFile({ suffix: ".zone" });
const txt = Array.from(
  { length: 240 },
  (_, i) => `big IN TXT "${String(i).padStart(3, "0").padEnd(250, "x")}"\n`,
);
await Deno.writeTextFile(
  zone,
  `$ORIGIN big.test.\n$TTL 300\n@ IN SOA ns h 1 2 3 4 5\n@ IN NS ns\nns IN A 192.0.2.1\n` +
    `local IN A 192.0.2.53\n${txt.join("")}`,
);
const dnsd = new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", "main.ts", "--port", String(port), "--zone", zone, "--upstream", "127.0.0.1:9"],
  cwd: values.root,
  stdout: "null",
  stderr: "piped",
}).spawn();
const lines: string[] = [];
void (async () => {
  let partial = "";
  for await (const text of dnsd.stderr.pipeThrough(new TextDecoderStream())) {
    const parts = (partial + text).split("\n");
    partial = parts.pop()!;
    lines.push(...parts);
  }
})();
function rssMiB(): number {
  return Math.round(memoryOf(dnsd.pid).rss / (1024 * 1024));
}

/** A query for `name` and `type` with its two-octet length prefix (RFC 1035 section 4.2.2). */
function framed(name: string, type: number, id: number): Uint8Array {
  const message = queryA(name, id);
  message.set([type >> 8, type & 255], message.length - 4); // QTYPE, before QCLASS
  return Uint8Array.from([message.length >> 8, message.length & 255, ...message]);
}

/** Asks on a new connection, again while turned away, until `deadline`; whether it was answered. */
async function ask(id: number, deadline: number): Promise<boolean> {
  while (performance.now() < deadline) {
    let conn: Deno.TcpConn | undefined;
    try {
      conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(framed("local.big.test", 1, id));
      const timer = setTimeout(() => conn?.close(), Math.max(1, deadline - performance.now()));
      const buffer = new Uint8Array(512);
      const count = await conn.read(buffer).finally(() => clearTimeout(timer));
      if (count !== null && count >= 4 && ((buffer[2]! << 8) | buffer[3]!) === id) return true;
    } catch {
      // turned away, or closed by the timer
    } finally {
      try {
        conn?.close();
      } catch {
        // closed already
      }
    }
    await sleep(100);
  }
  return false;
}

try {
  while (!lines.some((line) => line.includes("DNS server is running"))) await sleep(50);
  await sleep(500);
  const linesBefore = lines.length;
  const rssBefore = rssMiB();
  const one = framed("big.big.test", 16, 7);
  const attack = new Uint8Array(one.length * 256);
  for (let i = 0; i < 256; i++) attack.set(one, i * one.length);
  const attackers: Deno.TcpConn[] = [];
  for (let i = 0; i < 150; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    attackers.push(conn);
    void (async () => {
      let rest = attack;
      while (rest.length > 0) rest = rest.subarray(await conn.write(rest));
      if (i % 8 === 0) await conn.closeWrite();
    })().catch(() => {});
  }
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB())), 100);
  await sleep(3_000); // the attack has been going on a while when the legitimate client comes
  const start = performance.now();
  let answered = 0;
  for (let id = 1; id <= 8; id++) if (await ask(id, start + 10_000)) answered++;
  while (performance.now() - start < 15_000) await sleep(200);
  clearInterval(sampler);
  for (const conn of attackers) {
    try {
      conn.close();
    } catch {
      // closed by dnsd
    }
  }
  await sleep(1_000);
  const report = {
    answeredWithin10s: `${answered} of 8`,
    rssMiB: { before: rssBefore, peak: Math.max(peak, rssMiB()) },
    logLines: lines.length - linesBefore,
    firstLines: lines.slice(linesBefore, linesBefore + 3),
  };
  Deno.stdout.writeSync(encoder.encode(JSON.stringify(report, null, 2) + "\n"));
} finally {
  dnsd.kill("SIGKILL");
  await dnsd.status;
  await Deno.remove(zone);
}
