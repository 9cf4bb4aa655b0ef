/**
 * Scaling out: three `main.ts` processes, each on its own port, behind dnsdist on 127.0.0.1 (see
 * the README, "More than one core"). Each backend reads its own hosts file, which maps
 * `whoami.test` to a different address, so every answer tells which backend gave it. The
 * backends' upstream is a socket that never answers: nothing here leaves the machine.
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { decodeMessage } from "../../lib/proto/codec.ts";
import { Rcode } from "../../lib/proto/types.ts";
import { type RunningDnsd, startDnsd, within } from "../_dnsd_process.ts";
import { type Dnsdist, startDnsdist } from "../_dnsdist.ts";
import { connectTcp, query } from "../_tcp_client.ts";
import { udpAsk } from "../_udp_client.ts";
import { needsTool } from "../_tools.ts";

const WHOAMI = "whoami.test";
/** The address each backend gives for {@link WHOAMI}, in backend order. */
const ADDRESSES = ["127.0.0.11", "127.0.0.12", "127.0.0.13"] as const;
const QUERIES = 30;
/** Health checks run every second and one failure marks a backend down: allow plenty more. */
const MARK_DOWN_MS = 10_000;
const EXIT_WAIT_MS = 10_000;
const REPLY_WAIT_MS = 3_000;

/** The single A address in a reply, after checking it is a NOERROR answer for `name`. */
function addressIn(reply: Uint8Array, name: string): string {
  const message = decodeMessage(reply);
  assert.equal(message.rcode, Rcode.NOERROR, `rcode ${message.rcode} for ${name}`);
  assert.equal(message.questions[0]?.name, name);
  assert.equal(message.answers.length, 1, `answers for ${name}: ${JSON.stringify(message.answers)}`);
  const data = message.answers[0]!.data;
  assert.ok(data.type === "A", `not an A record: ${data.type}`);
  return data.address;
}

/** Asks dnsdist `count` times over UDP, one query at a time; counts the answers by address. */
async function whoamiCounts(port: number, count: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const reply = await udpAsk(
      { transport: "udp", hostname: "127.0.0.1", port },
      query(WHOAMI, { id: i }),
      REPLY_WAIT_MS,
    );
    const address = addressIn(reply, WHOAMI);
    counts.set(address, (counts.get(address) ?? 0) + 1);
  }
  return counts;
}

/** Starts one dnsd per address, each answering {@link WHOAMI} from a hosts file of its own. */
async function startBackends(dir: string, upstream: number, started: RunningDnsd[]): Promise<void> {
  const results = await Promise.allSettled(ADDRESSES.map(async (address, i) => {
    const hosts = `${dir}/hosts${i + 1}`;
    await Deno.writeTextFile(hosts, `${address} ${WHOAMI}\n`);
    const dnsd = await startDnsd((port) => [
      "--port",
      String(port),
      "--upstream",
      `127.0.0.1:${upstream}`,
      "--timeout",
      "500",
      "--hosts",
      hosts,
    ]);
    started[i] = dnsd;
  }));
  const failed = results.find((result) => result.status === "rejected");
  if (failed) throw failed.reason;
}

test(
  needsTool("dnsdist", "dnsdist spreads queries over three dnsd processes and routes around a dead one"),
  async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "dnsd_dnsdist_" });
    // The backends' upstream: bound, never read, so nothing forwarded could ever be answered.
    const silent = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const backends: RunningDnsd[] = [];
    let dnsdist: Dnsdist | undefined;
    try {
      await startBackends(dir, (silent.addr as Deno.NetAddr).port, backends);
      dnsdist = await startDnsdist(
        dir,
        backends.map((dnsd, i) => ({ name: `dnsd${i + 1}`, port: dnsd.port })),
        { checkName: `${WHOAMI}.`, policy: "roundrobin" },
      );
      const port = dnsdist.port;

      await t.step(`${QUERIES} UDP queries reach every backend`, async () => {
        const counts = await whoamiCounts(port, QUERIES);
        assert.deepEqual([...counts.keys()].sort(), [...ADDRESSES], JSON.stringify([...counts]));
      });

      await t.step("a mapped name is answered over TCP through dnsdist", async () => {
        const client = await connectTcp({ transport: "tcp", hostname: "127.0.0.1", port });
        try {
          assert.equal(
            addressIn(await client.ask(query("example.com", { id: 0x7c7c })), "example.com"),
            "8.8.8.8",
          );
        } finally {
          client.close();
        }
      });

      await t.step("a backend stopped with SIGTERM is marked down and routed around", async () => {
        const dead = backends[1]!;
        dead.child.kill("SIGTERM");
        const status = await within(dead.child.status, EXIT_WAIT_MS, () => "dnsd2 did not exit on SIGTERM");
        assert.equal(status.code, 0);
        await dnsdist!.waitForState("dnsd2", "down", MARK_DOWN_MS);
        const counts = await whoamiCounts(port, QUERIES);
        assert.deepEqual(
          [...counts.keys()].sort(),
          [ADDRESSES[0], ADDRESSES[2]],
          `answers after dnsd2 stopped: ${JSON.stringify([...counts])}`,
        );
      });
    } finally {
      await dnsdist?.stop();
      for (const dnsd of backends) await dnsd?.stop();
      silent.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
