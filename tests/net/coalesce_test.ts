/**
 * Receive coalescing (lib/net/coalesce.ts): when the busy reactor pauses before its next wait, as a
 * table of what it knows; and, through the kernel, that datagrams arriving in a pause are read
 * together while a lone query is never held (a client in another process, so that the pause,
 * which blocks this thread, does not hold up the client too).
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, ok } from "node:assert/strict";
import { coalescePause, type CoalesceState, ENOUGH_READ } from "../../lib/net/coalesce.ts";
import { listenBatchedUdp } from "../../lib/net/ffi_udp.ts";
import { UdpReactor } from "../../lib/net/udp_reactor.ts";
import { needsFfi } from "../_batched.ts";

const BUSY: CoalesceState = { limitUs: 100, lastRead: 4, awaitingReplies: false, untilTurnMs: 2 };

const PAUSES: readonly { name: string; state: CoalesceState; want: number }[] = [
  { name: "queries came together: the whole pause", state: BUSY, want: 100 },
  { name: "two in the last read are enough", state: { ...BUSY, lastRead: 2 }, want: 100 },
  { name: "a lone query is never held", state: { ...BUSY, lastRead: 1 }, want: 0 },
  { name: "nothing read (the event loop woke the wait)", state: { ...BUSY, lastRead: 0 }, want: 0 },
  { name: "one short of enough", state: { ...BUSY, lastRead: ENOUGH_READ - 1 }, want: 100 },
  { name: "enough in one read already", state: { ...BUSY, lastRead: ENOUGH_READ }, want: 0 },
  { name: "a full recvmmsg(2) batch: behind", state: { ...BUSY, lastRead: 64 }, want: 0 },
  { name: "several full batches", state: { ...BUSY, lastRead: 256 }, want: 0 },
  { name: "an upstream reply awaited", state: { ...BUSY, awaitingReplies: true }, want: 0 },
  { name: "turned off", state: { ...BUSY, limitUs: 0 }, want: 0 },
  { name: "never past the event loop's turn", state: { ...BUSY, untilTurnMs: 0.04 }, want: 40 },
  { name: "the turn is due", state: { ...BUSY, untilTurnMs: 0 }, want: 0 },
  { name: "a longer pause asked for", state: { ...BUSY, limitUs: 1000 }, want: 1000 },
];

test("coalescing pauses only while queries come together and nobody waits for an upstream", () => {
  for (const { name, state, want } of PAUSES) equal(coalescePause(state), want, name);
});

/** Rounds of a primer, then a spaced triple, the client sends. */
const ROUNDS = 20;
/** Between the datagrams of a triple (ms): far longer than a wake-up, far shorter than the pause. */
const SPACING_MS = 5;
/** The pause under test (µs): long enough that a slow machine still sends the whole triple in it. */
const PAUSE_US = 50_000;
/** How long the server dwells on a batch of the primer (ms), so that the rest of it queues up meanwhile. */
const PRIMER_DWELL_MS = 2;
/** The longest the client runs (it takes about a second). */
const CLIENT_LIMIT_MS = 20_000;

/** What a datagram is, in its first octet: the server dwells on a primer's batches. */
const PRIMER = 1;
const TRIPLE = 2;
const LONE = 3;

/**
 * The client. Each round: a primer of 8 datagrams, sent one after another, whose echoes say how
 * many the read that took each held (the server dwells on a primer's batch, so all but the first
 * queue up and are read together); once the last echo says 2 or more (a pause follows that read,
 * if the reactor pauses; up to 10 primers), three datagrams {@link SPACING_MS} apart, and their
 * echoes. Then 20 lone queries, each after the last echo, timed. Prints the triples sent and the
 * lone round trips (ms) as JSON; exits with 3 after {@link CLIENT_LIMIT_MS}.
 */
