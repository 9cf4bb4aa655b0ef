/**
 * The secondary's fault cases through the real path: `main.ts` as the secondary of a scripted primary
 * on loopback, its NOTIFY sent by the test from the primary's address. A transfer cut midway and a
 * transfer of another zone change nothing (the served copy and the file in --secondary-dir stay at
 * the old serial, and a WARNING says why); a good transfer afterwards is taken.
 * @module
 */
import assert from "node:assert/strict";
import {
  decodeMessage,
  encodeMessage,
  Opcode,
  query,
  type ResourceRecord,
  RRType,
} from "../../lib/proto/mod.ts";
import { type DnsdProcess, runningLine, spawnDnsd } from "../_dnsd_process.ts";
import { test } from "../_limit.ts";
import { freeUdpPort, queryBytes, udpAsk } from "../_udp_client.ts";
import { FakePrimary, type Script, zonePrimary, type ZonePrimaryState } from "./_fake_primary.ts";
import { answersTo, recordsOf, soaAt } from "./_xfr.ts";

const WAIT_MS = 15_000;

async function servedSerial(port: number): Promise<number | string> {
  const bytes = queryBytes("example.com", RRType.SOA, { recursionDesired: false });
  const answer = decodeMessage(await udpAsk({ transport: "udp", hostname: "127.0.0.1", port }, bytes));
  const soa = answer.answers.find((record) => record.data.type === "SOA");
  return soa?.data.type === "SOA" ? soa.data.serial : `rcode ${answer.rcode}`;
}

/** Sends the primary's NOTIFY for example.com from 127.0.0.1, so dnsd refreshes at once. */
async function notify(port: number): Promise<void> {
  const message = {
    ...query({ name: "example.com", type: RRType.SOA }, { id: 4321, recursionDesired: false }),
    opcode: Opcode.NOTIFY,
    authoritative: true,
  };
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    await socket.send(encodeMessage(message), { transport: "udp", hostname: "127.0.0.1", port });
  } finally {
    socket.close();
  }
}

async function copySerial(dir: string): Promise<number | null> {
  const text = await Deno.readTextFile(`${dir}/example.com.zone`).catch(() => null);
  const serial = text === null ? null : /\sSOA\s+\S+\s+\S+\s+(\d+)/.exec(text)?.[1];
  return serial === undefined || serial === null ? null : Number(serial);
}

/** The copy's serial once it is `serial` (it is written just after the zone is served), or what it is after a while. */
async function copyAt(dir: string, serial: number): Promise<number | null> {
  let found = await copySerial(dir);
  for (let tries = 0; tries < 50 && found !== serial; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    found = await copySerial(dir);
  }
  return found;
}

test({
  name: "xfr faults: a transfer cut midway, or of another zone, leaves dnsd's copy as it was",
  timeoutMs: 90_000,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "dnsd_xfr_faults_" });
    const v1 = await recordsOf("@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.10\n");
    const v2 = await recordsOf("@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.20\nnew A 192.0.2.21\n");
    const state: ZonePrimaryState = { serial: 1, versions: new Map([[1, v1], [2, v2]]), perMessage: 2 };
    const good = zonePrimary(state);
    const primary = new FakePrimary(good);
    const port = freeUdpPort();
    let dnsd: DnsdProcess | undefined;
    try {
      dnsd = spawnDnsd(
        [
          "--port",
          String(port),
          "--no-recursion",
          "--secondary",
          `example.com=127.0.0.1:${primary.addr.port}`,
          "--secondary-dir",
          dir,
        ],
        ["--allow-net", "--allow-read", "--allow-write", "--allow-env", "--allow-ffi"],
      );
      await dnsd.stderr.waitFor(runningLine(port), WAIT_MS);
      await dnsd.stderr.waitFor(/INFO - Zone example\.com serial 1 transferred/, WAIT_MS);
      assert.equal(await servedSerial(port), 1);
      assert.equal(await copyAt(dir, 1), 1);
      // A NOTIFY whose refresh fails: serial 1 stays served, and its copy stays on disk.
      const log = dnsd.stderr;
      const failedRefreshKeepsSerial1 = async () => {
        const from = log.seen.length;
        await notify(port);
        await log.waitFor(
          /WARNING - Refresh of zone example\.com from 127\.0\.0\.1:\d+ failed: /,
          WAIT_MS,
          from,
        );
        assert.equal(await servedSerial(port), 1);
        assert.equal(await copyAt(dir, 1), 1);
      };

      // Serial 2, but every transfer is cut after its first message.
      state.serial = 2;
      const cut: Script = async (request, wire) => {
        const scripted = await good(request, wire);
        if (request.questions[0]!.type === RRType.SOA) return scripted;
        return { messages: scripted.messages.slice(0, 1), cut: true };
      };
      primary.script = cut;
      await failedRefreshKeepsSerial1();

      // Serial 2 of another zone: SOA and records of example.net.
      const otherZone: ResourceRecord[] = [
        soaAt(2, "example.net"),
        ...await recordsOf("www A 192.0.2.99\n", "example.net"),
      ];
      primary.script = (request, wire) => {
        if (request.questions[0]!.type === RRType.SOA) return good(request, wire);
        return { messages: answersTo(request, [[...otherZone, otherZone[0]!]]) };
      };
      await failedRefreshKeepsSerial1();

      // The primary mended: serial 2 is taken, and written.
      primary.script = good;
      const from = dnsd.stderr.seen.length;
      await notify(port);
      await dnsd.stderr.waitFor(/INFO - Zone example\.com serial 2 transferred/, WAIT_MS, from);
      assert.equal(await servedSerial(port), 2);
      assert.equal(await copyAt(dir, 2), 2);
    } finally {
      await dnsd?.stop();
      await primary.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
