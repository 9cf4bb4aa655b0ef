/**
 * Secondaries against a scripted primary on 127.0.0.1, with a fake clock and fake timers so hours
 * of SOA timers pass in milliseconds: the first AXFR, refresh by IXFR, a transfer cut midway,
 * NOTIFY (from the primary, from anyone else, unsigned, for another zone), expiry, TSIG, and a
 * restart that serves the copy on disk while the primary is down.
 * @module
 */
import assert from "node:assert/strict";
import { NotAuthoritative, Opcode, query, Rcode, Refused, RRType } from "../../lib/proto/mod.ts";
import { parseTsigKey, type TsigKey, TsigKeyring, type TsigRecord } from "../../lib/tsig/mod.ts";
import { Secondaries, type SecondariesOptions, type SetTimer } from "../../lib/xfr/mod.ts";
import type { Zone } from "../../lib/zone/mod.ts";
import { test } from "../_limit.ts";
import { logged } from "../_log_capture.ts";
import { requestOf } from "../_request.ts";
import {
  FakePrimary,
  type Script,
  type Versions,
  zonePrimary,
  type ZonePrimaryState,
} from "./_fake_primary.ts";
import { recordsOf } from "./_xfr.ts";

const KEY = parseTsigKey("xfr.example:hmac-sha256:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0");
const OTHER_SECRET = parseTsigKey("xfr.example:hmac-sha256:b3RoZXJvdGhlcm90aGVyb3RoZXI=");
const OTHER_KEY = parseTsigKey("other.example:hmac-sha256:b3RoZXJvdGhlcm90aGVyb3RoZXI=");
const HOUR = 3600_000;

/** A clock and timers that move only when told. */
class FakeTime {
  now = 0;
  readonly #timers: { at: number; fn: () => void; live: boolean }[] = [];
  readonly clock = (): number => this.now;
  readonly setTimer: SetTimer = (fn, ms) => {
    const timer = { at: this.now + ms, fn, live: true };
    this.#timers.push(timer);
    return () => (timer.live = false);
  };

  /** The delays of the timers still to fire, from now, sorted. */
  pending(): number[] {
    return this.#timers.filter((t) => t.live).map((t) => t.at - this.now).sort((a, b) => a - b);
  }

  /** Moves to `ms` from now, firing each timer due on the way and letting what it starts settle. */
  async advance(ms: number, settle: () => Promise<void>): Promise<void> {
    const end = this.now + ms;
    while (true) {
      const next = this.#timers.filter((t) => t.live && t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.now = next.at;
      next.live = false;
      next.fn();
      await settle();
    }
    this.now = end;
  }
}

async function versions(): Promise<Versions> {
  const base = "@ NS ns1\nns1 A 192.0.2.53\nmail MX 10 mail\nmail A 192.0.2.25\n";
  return new Map([
    [1, await recordsOf(base + "www A 192.0.2.1")],
    [2, await recordsOf(base + "www A 192.0.2.2\nftp A 192.0.2.21")],
  ]);
}

interface Setup {
  readonly primary: FakePrimary;
  readonly state: ZonePrimaryState;
  readonly time: FakeTime;
  readonly loads: Zone[];
  readonly expired: string[];
  secondaries(extra?: Partial<SecondariesOptions> & { key?: TsigKey }): Secondaries;
}

/** Runs `fn` with a primary at serial 1 and a maker of Secondaries pointed at it; stops everything after. */
async function withSetup(
  fn: (setup: Setup) => Promise<void>,
  state: Partial<ZonePrimaryState> = {},
): Promise<void> {
  const zoneState: ZonePrimaryState = { serial: 1, versions: await versions(), perMessage: 2, ...state };
  const primary = new FakePrimary(zonePrimary(zoneState));
  const time = new FakeTime();
  const made: Secondaries[] = [];
  const loads: Zone[] = [];
  const expired: string[] = [];
  try {
    await fn({
      primary,
      state: zoneState,
      time,
      loads,
      expired,
      secondaries(extra = {}) {
        const { key, ...options } = extra;
        const secondaries = new Secondaries({
          zones: [{ zone: "example.com", primary: primary.addr, ...(key ? { key } : {}) }],
          dir: null,
          keyring: new TsigKeyring([]),
          clock: time.clock,
          setTimer: time.setTimer,
          onZone: (zone) => loads.push(zone),
          onExpire: (key) => expired.push(key),
          ...options,
        });
        made.push(secondaries);
        return secondaries;
      },
    });
  } finally {
    for (const secondaries of made) await secondaries.close();
    await primary.close();
  }
}

