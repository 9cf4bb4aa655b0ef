/**
 * The explain and admin endpoints end to end, over HTTP (a `Deno.serve` of the test's own, as the
 * metrics port will mount them) in front of a server started as main.ts starts one (the config in
 * force, its reloader, `adminApiOf`): `POST /cache/flush` for one name and below, then all, with
 * answers asked again over UDP and TCP reaching the upstream; `POST /reload` applying a changed
 * zone and refusing a broken one with its file:line; `GET /explain` over HTTP and `dnsd explain`
 * from the command line; and the bearer token, or loopback only without one.
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { decodeMessage, encodeMessage } from "../../lib/proto/codec.ts";
import { query as makeQuery } from "../../lib/proto/message.ts";
import { type Message, RRType } from "../../lib/proto/types.ts";
import { liveConfigs, parseCommand, type ServeCommand } from "../../lib/config/mod.ts";
import type { LiveConfig } from "../../lib/config/mod.ts";
import { type AdminHandlers, adminRoute, type RunningServer, startServer } from "../../lib/server/mod.ts";
import { createReloader, type Reloader } from "../../lib/zone/mod.ts";
import { adminApiOf } from "../../main.ts";
import { startFakeUpstream } from "../_fake_upstream.ts";
import { openUdpClient } from "../_udp_client.ts";
import { connectTcp, WAIT_MS } from "../_tcp_client.ts";
import { runDnsd } from "../_dnsd_process.ts";

const ZONE = `$ORIGIN example.test.
$TTL 300
@    IN SOA ns.example.test. admin.example.test. 1 3600 600 86400 60
@    IN NS  ns
www  IN A   192.0.2.1
`;

type Transport = "udp" | "tcp";

async function ask(server: Deno.NetAddr, transport: Transport, name: string): Promise<Message> {
  const bytes = encodeMessage(makeQuery({ name, type: RRType.A }, { id: 0x2121 }));
  if (transport === "udp") {
    const client = openUdpClient(server);
    try {
      return decodeMessage(await client.ask(bytes));
    } finally {
      client.close();
    }
  }
  const client = await connectTcp(server);
  try {
    return decodeMessage(await client.ask(bytes, WAIT_MS));
  } finally {
    client.close();
  }
}

interface Setup {
  readonly dir: string;
  readonly server: RunningServer;
  readonly admin: AdminHandlers;
  /** The HTTP base URL, `http://127.0.0.1:PORT`. */
  readonly base: string;
  readonly port: number;
  readonly upstreamCount: (name: string) => number;
}

/** main.ts's start-up in small: the configuration in force, its reloader, the server, the handlers. */
async function withAdmin(extraArgs: readonly string[], fn: (setup: Setup) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dnsd-admin-" });
  const zone = `${dir}/example.test.zone`;
  await Deno.writeTextFile(zone, ZONE);
  const upstream = startFakeUpstream({
    "a.cached.example": { kind: "answer", address: "192.0.2.51" },
    "b.cached.example": { kind: "answer", address: "192.0.2.52" },
    "other.example": { kind: "answer", address: "192.0.2.53" },
  });
  const args = [
    "--zone",
    zone,
    "--upstream",
    `127.0.0.1:${upstream.address.port}`,
    "--port",
    "0",
    "--no-mappings",
    ...extraArgs,
  ];
  const command = parseCommand(args) as ServeCommand;
  const configs = liveConfigs({ args, builtinMappings: () => ({}) });
  const live = await configs.load(command);
  assert.deepEqual(live.errors, []);
  const reloader: Reloader<LiveConfig> = createReloader(
    live,
    (options) => configs.reload(reloader.state().command, options),
  );
  const server = startServer({
    ...command,
    listen: [{ hostname: "127.0.0.1", port: 0 }],
    udpIo: "deno",
    localData: reloader.current,
    blockPolicy: () => reloader.state().blocking,
    explainFiles: () => ({
      zones: reloader.state().command.zones,
      hosts: [],
      mappings: null,
      blocklists: [],
      allowlists: [],
    }),
  });
  const admin = adminApiOf(server, reloader);
  const http = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request, info) =>
      adminRoute(admin, request, info.remoteAddr) ?? new Response("not found\n", { status: 404 }),
  );
  const port = http.addr.port;
  try {
    await fn({
      dir,
      server,
      admin,
      base: `http://127.0.0.1:${port}`,
      port,
      upstreamCount: (name) => upstream.count("udp", name) + upstream.count("tcp", name),
    });
  } finally {
    await http.shutdown();
    await server.stop(0);
    await server.finished;
    await upstream.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** A request to the test's HTTP server, its status and JSON body. */
async function call(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, init);
  return { status: response.status, body: await response.json() };
}

test("POST /cache/flush?name= drops that name and below; asked again over UDP and TCP, it goes upstream", async () => {
  await withAdmin([], async ({ server, base, upstreamCount }) => {
    // Cached over TCP only: the UDP memo keeps no copy, so the UDP ask after the flush is a real miss.
    for (const name of ["a.cached.example", "b.cached.example", "other.example"]) {
      await ask(server.address, "tcp", name);
    }
    assert.equal(server.cache?.size, 3);

    const flushed = await call(`${base}/cache/flush?name=cached.example`, { method: "POST" });
    assert.deepEqual(flushed, { status: 200, body: { flushed: 2, name: "cached.example" } });
    assert.equal(server.cache?.size, 1);
    const gone = await call(`${base}/explain?name=a.cached.example`);
    assert.equal(gone.body.cache, null);
    const kept = await call(`${base}/explain?name=other.example`);
    assert.equal(kept.body.source, "cache");

    await ask(server.address, "tcp", "a.cached.example");
    await ask(server.address, "udp", "b.cached.example");
    assert.equal(upstreamCount("a.cached.example"), 2);
    assert.equal(upstreamCount("b.cached.example"), 2);
    assert.equal(upstreamCount("other.example"), 1);

    const all = await call(`${base}/cache/flush`, { method: "POST" });
    assert.deepEqual(all, { status: 200, body: { flushed: 3, name: null } });
    assert.equal(server.cache?.size, 0);
    await ask(server.address, "tcp", "other.example");
    assert.equal(upstreamCount("other.example"), 2);

    const bad = await call(`${base}/cache/flush?name=${"a".repeat(64)}.example`, { method: "POST" });
    assert.equal(bad.status, 400);
  });
});

