/**
 * The bounded wire fuzz run of issue 12: `deno task fuzz:wire [--udp N] [--tcp N] [--seed S]
 * [--max-seconds S] [--workers N]` (`--workers` is passed to dnsd: the datagrams then spread over
 * its workers). Starts `main.ts` as a process on a free port (forwarding to a local socket
 * that never answers), then sends 200,000 fuzzed UDP datagrams and 20,000 fuzzed TCP frames (see
 * scripts/fuzz_packets.ts). Each batch of datagrams is followed by a probe, a valid question the
 * server must answer; QR=1 packets go from a socket and on connections of their own, so any
 * reply to one is seen. It prints the counts and exits 1 on a crash (the process exits, or a
 * probe goes unanswered three times running), a reply to a response, or the time running out.
 * @module
 */
import { parseArgs } from "node:util";
import { decodeMessage, encodeMessage } from "../lib/proto/codec.ts";
import { query } from "../lib/proto/message.ts";
import { readVector } from "../tests/_hex.ts";
import { concat, framed } from "../tests/_tcp_client.ts";
import { asResponse, fuzzPacket, Random, seedQueries } from "./fuzz_packets.ts";

// deno-lint-ignore no-console
const print = console.log;

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    udp: { type: "string" },
    tcp: { type: "string" },
    seed: { type: "string" },
    "max-seconds": { type: "string" },
    workers: { type: "string" },
  },
});
const UDP_PACKETS = Number(args.udp ?? 200_000);
const TCP_FRAMES = Number(args.tcp ?? 20_000);
const SEED = Number(args.seed ?? 20261205);
const DEADLINE = performance.now() + Number(args["max-seconds"] ?? 900) * 1000;
/** Datagrams between probes: a UDP receive buffer never overflows. */
const BATCH = 128;
const CLIENTS = 4;
/** Frames per TCP connection, and connections open at once. */
const FRAMES_PER_CONNECTION = 100;
const TCP_PARALLEL = 8;
/** One in this many packets is sent as a response (QR=1). */
const RESPONSE_EVERY = 8;
const WAIT_MS = 3_000;
const ROOT = new URL("../", import.meta.url);

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function freePort(): number {
  // dnsd listens on the port over UDP and TCP: one the kernel gives for UDP may be taken for TCP
  // (seed 6 once met "address already in use"), so both are tried before it is handed on.
  for (let attempt = 0;; attempt++) {
    const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const { port } = conn.addr as Deno.NetAddr;
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
      return port;
    } catch (error) {
      if (attempt >= 20) throw error;
    } finally {
      conn.close();
    }
  }
}

/** The resident set of process `pid` in MiB, from ps(1) (reading /proc/PID needs --allow-all); NaN without it. */
async function rssMiB(pid: number): Promise<number> {
  try {
    const { stdout } = await new Deno.Command("ps", { args: ["-o", "rss=", "-p", String(pid)] }).output();
    return Number(new TextDecoder().decode(stdout).trim()) / 1024;
  } catch {
    return NaN;
  }
}

/** A socket that counts what it receives and lets one waiter take a reply by ID. */
function udpSocket() {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const waiters = new Map<number, (reply: Uint8Array) => void>();
  let received = 0;
  const loop = (async () => {
    const buffer = new Uint8Array(65_535);
    while (true) {
      let data: Uint8Array;
      try {
        [data] = await conn.receive(buffer);
      } catch {
        return;
      }
      received++;
      if (data.length >= 2) waiters.get((data[0]! << 8) | data[1]!)?.(data.slice());
    }
  })();
  return {
    conn,
    received: () => received,
    /** Sends `bytes` and waits up to `ms` for a reply with its ID. */
    async ask(bytes: Uint8Array, to: Deno.NetAddr, ms: number): Promise<Uint8Array | null> {
      const id = (bytes[0]! << 8) | bytes[1]!;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const reply = new Promise<Uint8Array | null>((settle) => {
        waiters.set(id, settle);
        timer = setTimeout(() => settle(null), ms);
      });
      try {
        await conn.send(bytes, to);
        return await reply;
      } finally {
        clearTimeout(timer);
        waiters.delete(id);
      }
    },
    async close() {
      conn.close();
      await loop;
    },
  };
}

/** Whether `reply` is dnsd's answer for example.com A (8.8.8.8 from mappings.ts). */
function goodAnswer(reply: Uint8Array | null): boolean {
  if (!reply) return false;
  try {
    const message = decodeMessage(reply);
    return message.rcode === 0 &&
      message.answers.some((a) => a.data.type === "A" && a.data.address === "8.8.8.8");
  } catch {
    return false;
  }
}

