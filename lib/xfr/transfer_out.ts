/**
 * Serving zone transfers: AXFR (RFC 5936) and IXFR (RFC 1995) over TCP, streamed in messages of
 * up to 64 KiB, from the zone as loaded now and the journal of its changes. Who may transfer is
 * decided first: a client outside `--allow-transfer`, or unsigned when TSIG keys are set, is
 * REFUSED; a zone dnsd does not serve is NOTAUTH. Over UDP, AXFR is refused and IXFR gets the
 * SOA when the client is up to date, else TC so it asks again over TCP (RFC 1995 section 2).
 * @module
 */
import { getLogger } from "@logtape/logtape";
import {
  FormatError,
  type Message,
  MessagePacker,
  nameKey,
  NotAuthoritative,
  Refused,
  reply,
  type ResourceRecord,
  responseEdns,
  RRClass,
  RRType,
} from "../proto/mod.ts";
import type { Request } from "../resolve/mod.ts";
import type { Zone } from "../zone/mod.ts";
import { differenceSize, type Journal, type ZoneDifference } from "./journal.ts";
import { serialNewer } from "../proto/mod.ts";
import { tsigRoom } from "../tsig/mod.ts";
import { recordsBesideSoa } from "./zone_records.ts";

const log = getLogger(["dnsd", "xfr"]);

/** Writes one encoded message of a transfer (see lib/server's WriteMessage). */
export type WriteTransfer = (message: Uint8Array) => Promise<void>;

/** What serving transfers needs. */
export interface TransferServing {
  /** The zone whose apex is `key`, as served now (files and secondaries). */
  readonly zone: (key: string) => Zone | undefined;
  /** The differences between versions, for IXFR. */
  readonly journal: Journal;
  /** Whether `client` may transfer zones (`--allow-transfer`). */
  readonly allowed: (client: Deno.NetAddr) => boolean;
  /** Whether a transfer request must be TSIG-signed (any `--tsig-key` is set). */
  readonly signatureRequired: () => boolean;
}

/** What the client has, from an IXFR request's authority section (RFC 1995 section 3). */
function clientSerial(message: Message, zone: Zone): number {
  const soa = message.authorities.find((record) => record.data.type === "SOA");
  if (!soa || soa.data.type !== "SOA" || nameKey(soa.name) !== zone.key) {
    throw new FormatError("an IXFR request without the client's SOA in its authority section");
  }
  return soa.data.serial;
}

/** The differences from `serial` to the zone now, when the journal has them and they are smaller than the zone. */
function incremental(journal: Journal, zone: Zone, serial: number): readonly ZoneDifference[] | null {
  const differences = journal.since(zone.key, serial);
  if (!differences || differences.at(-1)!.to.data.serial !== zone.soa.data.serial) return null;
  const size = differences.reduce((sum, difference) => sum + differenceSize(difference), 0);
  return size < zone.size ? differences : null;
}

function* wholeZone(zone: Zone): Generator<ResourceRecord> {
  yield zone.soa;
  yield* recordsBesideSoa(zone);
  yield zone.soa;
}

/** The incremental form (RFC 1995 section 4): the new SOA, each difference, the new SOA. */
function* differences(zone: Zone, steps: readonly ZoneDifference[]): Generator<ResourceRecord> {
  yield zone.soa;
  for (const step of steps) {
    yield step.from;
    yield* step.removed;
    yield step.to;
    yield* step.added;
  }
  yield zone.soa;
}

/**
 * Streams `records` in as few messages as fit, each written before the next is packed, each
 * `reserve` octets under 64 KiB.
 * @returns how many records and messages went out
 */
async function stream(
  header: Message,
  records: Iterable<ResourceRecord>,
  write: WriteTransfer,
  reserve: number,
): Promise<{ records: number; messages: number }> {
  const packer = new MessagePacker(header, reserve);
  let count = 0;
  let messages = 0;
  for (const record of records) {
    count++;
    if (packer.add(record)) continue;
    await write(packer.take());
    messages++;
    packer.add(record);
  }
  if (packer.count > 0) {
    await write(packer.take());
    messages++;
  }
  return { records: count, messages };
}

/** The transfer handler for the opcode dispatcher's slot (see lib/server's TransferHandler). */
export function transferHandler(
  serving: TransferServing,
): (request: Request, write: WriteTransfer | null) => Promise<Message | null> {
  return async function transfer(request: Request, write: WriteTransfer | null): Promise<Message | null> {
    const { message } = request;
    const question = message.questions[0]!;
    if (!serving.allowed(request.client)) throw new Refused("zone transfer not allowed from this address");
    if (serving.signatureRequired() && !request.tsig) {
      throw new Refused("zone transfer needs a TSIG signature");
    }
    const zone = question.class === RRClass.IN ? serving.zone(nameKey(question.name)) : undefined;
    if (!zone) throw new NotAuthoritative(`not authoritative for "${question.name}"`);
    // The OPT (when asked with EDNS) goes in a single-message answer; streamed ones carry none.
    const header = reply(message, {
      authoritative: true,
      recursionAvailable: false,
      edns: responseEdns(message),
    });
    const upToDate = question.type === RRType.IXFR &&
      !serialNewer(zone.soa.data.serial, clientSerial(message, zone));
    if (upToDate) return { ...header, answers: [zone.soa] };
    if (!write) {
      if (question.type === RRType.AXFR) throw new Refused("AXFR over UDP: ask over TCP");
      return { ...header, truncated: true };
    }
    const steps = question.type === RRType.IXFR
      ? incremental(serving.journal, zone, clientSerial(message, zone))
      : null;
    const started = performance.now();
    // Each message of a signed transfer gets its TSIG record once packed: room is left for it.
    const reserve = request.tsig ? tsigRoom(request.tsig.key) : 0;
    const sent = await stream(header, steps ? differences(zone, steps) : wholeZone(zone), write, reserve);
    // One line per transfer served (only clients allowed to transfer get here), as NSD and Knot log them.
    log.info(
      "{kind} of {zone} serial {serial} to {peer}{key}: {records} records in {messages} messages, {ms} ms",
      {
        kind: question.type === RRType.AXFR ? "AXFR" : steps ? "IXFR (incremental)" : "IXFR (whole zone)",
        zone: zone.apex,
        serial: zone.soa.data.serial,
        peer: `${request.client.hostname}:${request.client.port}`,
        key: request.tsig ? ` (TSIG ${request.tsig.key.name})` : "",
        records: sent.records,
        messages: sent.messages,
        ms: Math.round(performance.now() - started),
      },
    );
    return null;
  };
}
