/**
 * TLS for the benchmarks: a throwaway CA and a leaf certificate for 127.0.0.1 made with openssl,
 * a free TCP port, and probes that ask for an A record over DNS over TLS (RFC 7858) and DNS over
 * HTTPS (RFC 8484), trusting that CA only.
 * @module
 */
import { delay, queryA } from "./_proc.ts";

/** The files {@link makeCertificates} writes, and the CA in PEM for the probes. */
export interface Certificates {
  /** The CA certificate (PEM file). */
  readonly caFile: string;
  /** The leaf certificate for IP 127.0.0.1 (PEM file). */
  readonly certFile: string;
  /** Its private key (PEM file, PKCS #8, unencrypted). */
  readonly keyFile: string;
  /** The CA certificate's PEM text. */
  readonly caPem: string;
}

async function openssl(dir: string, args: readonly string[]): Promise<void> {
  const result = await new Deno.Command("openssl", { args: [...args], cwd: dir, stdin: "null" }).output();
  if (!result.success) {
    throw new Error(`openssl ${args.join(" ")}:\n${new TextDecoder().decode(result.stderr)}`);
  }
}

/**
 * Writes a CA and a leaf certificate signed by it into `dir`: ECDSA P-256, valid for two days, the
 * leaf with subjectAltName IP:127.0.0.1 and extendedKeyUsage serverAuth.
 */
export async function makeCertificates(dir: string): Promise<Certificates> {
  const key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  await openssl(
    dir,
    ["req", "-x509", ...key, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2"].concat(
      ["-subj", "/CN=dnsd bench CA", "-addext", "basicConstraints=critical,CA:TRUE"],
      ["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
    ),
  );
  await openssl(dir, [
    "req",
    "-new",
    ...key,
    "-keyout",
    "leaf.key",
    "-out",
    "leaf.csr",
    "-subj",
    "/CN=127.0.0.1",
  ]);
  await Deno.writeTextFile(
    `${dir}/leaf.ext`,
    "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n" +
      "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n",
  );
  await openssl(
    dir,
    ["x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key"].concat(
      ["-CAcreateserial", "-out", "leaf.pem", "-days", "2", "-extfile", "leaf.ext"],
    ),
  );
  return {
    caFile: `${dir}/ca.pem`,
    certFile: `${dir}/leaf.pem`,
    keyFile: `${dir}/leaf.key`,
    caPem: await Deno.readTextFile(`${dir}/ca.pem`),
  };
}

/** A port free for TCP a moment ago on 127.0.0.1. */
export function freeTcpPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/** Whether `reply` answers query `id` with NOERROR and at least one answer. */
function answered(reply: Uint8Array, id: number): boolean {
  return reply.length >= 12 && reply[0] === id >> 8 && reply[1] === (id & 0xff) &&
    (reply[3]! & 0x0f) === 0 && ((reply[6]! << 8) | reply[7]!) > 0;
}

/** Runs `probe` for at most `ms`; false on any failure or when late, and `cleanup` runs either way. */
async function within(ms: number, probe: () => Promise<boolean>, cleanup: () => void): Promise<boolean> {
  try {
    return await Promise.race([probe().catch(() => false), delay(ms).then(() => false)]);
  } finally {
    cleanup();
  }
}

/** Whether 127.0.0.1:`port` answers an A query for `name` over TLS (RFC 7858) within `ms`. */
export function answersOverTls(port: number, name: string, caPem: string, ms = 1_000): Promise<boolean> {
  const id = Math.floor(Math.random() * 0x10000);
  let conn: Deno.TlsConn | undefined;
  let done = false;
  const close = () => {
    try {
      conn?.close();
    } catch {
      // already closed
    }
  };
  const probe = async () => {
    conn = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [caPem] });
    if (done) return false; // too late: `within` has given up and cleaned up already
    const query = queryA(name, id);
    await conn.write(Uint8Array.of(query.length >> 8, query.length & 0xff, ...query));
    let received = new Uint8Array(0);
    const buffer = new Uint8Array(4096);
    while (received.length < 2 || received.length < 2 + ((received[0]! << 8) | received[1]!)) {
      const n = await conn.read(buffer);
      if (n === null) return false;
      received = Uint8Array.of(...received, ...buffer.subarray(0, n));
    }
    return answered(received.subarray(2), id);
  };
  return within(ms, probe, () => ((done = true), close()));
}

/** Whether https://127.0.0.1:`port`/dns-query answers a POSTed A query for `name` (RFC 8484) within `ms`. */
export function answersOverHttps(port: number, name: string, caPem: string, ms = 1_000): Promise<boolean> {
  const client = Deno.createHttpClient({ caCerts: [caPem] });
  const abort = new AbortController();
  const probe = async () => {
    const response = await fetch(`https://127.0.0.1:${port}/dns-query`, {
      method: "POST",
      headers: { "content-type": "application/dns-message", accept: "application/dns-message" },
      body: new Uint8Array(queryA(name, 0)), // RFC 8484 §4.1: the ID should be 0 over HTTP
      client,
      signal: abort.signal,
    });
    const reply = new Uint8Array(await response.arrayBuffer());
    return response.status === 200 && answered(reply, 0);
  };
  return within(ms, probe, () => (abort.abort(), client.close()));
}
