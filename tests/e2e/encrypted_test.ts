/**
 * DoT and DoH as clients see them, in a subprocess with certificates openssl makes for the test
 * (a CA and leaves for 127.0.0.1, localhost and dns.test): kdig over TLS and over HTTPS (HTTP/2),
 * curl's GET and POST over HTTP/2 and HTTP/1.1, padded answers, the query log told `tls` and
 * `https`, the HTTP statuses for requests that carry no query, a client stalled mid-handshake
 * and a huge body while others are served, and the certificate reloaded on SIGHUP and on a file
 * change, a bad one kept out.
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import {
  DNSD_PERMISSIONS,
  PROCESS_TIMEOUT_MS,
  type RunningDnsd,
  STAMP,
  startDnsd,
} from "../_dnsd_process.ts";
import { freeUdpPort } from "../_udp_client.ts";
import { runCommand, runTool } from "../_tools.ts";
import { needsTools } from "../_nsd.ts";
import { hex } from "../_hex.ts";
import { decodeMessage } from "../../lib/proto/codec.ts";

const TOOLS = ["openssl", "kdig", "curl"];
const WAIT_MS = 10_000;

/** A CA, and leaves it signs for `names` (each: a key and a certificate file) in `dir`. */
async function makeCertificates(dir: string): Promise<void> {
  const openssl = (args: string[]) => runTool("openssl", args, WAIT_MS);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  await openssl([
    "req",
    "-x509",
    ...ec,
    "-keyout",
    `${dir}/ca.key`,
    "-out",
    `${dir}/ca.pem`,
    "-days",
    "2",
    "-subj",
    "/CN=dnsd test CA",
  ]);
  const leaves = { leaf: "DNS:dns.test", other: "DNS:other.test" };
  for (const [name, extra] of Object.entries(leaves)) {
    await openssl([
      "req",
      ...ec,
      "-keyout",
      `${dir}/${name}.key`,
      "-out",
      `${dir}/${name}.csr`,
      "-subj",
      `/CN=${name}`,
    ]);
    await Deno.writeTextFile(
      `${dir}/${name}.ext`,
      `subjectAltName=IP:127.0.0.1,DNS:localhost,${extra}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`,
    );
    await openssl([
      "x509",
      "-req",
      "-in",
      `${dir}/${name}.csr`,
      "-CA",
      `${dir}/ca.pem`,
      "-CAkey",
      `${dir}/ca.key`,
      "-CAcreateserial",
      "-out",
      `${dir}/${name}.pem`,
      "-days",
      "2",
      "-extfile",
      `${dir}/${name}.ext`,
    ]);
  }
  await Deno.copyFile(`${dir}/leaf.pem`, `${dir}/cert.pem`);
  await Deno.copyFile(`${dir}/leaf.key`, `${dir}/key.pem`);
}

// localhost A, ID 0xabcd, RD, with EDNS and an empty Padding option (RFC 7830).
const QUERY = hex`
  abcd 0100 0001 0000 0000 0001
  09 6c6f63616c686f7374 00 0001 0001
  00 0029 04d0 00000000 0004 000c 0000
`;
const QUERY_B64 = btoa(String.fromCharCode(...QUERY)).replaceAll("+", "-").replaceAll("/", "_").replace(
  /=+$/,
  "",
);

interface Curled {
  readonly version: string;
  readonly status: number;
  readonly headers: string;
  readonly body: Uint8Array;
}