function serialOf(secondaries: Secondaries): number | undefined {
  return secondaries.zones().get("example.com")?.soa.data.serial;
}

test("Secondaries loads a zone by AXFR in several messages, serves it and logs one line", async () => {
  await withSetup(async ({ primary, time, loads, secondaries: make }) => {
    const secondaries = make();
    assert.equal(secondaries.servfail("www.example.com"), true, "SERVFAIL before the first copy");
    const lines = await logged(async () => {
      await secondaries.start();
      await secondaries.idle();
    });
    assert.deepEqual(primary.asked, ["AXFR"]);
    assert.equal(serialOf(secondaries), 1);
    assert.equal(loads.length, 1);
    assert.equal(loads[0]!.size, 6);
    assert.equal(secondaries.servfail("www.example.com"), false);
    assert.equal(secondaries.servfail("example.org"), false, "not a secondary zone");
    assert.deepEqual(lines.map((line) => line.trim().replace(/^.* - (\w+) - /, "$1 ")), [
      `INFO Zone example.com serial 1 transferred from 127.0.0.1:${primary.addr.port} (AXFR, 6 records)`,
    ]);
    assert.deepEqual(time.pending(), [HOUR, 24 * HOUR], "refresh after REFRESH, expiry after EXPIRE");
  });
});

test("Secondaries refreshes on its REFRESH timer: SOA, then IXFR only when the serial is newer", async () => {
  await withSetup(async ({ primary, state, time, secondaries: make }) => {
    const secondaries = make();
    await secondaries.start();
    await secondaries.idle();
    await time.advance(HOUR, () => secondaries.idle());
    assert.deepEqual(primary.asked, ["AXFR", "SOA"], "up to date: no transfer");
    state.serial = 2;
    await time.advance(HOUR, () => secondaries.idle());
    assert.deepEqual(primary.asked, ["AXFR", "SOA", "SOA", "IXFR 1"]);
    const zone = secondaries.zones().get("example.com")!;
    assert.equal(zone.soa.data.serial, 2);
    assert.ok(zone.nodes.has("ftp.example.com"));
    assert.equal(zone.size, 7);
  });
});

/** A script that answers SOA as `normal` does and cuts every transfer after its first message. */
function cutting(normal: Script): Script {
  return async (request, wire) => {
    const scripted = await normal(request, wire);
    if (request.questions[0]!.type === RRType.SOA) return scripted;
    return { messages: scripted.messages.slice(0, 1), cut: true };
  };
}

test("Secondaries keeps its zone when the primary cuts the IXFR and then the AXFR midway", async () => {
  await withSetup(async ({ primary, state, time, loads, secondaries: make }) => {
    const secondaries = make();
    await secondaries.start();
    await secondaries.idle();
    state.serial = 2;
    primary.script = cutting(zonePrimary(state));
    const lines = await logged(async () => {
      secondaries.refreshNow("example.com");
      await secondaries.idle();
    });
    assert.deepEqual(primary.asked, ["AXFR", "SOA", "IXFR 1", "AXFR"], "AXFR once after the IXFR failed");
    assert.equal(serialOf(secondaries), 1);
    assert.equal(loads.length, 1);
    assert.equal(lines.length, 2, lines.join("\n"));
    assert.match(lines[0]!, /WARNING - IXFR of zone example.com .* failed, trying AXFR/);
    assert.match(lines[1]!, /WARNING - Refresh of zone example.com .* failed: .*closed the connection/);
    assert.deepEqual(time.pending(), [10 * 60_000, 24 * HOUR], "retry after RETRY");
  });
});

function tsigRecord(key: TsigKey): TsigRecord {
  return {
    keyName: key.name,
    algorithm: key.algorithm,
    timeSigned: 0,
    fudge: 300,
    mac: new Uint8Array(32),
    originalId: 0,
    error: 0,
    other: new Uint8Array(0),
  };
}

