/**
 * A test CA and a leaf certificate it signs, made with openssl in a temporary folder: for fake
 * DoT/DoH servers and real ones (unbound, dnsdist) that dnsd must trust through `--upstream-ca`.
 * @module
 */
import { runTool } from "./_tools.ts";

/** A CA and one leaf it signed: the files and their PEM text. */
export interface TestCerts {
  /** The folder holding every file; {@link TestCerts.remove} deletes it. */
  readonly dir: string;
  readonly caFile: string;
  readonly caPem: string;
  readonly certFile: string;
  readonly certPem: string;
  readonly keyFile: string;
  readonly keyPem: string;
  /** Deletes the folder. */
  remove(): Promise<void>;
}

/**
 * Makes a CA ("dnsd test CA") and a leaf for `names` (DNS names and IP addresses, all in the
 * subjectAltName; the first is the CN), EC P-256, valid for a day.
 */
export async function makeCerts(names: readonly string[]): Promise<TestCerts> {
  const dir = await Deno.makeTempDir({ prefix: "dnsd_certs_" });
  const at = (file: string) => `${dir}/${file}`;
  const ip = /^[\d.]+$|:/;
  const san = names.map((name) => ip.test(name) ? `IP:${name}` : `DNS:${name}`).join(",");
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  try {
    await runTool("openssl", [
      "req",
      "-x509",
      ...ec,
      "-keyout",
      at("ca.key"),
      "-out",
      at("ca.pem"),
      "-days",
      "1",
      "-subj",
      "/CN=dnsd test CA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    await runTool("openssl", [
      "req",
      ...ec,
      "-keyout",
      at("leaf.key"),
      "-out",
      at("leaf.csr"),
      "-subj",
      `/CN=${names[0] ?? "localhost"}`,
    ]);
    await Deno.writeTextFile(
      at("leaf.ext"),
      `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`,
    );
    await runTool("openssl", [
      "x509",
      "-req",
      "-in",
      at("leaf.csr"),
      "-CA",
      at("ca.pem"),
      "-CAkey",
      at("ca.key"),
      "-CAcreateserial",
      "-out",
      at("leaf.pem"),
      "-days",
      "1",
      "-extfile",
      at("leaf.ext"),
    ]);
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
  return {
    dir,
    caFile: at("ca.pem"),
    caPem: await Deno.readTextFile(at("ca.pem")),
    certFile: at("leaf.pem"),
    certPem: await Deno.readTextFile(at("leaf.pem")),
    keyFile: at("leaf.key"),
    keyPem: await Deno.readTextFile(at("leaf.key")),
    remove: () => Deno.remove(dir, { recursive: true }),
  };
}
