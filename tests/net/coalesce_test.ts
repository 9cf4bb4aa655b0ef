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

/** Rounds of a pair, then a spaced triple, the client sends. */
const ROUNDS = 20;
/** Between the datagrams of a triple (ms): far longer than a wake-up, far shorter than the pause. */
const SPACING_MS = 2;
/** The pause under test (µs): long enough that a slow machine still sends the whole triple in it. */
const PAUSE_US = 25_000;
/** The longest the client runs (it takes about half a second). */
const CLIENT_LIMIT_MS = 20_000;

/**
 * The client: each round sends two datagrams at once and waits for both echoes, then three spaced
 * {@link SPACING_MS} apart and waits for their echoes; then 20 lone queries, each after the last
 * echo, timed. Prints the lone round trips (ms) as JSON; exits with 3 after {@link CLIENT_LIMIT_MS}.
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
    for (let round = 0; round < ${ROUNDS}; round++) {
      await conn.send(new Uint8Array([round, 0]), to);
      await conn.send(new Uint8Array([round, 1]), to);
      for (let i = 0; i < 2; i++) await conn.receive();
      for (let i = 0; i < 3; i++) {
        if (i > 0) spin(${SPACING_MS});
        await conn.send(new Uint8Array([round, 2 + i]), to);
      }
      for (let i = 0; i < 3; i++) await conn.receive();
    }
    const lone = [];
    for (let i = 0; i < 20; i++) {
      const asked = performance.now();
      await conn.send(new Uint8Array([255, i]), to);
      await conn.receive();
      lone.push(performance.now() - asked);
    }
    clearTimeout(guard);
    console.log(JSON.stringify(lone));`;
}

/** Echoes every datagram through a batched socket read by a reactor pausing up to `coalesceUs`. */
async function echoRun(coalesceUs: number): Promise<{ batches: number[]; lone: number[] }> {
  const reactor = new UdpReactor({ coalesceUs, loopTurnMs: 100 });
  const socket = listenBatchedUdp({ hostname: "127.0.0.1", port: 0, reactor });
  const batches: number[] = [];
  const serving = socket.serve((batch) => {
    batches.push(batch.count);
    for (let i = 0; i < batch.count; i++) batch.replyTo(i, batch.datagram(i).slice());
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
    return { batches, lone: JSON.parse(new TextDecoder().decode(stdout)) as number[] };
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
      equal(run.batches.reduce((sum, count) => sum + count, 0), 5 * ROUNDS + 20);
    }
    const triples = (run: { batches: number[] }) => run.batches.filter((count) => count === 3).length;
    // With the pause, each spaced triple arrives while the reactor pauses after the pair before it.
    ok(
      triples(pausing) >= ROUNDS / 2,
      `with a pause, ${triples(pausing)} of ${ROUNDS} triples read together`,
    );
    // Without it, each datagram of a triple wakes the reactor on its own.
    ok(triples(plain) < ROUNDS / 2, `without a pause, ${triples(plain)} of ${ROUNDS} triples read together`);
    // A lone query after a lone query is answered at once, not after a pause (the first may land in one).
    const loneMs = median(pausing.lone.slice(2));
    ok(
      loneMs < PAUSE_US / 1000 / 2,
      `a lone query took ${loneMs.toFixed(2)} ms (median) with pauses of 25 ms`,
    );
    deepEqual(pausing.lone.length, 20);
  },
);