/** Runs curl against dnsd's DoH port with `args`, saving the body and headers in `dir`. */
async function curl(dir: string, port: number, args: readonly string[], name = "dns.test"): Promise<Curled> {
  const { code, stdout, stderr } = await runCommand("curl", [
    "-s",
    "--max-time",
    "8",
    "--cacert",
    `${dir}/ca.pem`,
    "--resolve",
    `${name}:${port}:127.0.0.1`,
    "-D",
    `${dir}/headers`,
    "-o",
    `${dir}/body`,
    "-w",
    "%{http_version} %{http_code}",
    ...args,
  ], { ms: WAIT_MS });
  const [version = "", status = "0"] = stdout.trim().split(" ");
  if (code !== 0 && status === "000") throw new Error(`curl ${args.join(" ")} exited ${code}: ${stderr}`);
  return {
    version,
    status: Number(status),
    headers: await Deno.readTextFile(`${dir}/headers`),
    body: await Deno.readFile(`${dir}/body`).catch(() => new Uint8Array(0)),
  };
}

function kdig(dir: string, port: number, args: readonly string[], name = "dns.test"): Promise<string> {
  return runTool("kdig", [
    "@127.0.0.1",
    "-p",
    String(port),
    `+tls-ca=${dir}/ca.pem`,
    `+tls-hostname=${name}`,
    "+timeout=3",
    "+retry=0",
    ...args,
    "localhost",
    "A",
  ], WAIT_MS);
}

