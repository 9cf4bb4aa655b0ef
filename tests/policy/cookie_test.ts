/**
 * DNS cookies, pure: the server cookies of RFC 9018's appendix A (made and checked), validity in
 * time and across secrets, the option lengths RFC 7873 section 5.2.2 allows, finding the option in
 * real query bytes, adding it to a response's OPT record, and the answers sent at once (FORMERR,
 * BADCOOKIE with its extended rcode, TC).
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, ok } from "node:assert/strict";
import {
  BADCOOKIE,
  cookieLengthValid,
  type CookieOptions,
  CookieStatus,
  findCookie,
  serverCookie,
  ServerCookies,
  serverCookieValid,
  withOption,
} from "../../lib/policy/mod.ts";
import {
  decodeMessage,
  encodeMessage,
  type Message,
  parseIPv4,
  parseIPv6,
  Rcode,
  RRType,
} from "../../lib/proto/mod.ts";
import { parseHex } from "../_hex.ts";
import { query } from "../_tcp_client.ts";

const SECRET = parseHex("e5e973e5a6b2a43f48e7dc849e37bfcf");
const OTHER = parseHex("dd3bdf9344b678b185a6f5cb60fca715");

/** RFC 9018 appendix A: client cookie, address, timestamp, secret, and the server cookie. */
const VECTORS: readonly {
  name: string;
  client: string;
  address: string;
  time: number;
  secret: Uint8Array;
  cookie: string;
}[] = [
  {
    name: "A.1 learning a new server cookie",
    client: "2464c4abcf10c957",
    address: "198.51.100.100",
    time: 1559731985,
    secret: SECRET,
    cookie: "010000005cf79f111f8130c3eee29480",
  },
  {
    name: "A.2 the same client learning a renewed cookie",
    client: "2464c4abcf10c957",
    address: "198.51.100.100",
    time: 1559734385,
    secret: SECRET,
    cookie: "010000005cf7a871d4a564a1442aca77",
  },
  {
    name: "A.3 another client learning a renewed cookie",
    client: "fc93fc62807ddb86",
    address: "203.0.113.203",
    time: 1559734700,
    secret: SECRET,
    cookie: "010000005cf7a9acf73a7810aca2381e",
  },
  {
    name: "A.4 IPv6 query with a rolled-over secret",
    client: "22681ab97d52c298",
    address: "2001:db8:220:1:59de:d0f4:8769:82b8",
    time: 1559741817,
    secret: OTHER,
    cookie: "010000005cf7c57926556bd0934c72f8",
  },
];

function octets(address: string): Uint8Array {
  return (address.includes(":") ? parseIPv6(address) : parseIPv4(address))!;
}

for (const vector of VECTORS) {
  test(`RFC 9018 ${vector.name}`, () => {
    const client = parseHex(vector.client);
    const address = octets(vector.address);
    deepEqual(serverCookie(client, address, vector.time, vector.secret), parseHex(vector.cookie));
    const cookie = parseHex(vector.cookie);
    ok(serverCookieValid(client, cookie, address, vector.time + 10, [vector.secret]));
    // The previous secret still listed after the new one: accepted.
    ok(serverCookieValid(client, cookie, address, vector.time + 10, [new Uint8Array(16), vector.secret]));
  });
}

const [A1] = VECTORS;
const VALIDITY: readonly { name: string; now: number; client?: string; address?: string; valid: boolean }[] =
  [
    { name: "fresh", now: A1!.time, valid: true },
    { name: "59 minutes old", now: A1!.time + 3540, valid: true },
    { name: "61 minutes old", now: A1!.time + 3660, valid: false },
    { name: "4 minutes in the future", now: A1!.time - 240, valid: true },
    { name: "6 minutes in the future", now: A1!.time - 360, valid: false },
    { name: "another client cookie", now: A1!.time, client: "2464c4abcf10c958", valid: false },
    { name: "another address", now: A1!.time, address: "198.51.100.101", valid: false },
  ];

for (const { name, now, client, address, valid } of VALIDITY) {
  test(`server cookie validity: ${name}`, () => {
    equal(
      serverCookieValid(
        parseHex(client ?? A1!.client),
        parseHex(A1!.cookie),
        octets(address ?? A1!.address),
        now,
        [SECRET],
      ),
      valid,
    );
  });
}

const LENGTHS: readonly [number, boolean][] = [
  [0, false],
  [7, false],
  [8, true],
  [9, false],
  [15, false],
  [16, true],
  [24, true],
  [40, true],
  [41, false],
];
for (const [length, valid] of LENGTHS) {
  test(`a COOKIE option of ${length} octets is ${valid ? "well formed" : "malformed"}`, () => {
    equal(cookieLengthValid(length), valid);
  });
}