function notifyFrom(address: string, zone = "example.com", signed?: TsigKey) {
  const message = query({ name: zone, type: RRType.SOA }, { opcode: Opcode.NOTIFY, authoritative: true });
  const request = requestOf(message, { client: { transport: "udp", hostname: address, port: 5300 } });
  return signed
    ? { ...request, tsig: { key: signed, record: tsigRecord(signed) } } // as the server's check leaves it
    : request;
}

test("Secondaries answers a NOTIFY from its primary and refreshes; refuses others", async () => {
  await withSetup(async ({ primary, state, secondaries: make }) => {
    const secondaries = make();
    await secondaries.start();
    await secondaries.idle();
    state.serial = 2;
    await assert.rejects(secondaries.notify(notifyFrom("127.0.0.2")), Refused);
    await assert.rejects(secondaries.notify(notifyFrom("127.0.0.1", "example.org")), NotAuthoritative);
    await secondaries.idle();
    assert.deepEqual(primary.asked, ["AXFR"], "nothing asked for a refused NOTIFY");
    const answer = await secondaries.notify(notifyFrom("::ffff:127.0.0.1"));
    assert.equal(answer.rcode, Rcode.NOERROR);
    assert.equal(answer.opcode, Opcode.NOTIFY);
    assert.equal(answer.authoritative, true);
    assert.deepEqual(answer.questions, [{ name: "example.com", type: RRType.SOA, class: 1 }]);
    await secondaries.idle();
    assert.deepEqual(primary.asked, ["AXFR", "SOA", "IXFR 1"]);
    assert.equal(serialOf(secondaries), 2);
  });
});

test("Secondaries queues one refresh for a NOTIFY that comes while a refresh runs", async () => {
  await withSetup(async ({ primary, state, secondaries: make }) => {
    const secondaries = make();
    await secondaries.start();
    await secondaries.idle();
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const normal = zonePrimary(state);
    primary.script = async (request, wire) => {
      await held;
      return normal(request, wire);
    };
    secondaries.refreshNow("example.com");
    state.serial = 2;
    await secondaries.notify(notifyFrom("127.0.0.1"));
    await secondaries.notify(notifyFrom("127.0.0.1"));
    release();
    await secondaries.idle();
    assert.deepEqual(primary.asked, ["AXFR", "SOA", "IXFR 1", "SOA"], "two NOTIFYs, one more refresh");
    assert.equal(serialOf(secondaries), 2);
  });
});

test("Secondaries wants a signed NOTIFY when keys are set, signed with the zone's key when it has one", async () => {
  await withSetup(async ({ primary, secondaries: make }) => {
    const secondaries = make({ key: KEY, keyring: new TsigKeyring([KEY, OTHER_KEY]) });
    await secondaries.start();
    await secondaries.idle();
    await assert.rejects(secondaries.notify(notifyFrom("127.0.0.1")), Refused);
    await assert.rejects(secondaries.notify(notifyFrom("127.0.0.1", "example.com", OTHER_KEY)), Refused);
    await secondaries.idle();
    assert.deepEqual(primary.asked, ["AXFR"]);
    await secondaries.notify(notifyFrom("127.0.0.1", "example.com", KEY));
    await secondaries.idle();
    assert.deepEqual(primary.asked, ["AXFR", "SOA"]);
  }, { key: KEY });
});

test("Secondaries signs its requests and refuses a primary that signs with another secret", async () => {
  await withSetup(async ({ secondaries: make }) => {
    const good = make({ key: KEY });
    await good.start();
    await good.idle();
    assert.equal(serialOf(good), 1);
  }, { key: KEY });
  await withSetup(async ({ primary, secondaries: make }) => {
    const bad = make({ key: KEY });
    await logged(async () => {
      await bad.start();
      await bad.idle();
    });
    assert.deepEqual(primary.asked, ["AXFR"]);
    assert.equal(bad.servfail("example.com"), true);
  }, { key: OTHER_SECRET });
});