test("POST /reload applies a changed zone and says so; a broken one is refused with its file:line", async () => {
  await withAdmin([], async ({ dir, server, base }) => {
    await Deno.writeTextFile(`${dir}/example.test.zone`, `${ZONE}new  IN A   192.0.2.9\n`);
    const applied = await call(`${base}/reload`, { method: "POST" });
    assert.equal(applied.status, 200);
    assert.equal(applied.body.reloaded, true);
    assert.equal(applied.body.records, 4);
    assert.deepEqual(applied.body.changed, ["local data"]);
    for (const transport of ["udp", "tcp"] as const) {
      const answer = await ask(server.address, transport, "new.example.test");
      assert.deepEqual(answer.answers.map((record) => record.data), [{ type: "A", address: "192.0.2.9" }]);
    }

    await Deno.writeTextFile(`${dir}/example.test.zone`, `${ZONE}broken IN A 999.0.0.1\n`);
    const refused = await call(`${base}/reload`, { method: "POST" });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.reloaded, false);
    const errors = refused.body.errors as string[];
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, new RegExp(`${dir}/example.test.zone:6`));
    // The running data stayed whole.
    const still = await call(`${base}/explain?name=new.example.test`);
    assert.equal(still.body.source, "local");
  });
});

test("GET /explain over HTTP, and dnsd explain from the command line, print the server's explanation", async () => {
  await withAdmin([], async ({ dir, server, base, port }) => {
    const http = await call(`${base}/explain?name=www.example.test&type=A`);
    assert.equal(http.status, 200);
    const local = http.body.local as { at: string; kind: string };
    assert.equal(local.kind, "zone");
    assert.equal(local.at, `${dir}/example.test.zone:5`);
    assert.deepEqual(
      http.body,
      JSON.parse(
        JSON.stringify(
          await server.explain({ name: "www.example.test", type: 1, client: "127.0.0.1", dnssecOk: false }),
        ),
      ),
    );
    const bad = await call(`${base}/explain?name=www.example.test&type=NOPE`);
    assert.deepEqual(bad, { status: 400, body: { error: 'type "NOPE" is not a record type' } });
    const post = await fetch(`${base}/explain?name=x`, { method: "POST" });
    await post.body?.cancel();
    assert.equal(post.status, 405);

    const cli = await runDnsd(["explain", "www.example.test", "A", "--metrics", `127.0.0.1:${port}`], [
      "--allow-net",
    ]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.deepEqual(JSON.parse(cli.stdout), http.body);

    const failed = await runDnsd(["explain", "www.example.test", "NOPE", "--metrics", `127.0.0.1:${port}`], [
      "--allow-net",
    ]);
    assert.equal(failed.code, 2);
    assert.equal(failed.stderr.trim(), 'dnsd: explain: "NOPE" is not a record type (see --help)');
  });
});

test("dnsd explain with no server listening says so in one line and exits 1", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const cli = await runDnsd(["explain", "example.com", "--metrics", `127.0.0.1:${port}`], ["--allow-net"]);
  assert.equal(cli.code, 1);
  const lines = cli.stderr.trim().split("\n");
  assert.equal(lines.length, 1, cli.stderr);
  assert.match(
    lines[0]!,
    /^dnsd: explain: cannot reach http:\/\/127\.0\.0\.1:\d+\/explain\?name=example\.com&type=A: /,
  );
});

test("with --admin-token the POST endpoints need the bearer token; GET /explain does not", async () => {
  await withAdmin(["--admin-token", "s3cret-token"], async ({ base }) => {
    const none = await call(`${base}/cache/flush`, { method: "POST" });
    assert.equal(none.status, 401);
    const wrong = await call(`${base}/reload`, {
      method: "POST",
      headers: { authorization: "Bearer s3cret-tokeN" },
    });
    assert.equal(wrong.status, 401);
    const right = await call(`${base}/cache/flush`, {
      method: "POST",
      headers: { authorization: "Bearer s3cret-token" },
    });
    assert.deepEqual(right, { status: 200, body: { flushed: 0, name: null } });
    const explained = await call(`${base}/explain?name=www.example.test`);
    assert.equal(explained.status, 200);
  });
});

test("without a token the POST endpoints serve loopback clients only, and only POST", async () => {
  await withAdmin([], async ({ admin }) => {
    const rows: readonly { client: string; method: string; status: number }[] = [
      { client: "127.0.0.1", method: "POST", status: 200 },
      { client: "::1", method: "POST", status: 200 },
      { client: "192.0.2.1", method: "POST", status: 403 },
      { client: "2001:db8::1", method: "POST", status: 403 },
      { client: "127.0.0.1", method: "GET", status: 405 },
    ];
    for (const { client, method, status } of rows) {
      const response = await admin.flush(new Request("http://dnsd/cache/flush", { method }), {
        hostname: client,
      });
      await response.body?.cancel();
      assert.equal(response.status, status, `${method} from ${client}`);
    }
  });
});