function probeQuery(id: number): Uint8Array {
  return encodeMessage(query({ name: "example.com" }, { id })).slice();
}

/**
 * One connection's bytes: framed fuzzed packets, some with a bad length (zero, shorter or longer
 * than the packet), written in chunks of 1 to 512 octets. A connection of responses has only
 * QR=1 frames with good lengths, so any octet back is a reply to a response.
 */
function tcpPlan(random: Random, seeds: readonly Uint8Array[], responses: boolean) {
  const frames: Uint8Array[] = [];
  for (let i = 0; i < FRAMES_PER_CONNECTION; i++) {
    const packet = fuzzPacket(random, seeds);
    if (responses) {
      frames.push(framed(asResponse(packet)));
      continue;
    }
    const bad = random.below(20);
    if (bad === 0) frames.push(framed(new Uint8Array())); // zero length: the server closes
    else if (bad === 1) frames.push(framed(packet, packet.length + 1 + random.below(600))); // longer
    else if (bad === 2) frames.push(framed(packet, random.below(packet.length + 1))); // shorter
    else frames.push(framed(packet.length > 0 ? packet : new Uint8Array([0])));
  }
  return { bytes: concat(frames), frames: frames.length, chunk: 1 + random.below(512), responses };
}

async function tcpSession(server: Deno.NetAddr, plan: ReturnType<typeof tcpPlan>) {
  const conn = await Deno.connect({ transport: "tcp", hostname: server.hostname, port: server.port });
  let replyBytes = 0;
  const reading = (async () => {
    const buffer = new Uint8Array(16 * 1024);
    try {
      while (true) {
        const count = await conn.read(buffer);
        if (count === null) return true;
        replyBytes += count;
      }
    } catch {
      return true; // reset by the server
    }
  })();
  try {
    for (let at = 0; at < plan.bytes.length; at += plan.chunk) {
      let rest = plan.bytes.subarray(at, at + plan.chunk);
      while (rest.length > 0) rest = rest.subarray(await conn.write(rest));
    }
    await conn.closeWrite();
  } catch {
    // the server closed first (a zero-length frame, say)
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const closed = await Promise.race([
    reading,
    new Promise<boolean>((r) => timer = setTimeout(() => r(false), WAIT_MS)),
  ]);
  clearTimeout(timer);
  conn.close();
  await reading;
  return { replyBytes, stuck: !closed };
}

async function main(): Promise<number> {
  const started = performance.now();
  const captures = await Promise.all(
    [
      "dig_query_example_com.hex",
      "dig_query_norecurse_noedns.hex",
      "nsd_response_mx.hex",
      "nsd_response_txt_edns.hex",
    ]
      .map(readVector),
  );
  const seeds = [...seedQueries(), ...captures];
  const upstream = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const swallow = (async () => {
    try {
      while (true) await upstream.receive();
    } catch {
      // closed
    }
  })();
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-env",
      "--allow-ffi",
      "main.ts",
      "--port",
      String(port),
      "--upstream",
      `127.0.0.1:${(upstream.addr as Deno.NetAddr).port}`,
      "--timeout",
      "200",
      "--workers",
      String(Number(args.workers ?? 1)),
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let exited = false;
  const status = child.status.finally(() => exited = true);
  // Every stderr line is counted; the pipe is always drained so dnsd never blocks on it.
  const lines: string[] = [];
  let ready: () => void = () => {};
  const running = new Promise<void>((resolve) => ready = resolve);
  const reading = (async () => {
    let partial = "";
    for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) {
      const parts = (partial + text).split("\n");
      partial = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        if (line.includes("DNS server is running on")) ready();
      }
    }
  })();
  const server: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port };
  const clients = Array.from({ length: CLIENTS }, udpSocket);
  const responder = udpSocket(); // sends only QR=1 packets: must never receive anything
  const prober = udpSocket();
  let crashes = 0;
  let lateProbes = 0;
  let sent = 0;
  let responsesSent = 0;
  let tcpFrames = 0;
  let tcpResponseFrames = 0;
  let tcpResponseReplies = 0;
  let tcpStuck = 0;
  let outOfTime = false;
  const probe = async (id: number): Promise<void> => {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (goodAnswer(await prober.ask(probeQuery((id + attempt) & 0xffff), server, WAIT_MS))) return;
      lateProbes++;
    }
    crashes++;
  };
  try {
    await Promise.race([running, status, sleep(20_000)]);
    if (exited || !lines.some((line) => line.includes("DNS server is running on"))) {
      print(`dnsd did not start:\n${lines.join("\n")}`);
      return 1;
    }
    const rssBefore = await rssMiB(child.pid);
    const linesBefore = lines.length;
    const floodStarted = performance.now();

    const udp = (async () => {
      const random = new Random(SEED);
      for (let batch = 0; sent < UDP_PACKETS && !exited; batch++) {
        if (performance.now() > DEADLINE) return void (outOfTime = true);
        const count = Math.min(BATCH, UDP_PACKETS - sent);
        const sends: Promise<number>[] = [];
        for (let i = 0; i < count; i++) {
          const packet = fuzzPacket(random, seeds);
          if ((sent + i) % RESPONSE_EVERY === 0) {
            responsesSent++;
            sends.push(responder.conn.send(asResponse(packet), server));
          } else {
            sends.push(clients[i % CLIENTS]!.conn.send(packet, server));
          }
        }
        await Promise.all(sends);
        sent += count;
        await probe(batch * 3);
      }
    })();
    const tcp = (async () => {
      const random = new Random(SEED + 1);
      const connections = Math.ceil(TCP_FRAMES / FRAMES_PER_CONNECTION);
      let next = 0;
      await Promise.all(Array.from({ length: TCP_PARALLEL }, async () => {
        while (next < connections && !exited) {
          if (performance.now() > DEADLINE) return void (outOfTime = true);
          const plan = tcpPlan(random, seeds, next++ % RESPONSE_EVERY === 0);
          const result = await tcpSession(server, plan);
          tcpFrames += plan.frames;
          if (plan.responses) {
            tcpResponseFrames += plan.frames;
            tcpResponseReplies += result.replyBytes;
          }
          if (result.stuck) tcpStuck++;
        }
      }));
    })();
    await Promise.all([udp, tcp]);
    const floodSeconds = (performance.now() - floodStarted) / 1000;
    // Still answering, over UDP and TCP, and still running.
    await probe(0xfff0);
    const tcpProbe = await tcpSession(server, {
      bytes: framed(probeQuery(0xfff8)),
      frames: 1,
      chunk: 512,
      responses: false,
    });
    if (tcpProbe.replyBytes === 0) crashes++;
    await sleep(500); // late replies to responses would arrive by now
    if (exited) crashes++;
    const rssAfter = await rssMiB(child.pid);
    const repliesToResponses = responder.received() + tcpResponseReplies;
    const replies = clients.reduce((sum, client) => sum + client.received(), 0);
    print(`fuzz:wire seed ${SEED}`);
    print(
      `  UDP: ${sent.toLocaleString("en-US")} datagrams (${
        responsesSent.toLocaleString("en-US")
      } responses), ` +
        `${replies.toLocaleString("en-US")} replies, ${lateProbes} late probes`,
    );
    print(
      `  TCP: ${tcpFrames.toLocaleString("en-US")} frames on ${
        Math.ceil(tcpFrames / FRAMES_PER_CONNECTION)
      } ` +
        `connections (${tcpResponseFrames.toLocaleString("en-US")} responses), ${tcpStuck} never closed`,
    );
    print(
      `  flood ${floodSeconds.toFixed(1)} s; whole run ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s`,
    );
    const logged = lines.slice(linesBefore);
    const byLevel = ["INFO", "WARNING", "ERROR"].map((level) =>
      `${logged.filter((line) => line.includes(` - ${level} - `)).length.toLocaleString("en-US")} ${level}`
    );
    print(
      `  dnsd RSS ${rssBefore.toFixed(1)} -> ${rssAfter.toFixed(1)} MiB; log lines: ${byLevel.join(", ")}`,
    );
    print(
      `  crashes: ${crashes}; replies to responses: ${repliesToResponses}${outOfTime ? "; OUT OF TIME" : ""}`,
    );
    // The first line of each kind above INFO (the query log), to see what was written.
    const kinds = new Map<string, string>();
    for (const line of logged) {
      if (line.includes(" - INFO - ")) continue;
      const kind = line.replace(/^[\d-]+ [\d:,]+ /, "").replace(/[\d.:\[\]a-f]{7,}/g, "*").slice(0, 60);
      if (!kinds.has(kind)) kinds.set(kind, line);
    }
    for (const line of [...kinds.values()].slice(0, 5)) print(`  | ${line.slice(0, 160)}`);
    return crashes === 0 && repliesToResponses === 0 && !outOfTime && sent === UDP_PACKETS ? 0 : 1;
  } finally {
    await Promise.all([...clients, responder, prober].map((client) => client.close()));
    try {
      if (!exited) child.kill("SIGTERM");
    } catch {
      // exited meanwhile
    }
    await Promise.race([status, sleep(5_000)]);
    if (!exited) child.kill("SIGKILL");
    await status;
    await reading.catch(() => {});
    upstream.close();
    await swallow;
  }
}

Deno.exit(await main());