async function withDnsd(fn: (dnsd: RunningDnsd, dir: string, tls: number, https: number) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "dnsd_encrypted_" });
  let dnsd: RunningDnsd | undefined;
  try {
    await makeCertificates(dir);
    const tls = freeUdpPort();
    const https = freeUdpPort();
    dnsd = await startDnsd((port) => [
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--upstream",
      "127.0.0.1:9",
      "--tls-port",
      String(tls),
      "--https-port",
      String(https),
      "--tls-cert",
      `${dir}/cert.pem`,
      "--tls-key",
      `${dir}/key.pem`,
      "--tcp-idle-timeout",
      "1000",
      "--reload-settle",
      "300",
      "--query-log",
      `${dir}/queries.log`,
    ], [...DNSD_PERMISSIONS, "--allow-write"]);
    await dnsd.stderr.waitFor(
      new RegExp(`^${STAMP} - INFO - DNS over TLS on 127\\.0\\.0\\.1:${tls}$`),
      WAIT_MS,
    );
    await dnsd.stderr.waitFor(
      new RegExp(`^${STAMP} - INFO - DNS over HTTPS on https://127\\.0\\.0\\.1:${https}/dns-query$`),
      WAIT_MS,
    );
    await fn(dnsd, dir, tls, https);
  } finally {
    await dnsd?.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

test({
  ...needsTools(TOOLS, "dnsd answers kdig over TLS and HTTPS and curl over HTTP/2 and HTTP/1.1, padded"),
  timeoutMs: PROCESS_TIMEOUT_MS * 3,
  fn: () =>
    withDnsd(async (_dnsd, dir, tls, https) => {
      const overTls = await kdig(dir, tls, ["+tls", "+padding"]);
      assert.match(overTls, /localhost\.\s+\d+\s+IN\s+A\s+127\.0\.0\.1/);
      assert.match(overTls, /PADDING: \d+ B/);
      assert.match(overTls, /Received 468 B/); // RFC 8467: one block
      const overHttps = await kdig(dir, https, ["+https"]);
      assert.match(overHttps, /HTTP\/2-POST/);
      assert.match(overHttps, /127\.0\.0\.1/);
      const overGet = await kdig(dir, https, ["+https", "+https-get"]);
      assert.match(overGet, /HTTP\/2-GET/);
      const url = `https://dns.test:${https}/dns-query`;
      const post = ["-H", "content-type: application/dns-message", "--data-binary", `@${dir}/query`, url];
      await Deno.writeFile(`${dir}/query`, QUERY);
      for (const [flag, version] of [["--http2", "2"], ["--http1.1", "1.1"]]) {
        for (const args of [[`${url}?dns=${QUERY_B64}`], post]) {
          const got = await curl(dir, https, [flag!, ...args]);
          assert.equal(got.version, version);
          assert.equal(got.status, 200);
          assert.match(got.headers, /content-type: application\/dns-message/i);
          const answer = decodeMessage(got.body);
          assert.equal(answer.id, 0xabcd); // echoed, whatever it is
          assert.equal(got.body.length, 468); // padded: the query asked
          assert.match(got.headers, new RegExp(`cache-control: max-age=${answer.answers[0]!.ttl}`, "i"));
        }
      }
      // The query log sees both transports.
      const log = await Deno.readTextFile(`${dir}/queries.log`).catch(() => "");
      for (const protocol of ["tls", "https"]) assert.match(log, new RegExp(`"protocol":"${protocol}"`));
    }),
});

test({
  ...needsTools(TOOLS, "dnsd answers DoH requests that carry no query with 404, 405, 400, 415 and 413"),
  timeoutMs: PROCESS_TIMEOUT_MS * 3,
  fn: () =>
    withDnsd(async (_dnsd, dir, tls, https) => {
      const base = `https://dns.test:${https}`;
      await Deno.writeFile(`${dir}/query`, QUERY);
      await Deno.writeFile(`${dir}/big`, new Uint8Array(65_536));
      const cases: [string, string[], number][] = [
        ["another path", [`${base}/other?dns=${QUERY_B64}`], 404],
        ["PUT", ["-X", "PUT", "--data-binary", `@${dir}/query`, `${base}/dns-query`], 405],
        ["GET without dns", [`${base}/dns-query`], 400],
        ["malformed base64url", [`${base}/dns-query?dns=${QUERY_B64}==`], 400],
        ["text/plain", [
          "-H",
          "content-type: text/plain",
          "--data-binary",
          `@${dir}/query`,
          `${base}/dns-query`,
        ], 415],
        ["65,536 octets", [
          "-H",
          "content-type: application/dns-message",
          "--data-binary",
          `@${dir}/big`,
          `${base}/dns-query`,
        ], 413],
      ];
      for (const [name, args, status] of cases) {
        for (const flag of ["--http2", "--http1.1"]) {
          assert.equal((await curl(dir, https, [flag, ...args])).status, status, `${name} ${flag}`);
        }
      }
      // HEAD: 405 with no body, which over HTTP/2 a client must get without a stream error.
      for (const flag of ["--http2", "--http1.1"]) {
        const head = await runCommand("curl", [
          "-s",
          "-I",
          flag,
          "--max-time",
          "8",
          "--cacert",
          `${dir}/ca.pem`,
          "--resolve",
          `dns.test:${https}:127.0.0.1`,
          "-o",
          "/dev/null",
          "-w",
          "%{http_code}",
          `${base}/dns-query`,
        ], { ms: WAIT_MS });
        assert.deepEqual([head.code, head.stdout.trim()], [0, "405"], `HEAD ${flag}: ${head.stderr}`);
      }
      // A 16 MiB body, chunked, with no length said: refused once past 65,535 octets.
      const huge = await runCommand("sh", [
        "-c",
        `head -c 16777216 /dev/zero | curl -s --http1.1 --max-time 8 --cacert ${dir}/ca.pem ` +
        `--resolve dns.test:${https}:127.0.0.1 -H 'content-type: application/dns-message' ` +
        `-H 'transfer-encoding: chunked' --data-binary @- -o /dev/null -w '%{http_code}' ${base}/dns-query`,
      ], { ms: WAIT_MS });
      assert.equal(huge.stdout, "413");
      // Still serving both.
      assert.match(await kdig(dir, tls, ["+tls"]), /127\.0\.0\.1/);
      assert.match(await kdig(dir, https, ["+https"]), /127\.0\.0\.1/);
    }),
});

test({
  ...needsTools(TOOLS, "dnsd serves others while a client stalls mid-handshake on DoT and DoH"),
  timeoutMs: PROCESS_TIMEOUT_MS * 3,
  fn: () =>
    withDnsd(async (dnsd, dir, tls, https) => {
      const stalled: Deno.Conn[] = [];
      try {
        for (const port of [tls, https]) {
          const conn = await Deno.connect({ hostname: "127.0.0.1", port });
          stalled.push(conn);
          await conn.write(hex`16 0301 00c8 01`); // a ClientHello's first octets, and no more
        }
        assert.match(await kdig(dir, tls, ["+tls"]), /127\.0\.0\.1/);
        assert.match(await kdig(dir, https, ["+https"]), /127\.0\.0\.1/);
        // Past the idle timeout (1 s) dnsd has cut both stalled connections, sockets and all (the
        // clients read the end of the stream: DoT at its idle close, DoH by the sweep of idle
        // sockets), and still serves.
        for (const [index, name] of ["DoT", "DoH"].entries()) {
          const ended = await Promise.race([
            stalled[index]!.read(new Uint8Array(64)).catch(() => null),
            new Promise<"open">((resolve) => setTimeout(() => resolve("open"), 4_000)),
          ]);
          assert.equal(ended, null, `the stalled ${name} client's socket is still open`);
        }
        assert.match(await kdig(dir, tls, ["+tls"]), /127\.0\.0\.1/);
        assert.equal(dnsd.exited(), false);
      } finally {
        for (const conn of stalled) conn.close();
      }
    }),
});

test({
  ...needsTools(TOOLS, "dnsd reloads its certificate on SIGHUP and on a file change, and keeps it when bad"),
  timeoutMs: PROCESS_TIMEOUT_MS * 3,
  fn: () =>
    withDnsd(async (dnsd, dir, tls, https) => {
      const reloaded = new RegExp(`^${STAMP} - INFO - Serving DoT and DoH with the certificate in `);
      const kept = new RegExp(`^${STAMP} - ERROR - Cannot use --tls-cert .* keeping the certificate in use$`);
      // other.test is only in the second leaf: kdig and curl check the name.
      await assert.rejects(kdig(dir, tls, ["+tls"], "other.test"));
      // A bad certificate: logged, the old one still in use.
      let from = dnsd.stderr.seen.length;
      await Deno.writeTextFile(`${dir}/cert.pem`, "not a certificate\n");
      dnsd.child.kill("SIGHUP");
      await dnsd.stderr.waitFor(kept, WAIT_MS, from);
      assert.match(await kdig(dir, tls, ["+tls"]), /127\.0\.0\.1/);
      assert.match(await kdig(dir, https, ["+https"]), /127\.0\.0\.1/);
      // A good pair on SIGHUP: new connections get it.
      from = dnsd.stderr.seen.length;
      await Deno.copyFile(`${dir}/other.key`, `${dir}/key.pem`);
      await Deno.copyFile(`${dir}/other.pem`, `${dir}/cert.pem`);
      dnsd.child.kill("SIGHUP");
      await dnsd.stderr.waitFor(reloaded, WAIT_MS, from);
      assert.match(await kdig(dir, tls, ["+tls"], "other.test"), /127\.0\.0\.1/);
      assert.match(await kdig(dir, https, ["+https"], "other.test"), /127\.0\.0\.1/);
      const viaCurl = await curl(
        dir,
        https,
        [`https://other.test:${https}/dns-query?dns=${QUERY_B64}`],
        "other.test",
      );
      assert.equal(viaCurl.status, 200);
      // The first pair again, by a file change alone.
      from = dnsd.stderr.seen.length;
      await Deno.copyFile(`${dir}/leaf.key`, `${dir}/key.pem`);
      await Deno.copyFile(`${dir}/leaf.pem`, `${dir}/cert.pem`);
      await dnsd.stderr.waitFor(reloaded, WAIT_MS, from);
      assert.match(await kdig(dir, tls, ["+tls"]), /127\.0\.0\.1/);
      await assert.rejects(kdig(dir, tls, ["+tls"], "other.test"));
    }),
});
