/**
 * The DNS over TLS listener (RFC 7858), whose certificate can be swapped while it runs. Deno fixes
 * a TLS listener's certificate when it opens, so a swap closes it and opens a new one on the same
 * address as soon as the port is free again (a few milliseconds, in which a connection is refused):
 * connections already accepted keep their session, and the accept loop goes on with the new
 * listener without noticing.
 * @module
 */
import { formatAddress } from "../upstream/mod.ts";

/** A certificate chain and its private key, both PEM text. */
export interface CertifiedKey {
  /** The certificate chain, leaf first. */
  readonly cert: string;
  /** The private key (PKCS#8, RSA or EC). */
  readonly key: string;
}

/** A certificate or key that cannot be used, and why (Deno's TLS error is the cause). */
export class CertificateError extends Error {
  /** The error's name. */
  override name = "CertificateError";
  /**
   * Says which files cannot be used, and why (the cause's message).
   * @param what the files, as the operator named them
   * @param cause what reading or loading them threw
   */
  constructor(readonly what: string, override readonly cause: unknown) {
    super(`Cannot use ${what}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** How long a swap waits for the old listener's port to be free. */
const REBIND_MS = 2_000;

/** The ALPN protocol of DNS over TLS (RFC 7858, IANA "dot"). */
const DOT_ALPN = ["dot"];

/** Reads the PEM files of a certificate chain and its key, at once. */
export function readCertifiedKey(
  files: { readonly certFile: string; readonly keyFile: string },
): CertifiedKey {
  const what = `--tls-cert ${files.certFile} and --tls-key ${files.keyFile}`;
  try {
    return { cert: Deno.readTextFileSync(files.certFile), key: Deno.readTextFileSync(files.keyFile) };
  } catch (error) {
    throw new CertificateError(what, error);
  }
}

/**
 * Throws {@link CertificateError} unless `pem` is a certificate chain and its own private key:
 * Deno checks both when a TLS listener opens, so one opens for a moment on a free port of
 * `hostname`.
 */
export function checkCertifiedKey(pem: CertifiedKey, hostname: string, what: string): void {
  try {
    Deno.listenTls({ hostname, port: 0, ...pem }).close();
  } catch (error) {
    throw new CertificateError(what, error);
  }
}

/** A TLS listener whose certificate {@link TlsListener.swap} replaces. */
export class TlsListener {
  #inner: Deno.TlsListener;
  #pem: CertifiedKey;
  #closed = false;
  /** Settles once a swap in progress has a listener open again; null between swaps. */
  #swapping: Promise<unknown> | null = null;
  /** The address it listens on (the real port when 0 was asked for). */
  readonly addr: Deno.NetAddr;

  /** Listens on `hostname`:`port` with `pem`, offering ALPN "dot". */
  constructor(address: { readonly hostname: string; readonly port: number }, pem: CertifiedKey) {
    this.#inner = Deno.listenTls({ ...address, ...pem, alpnProtocols: DOT_ALPN });
    this.#pem = pem;
    this.addr = this.#inner.addr;
  }

  /** The next connection, from whichever listener is open by then. */
  async accept(): Promise<Deno.TlsConn> {
    while (true) {
      const inner = this.#inner;
      try {
        return await inner.accept();
      } catch (error) {
        // The listener was swapped under this accept: wait on the new one.
        if (this.#swapping !== null) await this.#swapping;
        if (this.#closed || inner === this.#inner) throw error;
      }
    }
  }

  /**
   * Listens with `pem` in place of the certificate in use (check it first: see
   * {@link checkCertifiedKey}). Should the address not be had again, the old certificate is
   * kept and the error thrown.
   */
  async swap(pem: CertifiedKey): Promise<void> {
    if (this.#closed || this.#swapping !== null) return;
    this.#inner.close();
    const swapping = (async () => {
      const failed = await this.#reopen(pem);
      if (failed === null) return null;
      if (await this.#reopen(this.#pem) !== null) this.#closed = true;
      return failed;
    })();
    this.#swapping = swapping;
    const failed = await swapping;
    this.#swapping = null;
    if (failed !== null) {
      throw new Error(`Cannot listen on ${formatAddress(this.addr)} again`, { cause: failed });
    }
  }

  /**
   * Listens again on the address with `pem`: null once it does, else the error. A pending accept
   * holds the old socket until its cancellation has run, so the port is tried for a while.
   */
  async #reopen(pem: CertifiedKey): Promise<unknown> {
    const deadline = performance.now() + REBIND_MS;
    while (true) {
      try {
        this.#inner = Deno.listenTls({
          hostname: this.addr.hostname,
          port: this.addr.port,
          ...pem,
          alpnProtocols: DOT_ALPN,
        });
        this.#pem = pem;
        return null;
      } catch (error) {
        if (!(error instanceof Deno.errors.AddrInUse) || performance.now() > deadline) return error;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
  }

  /** Stops listening; a pending accept rejects. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#inner.close();
  }
}