test("Secondaries expires a zone after EXPIRE without contact, and serves it again after a transfer", async () => {
  await withSetup(async ({ primary, state, time, expired, secondaries: make }) => {
    const secondaries = make();
    await secondaries.start();
    await secondaries.idle();
    const normal = zonePrimary(state);
    // The SOA query is cut: every refresh fails at once.
    primary.script = (request, wire) =>
      request.questions[0]!.type === RRType.SOA ? cutNow() : normal(request, wire);
    const lines = await logged(() => time.advance(23 * HOUR, () => secondaries.idle()));
    // One line per failed try: the first at REFRESH (1 h), then one every RETRY (10 min) up to 23 h.
    assert.equal(lines.length, 22 * 6 + 1);
    assert.equal(secondaries.servfail("www.example.com"), false, "not yet expired");
    await logged(() => time.advance(HOUR, () => secondaries.idle()));
    assert.equal(secondaries.servfail("www.example.com"), true);
    assert.equal(secondaries.zones().size, 0);
    assert.deepEqual(expired, ["example.com"]);
    state.serial = 2;
    primary.script = normal;
    await time.advance(10 * 60_000, () => secondaries.idle());
    assert.equal(serialOf(secondaries), 2);
    assert.equal(secondaries.servfail("www.example.com"), false);
  });
});

test("Secondaries serves an expired zone again when the primary is back with the serial it holds", async () => {
  await withSetup(async ({ primary, state, time, expired, loads, secondaries: make }) => {
    const secondaries = make();
    await secondaries.start();
    await secondaries.idle();
    assert.equal(loads.length, 1);
    const normal = zonePrimary(state);
    primary.script = (request, wire) =>
      request.questions[0]!.type === RRType.SOA ? cutNow() : normal(request, wire);
    await logged(() => time.advance(24 * HOUR, () => secondaries.idle()));
    assert.deepEqual(expired, ["example.com"]);
    // Back, still at serial 1: no transfer is needed, but the server must have the zone again.
    primary.script = normal;
    const lines = await logged(() => time.advance(10 * 60_000, () => secondaries.idle()));
    assert.equal(secondaries.servfail("www.example.com"), false);
    assert.deepEqual(loads.map((zone) => zone.soa.data.serial), [1, 1]);
    assert.ok(lines.some((line) => /current at .* again: served again/.test(line)), lines.join("\n"));
  });
});

function cutNow() {
  return { messages: [], cut: true };
}

test("Secondaries writes its copy and, restarted with the primary down, serves it at once", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let port = 0;
    await withSetup(async ({ primary, secondaries: make }) => {
      port = primary.addr.port;
      const first = make({ dir });
      await first.start();
      await first.idle();
      assert.equal(serialOf(first), 1);
    });
    const time = new FakeTime();
    const loads: Zone[] = [];
    const restarted = new Secondaries({
      zones: [{ zone: "example.com", primary: { transport: "tcp", hostname: "127.0.0.1", port } }],
      dir,
      keyring: new TsigKeyring([]),
      clock: time.clock,
      setTimer: time.setTimer,
      onZone: (zone) => loads.push(zone),
    });
    try {
      const lines = await logged(async () => {
        await restarted.start();
        assert.equal(serialOf(restarted), 1, "served before the primary was asked");
        assert.equal(restarted.servfail("www.example.com"), false);
        await restarted.idle();
      });
      assert.equal(loads.length, 1);
      assert.equal(serialOf(restarted), 1, "still served with the primary down");
      assert.match(lines[0]!, /INFO - Zone example.com serial 1 loaded from .*example.com.zone/);
      assert.match(lines[1]!, /WARNING - Refresh of zone example.com .* failed/);
    } finally {
      await restarted.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

test("Secondaries falls back to AXFR when an IXFR diff deletes a record it does not hold", async () => {
  await withSetup(async ({ primary, state, secondaries: make }) => {
    const secondaries = make();
    await secondaries.start();
    await secondaries.idle();
    // The primary's idea of version 1 is not what it sent: its diff deletes a record never held.
    state.versions.set(1, [...state.versions.get(1)!, ...await recordsOf("ghost A 192.0.2.66")]);
    state.serial = 2;
    const lines = await logged(async () => {
      secondaries.refreshNow("example.com");
      await secondaries.idle();
    });
    assert.deepEqual(primary.asked, ["AXFR", "SOA", "IXFR 1", "AXFR"]);
    assert.equal(serialOf(secondaries), 2);
    assert.match(lines[0]!, /IXFR of zone example.com .* failed, trying AXFR: .*deletes a record not held/);
    assert.match(lines[1]!, /serial 2 transferred .* \(AXFR after IXFR, 7 records\)/);
  });
});