/** A query for `name` with EDNS and a COOKIE option of these octets (hex). */
function cookieQuery(cookie: string, name = "example.com"): Uint8Array {
  return query(name, { id: 0x2a2a, edns: { options: [{ code: 10, data: parseHex(cookie) }] } });
}

test("findCookie finds the option in a query's bytes, and nothing in one without", () => {
  const bytes = cookieQuery("2464c4abcf10c957");
  const span = findCookie(bytes);
  ok(span);
  equal(span.length, 8);
  deepEqual(bytes.subarray(span.at, span.at + 8), parseHex("2464c4abcf10c957"));
  equal(findCookie(query("example.com")), null);
  equal(findCookie(query("example.com", { edns: {} })), null);
});

test("withOption adds the option to the OPT record, or an OPT record where there is none", () => {
  const option = parseHex("000a 0008 2464c4abcf10c957");
  const withEdns = decodeMessage(withOption(query("example.com", { edns: {} }), option));
  deepEqual(withEdns.edns?.options, [{ code: 10, data: parseHex("2464c4abcf10c957") }]);
  const without = decodeMessage(withOption(query("example.com"), option, 1));
  deepEqual(without.edns?.options, [{ code: 10, data: parseHex("2464c4abcf10c957") }]);
  equal(without.additionals.length, 0);
});

function cookies(options: Partial<CookieOptions> = {}, time = A1!.time * 1000) {
  return new ServerCookies({ secrets: [SECRET], require: false, ...options }, () => time);
}
const CLIENT: Deno.NetAddr = { transport: "udp", hostname: "198.51.100.100", port: 5300 };

const EARLY: readonly {
  name: string;
  cookie: string | null;
  require: boolean;
  udp: boolean;
  status: number | null;
  rcode: number | null;
  truncated?: boolean;
}[] = [
  { name: "no cookie", cookie: null, require: false, udp: true, status: null, rcode: null },
  {
    name: "client cookie only",
    cookie: A1!.client,
    require: false,
    udp: true,
    status: CookieStatus.INVALID,
    rcode: null,
  },
  {
    name: "valid",
    cookie: A1!.client + A1!.cookie,
    require: true,
    udp: true,
    status: CookieStatus.VALID,
    rcode: null,
  },
  {
    name: "malformed (7 octets)",
    cookie: "2464c4abcf10c9",
    require: false,
    udp: true,
    status: 3,
    rcode: Rcode.FORMERR,
  },
  {
    name: "malformed over TCP",
    cookie: "2464c4abcf10c9",
    require: false,
    udp: false,
    status: 3,
    rcode: Rcode.FORMERR,
  },
  {
    name: "required, client cookie only",
    cookie: A1!.client,
    require: true,
    udp: true,
    status: CookieStatus.INVALID,
    rcode: BADCOOKIE,
  },
  {
    name: "required, bad server cookie",
    cookie: A1!.client + "010000005cf79f111f8130c3eee29481",
    require: true,
    udp: true,
    status: CookieStatus.INVALID,
    rcode: BADCOOKIE,
  },
  {
    name: "required, no cookie: TC",
    cookie: null,
    require: true,
    udp: true,
    status: null,
    rcode: 0,
    truncated: true,
  },
  { name: "required, over TCP", cookie: A1!.client, require: true, udp: false, status: 2, rcode: null },
];

for (const { name, cookie, require, udp, status, rcode, truncated } of EARLY) {
  test(`server cookies at once: ${name}`, () => {
    const jar = cookies({ require });
    const bytes = cookie === null ? query("example.com", { id: 0x2a2a, edns: {} }) : cookieQuery(cookie);
    const check = jar.inspect(bytes, CLIENT);
    equal(check?.status ?? null, status);
    const early = jar.early(bytes, check, udp);
    if (rcode === null) return equal(early, null);
    ok(early);
    const message = decodeMessage(early);
    equal(message.id, 0x2a2a);
    equal(message.response, true);
    equal(message.rcode, rcode);
    equal(message.truncated, truncated ?? false);
    equal(message.answers.length, 0);
    if (rcode !== Rcode.FORMERR) deepEqual(message.questions.map((q) => q.name), ["example.com"]);
    // The query had EDNS (its COOKIE came in it): so has every answer to it (RFC 6891 section 7).
    if (rcode === Rcode.FORMERR) deepEqual(message.edns?.options, []);
    if (rcode === BADCOOKIE) {
      const option = message.edns?.options.find((o) => o.code === 10);
      ok(option);
      equal(option.data.length, 24);
      deepEqual(option.data.subarray(0, 8), parseHex(A1!.client));
      deepEqual(option.data.subarray(8), parseHex(A1!.cookie), "the fresh cookie for this time");
    }
  });
}

