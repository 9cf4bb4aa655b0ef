/**
 * The secondary's side of the wire: an SOA query and an AXFR or IXFR request to a primary, each on
 * a TCP connection of its own. Every message of the answer is checked (ID, QR, OPCODE, RCODE, the
 * question echoed, TSIG when a key is set), and the whole answer is bounded in time (the signal)
 * and in octets.
 *
 * The SOA query goes over TCP, not UDP: a refresh is rare (once per SOA REFRESH), the primary must
 * serve TCP for the transfer anyway, a TCP answer cannot be spoofed off-path, and a signed SOA
 * answer never meets UDP truncation. Knot DNS refreshes over TCP the same way.
 * @module
 */
import {
  DecodeError,
  decodeMessage,
  encodeMessage,
  type Message,
  nameKey,
  Opcode,
  query,
  Rcode,
  rcodeName,
  RRType,
} from "../proto/mod.ts";
import {
  AnswerVerifier,
  type Hmacs,
  signRequest,
  TsigFailure,
  type TsigKey,
  type UnixClock,
} from "../tsig/mod.ts";
import { TransferError } from "./errors.ts";
import { type Connect, formatPrimary, FramedStream } from "./tcp_stream.ts";
import { type SoaRecord, type Transfer, TransferCollector } from "./transfer_stream.ts";

/** How to reach a primary and how much to take from it. */
export interface TransferClientOptions {
  /** Opens the TCP connection. */
  readonly connect: Connect;
  /** Aborts the exchange: the deadline, or the secondary closing. */
  readonly signal: AbortSignal;
  /** Signs the request and checks the answer (RFC 8945 section 5.4) when set. */
  readonly key?: TsigKey;
  /** Where TSIG MACs are made. */
  readonly hmacs: Hmacs;
  /** Seconds since the epoch, for TSIG. */
  readonly unixClock: UnixClock;
  /** The most octets the answer may hold, all messages together. */
  readonly maxBytes: number;
  /** The request's ID. */
  readonly id: number;
}

/** What to ask: the whole zone, or the changes since the SOA we hold. */
export type TransferAsk = { readonly kind: "axfr" } | { readonly kind: "ixfr"; readonly soa: SoaRecord };

/** A reply that does not belong to `request`, or null when it does. */
function mismatch(request: Message, reply: Message): string | null {
  if (reply.id !== request.id) return `ID ${reply.id}, not ${request.id}`;
  if (!reply.response) return "QR=0";
  if (reply.opcode !== Opcode.QUERY) return `OPCODE ${reply.opcode}`;
  if (reply.truncated) return "TC=1 over TCP";
  // RFC 5936 section 2.2.1: later messages may leave the question out; when there, it must be ours.
  if (reply.questions.length === 0) return null;
  const [asked] = request.questions;
  const [echoed] = reply.questions;
  if (
    reply.questions.length !== 1 || nameKey(echoed!.name) !== nameKey(asked!.name) ||
    echoed!.type !== asked!.type || echoed!.class !== asked!.class
  ) {
    return "the question is not the one asked";
  }
  return null;
}

/** Checks a message's TSIG; an unsigned error answer is let through, so its RCODE is what is reported. */
async function checkTsig(verifier: AnswerVerifier, reply: Message, bytes: Uint8Array): Promise<void> {
  try {
    await verifier.accept(bytes);
  } catch (error) {
    if (!(error instanceof TsigFailure)) throw error;
    const tsigError = reply.rcode === Rcode.NOTAUTH || reply.rcode === Rcode.NOERROR;
    if (tsigError) throw new TransferError("tsig", `TSIG: ${error.message}`, undefined, { cause: error });
  }
}

/**
 * Sends `request` and hands each message of the answer to `take` until it says the answer is complete.
 * @throws {TransferError} for every failure, by reason
 */
async function exchange(
  primary: Deno.NetAddr,
  request: Message,
  options: TransferClientOptions,
  take: (reply: Message) => boolean,
): Promise<void> {
  const { signal, key, hmacs, unixClock, maxBytes } = options;
  const where = formatPrimary(primary);
  let wire = encodeMessage(request);
  let verifier: AnswerVerifier | undefined;
  if (key) {
    const signed = await signRequest(hmacs, key, wire, unixClock());
    wire = signed.bytes;
    verifier = new AnswerVerifier(hmacs, key, signed, unixClock);
  }
  const stream = await FramedStream.open(options.connect, primary, signal);
  try {
    await stream.write(wire);
    let total = 0;
    while (true) {
      const bytes = await stream.read();
      if (bytes === null) {
        throw new TransferError("incomplete", `${where} closed the connection before the end`);
      }
      total += bytes.length;
      if (total > maxBytes) {
        throw new TransferError("too-large", `the answer from ${where} passed ${maxBytes} octets`);
      }
      const reply = decodeMessage(bytes);
      const wrong = mismatch(request, reply);
      if (wrong !== null) throw new TransferError("malformed", `a reply from ${where} with ${wrong}`);
      if (verifier) await checkTsig(verifier, reply, bytes);
      if (reply.rcode !== Rcode.NOERROR) {
        throw new TransferError("rcode", `${where} answered ${rcodeName(reply.rcode)}`, reply.rcode);
      }
      if (take(reply)) break;
    }
    try {
      verifier?.finish();
    } catch (error) {
      throw new TransferError("tsig", `TSIG: ${(error as Error).message}`, undefined, { cause: error });
    }
  } catch (error) {
    if (signal.aborted) throw new TransferError("timeout", `no complete answer from ${where} in time`);
    if (error instanceof TransferError) throw error;
    if (error instanceof DecodeError) {
      throw new TransferError("malformed", `an undecodable reply from ${where}: ${error.reason}`);
    }
    throw new TransferError("network", `the connection to ${where} failed`, undefined, { cause: error });
  } finally {
    stream.close();
  }
}

/**
 * Asks `primary` for the SOA of `zone` (a name key).
 * @throws {TransferError} when it does not answer with the zone's SOA
 */
export async function querySoa(
  primary: Deno.NetAddr,
  zone: string,
  options: TransferClientOptions,
): Promise<SoaRecord> {
  const request = query({ name: zone, type: RRType.SOA }, { id: options.id, recursionDesired: false });
  let soa: SoaRecord | undefined;
  await exchange(primary, request, options, (reply) => {
    const found = reply.answers.find((record) => record.data.type === "SOA" && nameKey(record.name) === zone);
    if (!found) {
      throw new TransferError("malformed", `${formatPrimary(primary)} has no SOA for ${zone || "."}`);
    }
    soa = found as SoaRecord;
    return true;
  });
  return soa!;
}

/**
 * Transfers `zone` (a name key) from `primary`: AXFR, or IXFR from the SOA held (RFC 1995 section 3:
 * that SOA goes in the authority section).
 * @throws {TransferError} when the answer is not a complete, well-formed transfer of the zone
 */
export async function requestTransfer(
  primary: Deno.NetAddr,
  zone: string,
  ask: TransferAsk,
  options: TransferClientOptions,
): Promise<Transfer> {
  const type = ask.kind === "ixfr" ? RRType.IXFR : RRType.AXFR;
  const request = query({ name: zone, type }, {
    id: options.id,
    recursionDesired: false,
    authorities: ask.kind === "ixfr" ? [ask.soa] : [],
  });
  const collector = new TransferCollector(
    zone,
    ask.kind === "ixfr" ? { kind: "ixfr", serial: ask.soa.data.serial } : { kind: "axfr" },
  );
  await exchange(primary, request, options, (reply) => {
    collector.add(reply.answers);
    return collector.done;
  });
  return collector.result();
}
