/**
 * The error a start throws for an address it cannot listen on, whichever transport.
 * @module
 */
import { formatAddress } from "../upstream/mod.ts";

/** An address that could not be bound, and why (the error Deno or bind(2) gave is the cause). */
export class ListenError extends Error {
  /** The error's name. */
  override name = "ListenError";
  /**
   * Says which address failed, and why: "address already in use" for AddrInUse, else the cause's message.
   * @param address the address that failed
   * @param cause the error binding it threw
   */
  constructor(
    readonly address: { readonly hostname: string; readonly port: number },
    override readonly cause: unknown,
  ) {
    const reason = cause instanceof Deno.errors.AddrInUse
      ? "address already in use"
      : cause instanceof Error
      ? cause.message
      : String(cause);
    super(`cannot listen on ${formatAddress(address)}: ${reason}`, { cause });
  }
}