test("server cookies at once: a response (QR=1) gets nothing, whatever its cookie", () => {
  // Found by deno task fuzz:wire (seed 20261206): a response with a malformed COOKIE got FORMERR.
  for (const require of [false, true]) {
    const jar = cookies({ require });
    for (const cookie of ["2464c4abcf10c9", A1!.client, null]) {
      const bytes = cookie === null ? query("example.com", { id: 0x2a2a, edns: {} }) : cookieQuery(cookie);
      bytes[2] = bytes[2]! | 0x80; // QR
      equal(jar.early(bytes, jar.inspect(bytes, CLIENT), true), null, `${cookie} require=${require}`);
    }
  }
});

test("a stamped response carries the client cookie and a fresh server cookie that checks", () => {
  const jar = cookies();
  const bytes = cookieQuery(A1!.client);
  const check = jar.inspect(bytes, CLIENT)!;
  const stamped = decodeMessage(jar.stamp(query("example.com", { edns: {} }), check));
  const option = stamped.edns!.options.find((o) => o.code === 10)!;
  deepEqual(option.data, parseHex(A1!.client + A1!.cookie));
  // The client sends it back: valid.
  equal(jar.inspect(cookieQuery(A1!.client + A1!.cookie), CLIENT)?.status, CookieStatus.VALID);
  // From another address: not valid.
  const elsewhere = { ...CLIENT, hostname: "198.51.100.7" };
  equal(jar.inspect(cookieQuery(A1!.client + A1!.cookie), elsewhere)?.status, CookieStatus.INVALID);
});

test("a drawn secret is replaced after a day, and the one before it still accepted", () => {
  let time = A1!.time * 1000;
  let draws = 0;
  const jar = new ServerCookies(
    { secrets: [], require: false },
    () => time,
    (octets) => octets.fill(++draws),
  );
  const check = jar.inspect(cookieQuery(A1!.client), CLIENT)!;
  const first = decodeMessage(jar.stamp(query("example.com", { edns: {} }), check)).edns!.options[0]!.data;
  const hex = Array.from(first).map((b) => b.toString(16).padStart(2, "0")).join("");
  time += 24 * 3600 * 1000 + 1000; // a day later: the cookie itself is stale then, so check the secrets directly
  equal(jar.inspect(cookieQuery(hex), CLIENT)?.status, CookieStatus.INVALID);
  equal(draws, 2, "a new secret was drawn");
  const ts = Math.floor(time / 1000);
  const old = serverCookie(parseHex(A1!.client), octets(A1!.address), ts, new Uint8Array(16).fill(1));
  const made = Array.from(old).map((b) => b.toString(16).padStart(2, "0")).join("");
  equal(
    jar.inspect(cookieQuery(A1!.client + made), CLIENT)?.status,
    CookieStatus.VALID,
    "the previous secret",
  );
});

test("over UDP, an answer the cookie would push past the client's size goes truncated, with the cookie", () => {
  const jar = cookies();
  const asked = query("example.com", { id: 7, type: RRType.TXT, edns: { udpPayloadSize: 512, options: [] } });
  const check = jar.inspect(cookieQuery(A1!.client), CLIENT)!;
  equal(check.udpLimit, 1232);
  const small = jar.inspect(
    query("example.com", {
      edns: { udpPayloadSize: 512, options: [{ code: 10, data: parseHex(A1!.client) }] },
    }),
    CLIENT,
  )!;
  equal(small.udpLimit, 512);
  const request = decodeMessage(asked);
  const response = encodeMessage({
    ...request,
    response: true,
    // 490 octets or so: within 512 alone, past it with the 28-octet option.
    answers: [{
      name: "example.com",
      class: 1,
      ttl: 60,
      data: { type: "TXT", strings: [new Uint8Array(200), new Uint8Array(235)] },
    }],
    edns: { udpPayloadSize: 1232, version: 0, dnssecOk: false, flags: 0, options: [] },
  });
  ok(response.length <= 512 && response.length + 28 > 512, `${response.length} octets`);
  const udp = decodeMessage(jar.stamp(response, small, true));
  equal(udp.truncated, true);
  equal(udp.answers.length, 0);
  equal(cookieOf(udp)?.length, 24);
  const tcp = decodeMessage(jar.stamp(response, small));
  equal(tcp.truncated, false);
  equal(tcp.answers.length, 1);
  equal(cookieOf(tcp)?.length, 24);
});

function cookieOf(message: Message): Uint8Array | undefined {
  return message.edns?.options.find((option) => option.code === 10)?.data;
}