function clientScript(port: number): string {
  return `
    // Bounded: an echo that never comes ends the client (and the test) instead of hanging it.
    const guard = setTimeout(() => {
      console.error("no echo within ${CLIENT_LIMIT_MS} ms");
      Deno.exit(3);
    }, ${CLIENT_LIMIT_MS});
    const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const to = { transport: "udp", hostname: "127.0.0.1", port: ${port} };
    const spin = (ms) => { const until = performance.now() + ms; while (performance.now() < until); };
    let triples = 0;
    for (let round = 0; round < ${ROUNDS}; round++) {
      let lastRead = 0;
      for (let primer = 0; primer < 10 && lastRead < 2; primer++) {
        for (let i = 0; i < 8; i++) await conn.send(new Uint8Array([${PRIMER}, round, i]), to);
        for (let i = 0; i < 8; i++) lastRead = (await conn.receive())[0][3];
      }
      if (lastRead < 2) continue;
      for (let i = 0; i < 3; i++) {
        if (i > 0) spin(${SPACING_MS});
        await conn.send(new Uint8Array([${TRIPLE}, round, i]), to);
      }
      for (let i = 0; i < 3; i++) await conn.receive();
      triples++;
    }
    const lone = [];
    for (let i = 0; i < 20; i++) {
      const asked = performance.now();
      await conn.send(new Uint8Array([${LONE}, 0, i]), to);
      await conn.receive();
      lone.push(performance.now() - asked);
    }
    clearTimeout(guard);
    console.log(JSON.stringify({ triples, lone }));`;
}

/** What one run saw: the triples sent, those read in one batch, and the lone round trips (ms). */
interface EchoRun {
  readonly sent: number;
  readonly together: number;
  readonly lone: number[];
}

/**
 * Echoes every datagram, with the size of the batch it came in as a fourth octet, through a batched
 * socket read by a reactor pausing up to `coalesceUs`.
 */
async function echoRun(coalesceUs: number): Promise<EchoRun> {
  const reactor = new UdpReactor({ coalesceUs, loopTurnMs: 1000 });
  const socket = listenBatchedUdp({ hostname: "127.0.0.1", port: 0, reactor });
  let together = 0;
  const serving = socket.serve((batch) => {
    let triple = 0;
    for (let i = 0; i < batch.count; i++) {
      const datagram = batch.datagram(i);
      if (datagram[0] === TRIPLE) triple++;
      batch.replyTo(i, Uint8Array.of(datagram[0]!, datagram[1]!, datagram[2]!, batch.count));
    }
    if (triple === 3) together++;
    if (batch.datagram(0)[0] === PRIMER) {
      const until = performance.now() + PRIMER_DWELL_MS;
      while (performance.now() < until); // the rest of the primer queues up meanwhile
    }
    return false;
  });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--unstable-net", clientScript(socket.addr.port)],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const { success, stdout } = await child.output();
    ok(success, "the client failed");
    const { triples, lone } = JSON.parse(new TextDecoder().decode(stdout)) as {
      triples: number;
      lone: number[];
    };
    return { sent: triples, together, lone };
  } finally {
    try {
      child.kill();
    } catch {
      // it has ended
    }
    socket.close();
    await serving;
    await reactor.close();
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

test(
  needsFfi("a busy reactor reads the datagrams of its pause together, and never holds a lone query", ["run"]),
  async () => {
    const pausing = await echoRun(PAUSE_US);
    const plain = await echoRun(0);
    for (const run of [pausing, plain]) {
      ok(
        run.sent >= ROUNDS / 2,
        `the primers led to a read of 2 or more before ${run.sent} of ${ROUNDS} triples`,
      );
    }
    // With the pause, each spaced triple arrives while the reactor pauses after the primer's read.
    ok(
      pausing.together >= pausing.sent * 0.8,
      `with a pause, ${pausing.together} of ${pausing.sent} triples read together`,
    );
    // Without it, each datagram of a triple wakes the reactor on its own.
    ok(
      plain.together < plain.sent / 2,
      `without a pause, ${plain.together} of ${plain.sent} triples read together`,
    );
    // A lone query after a lone query is answered at once, not after a pause (the first may land in one).
    const loneMs = median(pausing.lone.slice(2));
    ok(
      loneMs < PAUSE_US / 1000 / 2,
      `a lone query took ${loneMs.toFixed(2)} ms (median) with pauses of 50 ms`,
    );
    deepEqual(pausing.lone.length, 20);
  },
);
