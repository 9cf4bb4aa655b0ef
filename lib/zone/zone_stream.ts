/**
 * A zone built while its file is read: each name is packed as soon as its records end, so the
 * parsed records never all live at once. A million of them as objects are most of what loading a
 * large zone costs, in time (the collector copies and marks them) and in memory (about 1 GiB at
 * the peak for a million A records, where the packed zone is a quarter of that).
 *
 * It takes the common file: the SOA first, each name's records together (names in any order),
 * unsigned. Anything else (a name that comes back after others, found once all are read and
 * placed; a parent written after a child that made it an empty non-terminal; an RRSIG) makes it
 * give up with {@link NotInOrder}, and the caller builds the zone the usual way (`buildZone`),
 * which takes any order. Both make the same
 * zone and report the same errors: a parse error before any error of the zone's rules, which are
 * checked record by record in file order (tests/zone/zone_stream_test.ts holds them side by side).
 * @module
 */
import {
  formatIPv6,
  isAtOrBelow,
  nameKey,
  type ParseError,
  RRClass,
  RRType,
  typeCode,
} from "../proto/mod.ts";
import type { AddressLine, ResourceRecord, TextLocation } from "../proto/mod.ts";
import type { ZoneParseOptions } from "./zone_parser.ts";
import { keyHash, PackedNodesBuilder, RepeatedKey } from "./packed_nodes.ts";
import type { PackedNodes } from "./packed_nodes.ts";
import type { Zone } from "./zone.ts";
import {
  addAncestors,
  type DnameAt,
  NameRecords,
  occludedError,
  originError,
  placementError,
} from "./zone_rules.ts";

/** The file is not in the order {@link ZoneStream} takes: build the zone from all its records. */
export class NotInOrder extends Error {
  /** The error class name. */
  override name = "NotInOrder";
}

/** What a finished stream gives: the zone, and where its SOA was written. */
export interface StreamedZone {
  readonly zone: Zone;
  readonly soaAt: TextLocation;
}

/** Builds a zone from its records in file order; see the module documentation. */
export class ZoneStream {
  readonly #origin: string | undefined;
  readonly #nodes: PackedNodesBuilder;
  readonly #parents = new Set<string>();
  /**
   * Ancestors made to exist by a name below them: each an empty non-terminal unless it was a name
   * of its own before (one written after would have been given up on, in #startName).
   */
  readonly #ancestors = new Set<string>();
  #soa: Zone["soa"] | undefined;
  #soaAt: TextLocation | undefined;
  #key = "";
  #hasDelegations = false;
  readonly #dnames: DnameAt[] = [];
  #size = 0;
  /** The first rule broken: kept until the whole file has parsed (a parse error comes first). */
  #error: ParseError | undefined;
  /** The name whose records are being read, and its RRsets so far. */
  #groupKey = "";
  #groupHash = 0;
  #records = new NameRecords();
  #groupMade = true;
  /**
   * The name's one record so far when it came by the parser's short path (`addAddress`): kept as
   * these fields, and packed from them, unless another record of the name comes (then it is made a
   * record first). Most names of a large zone are one A or AAAA record.
   */
  #short = false;
  #shortName = "";
  #shortTtl = 0;
  #shortType = 0;
  #shortAddress = "";
  #shortIpv4 = 0;
  #shortIpv6: Uint8Array | null = null;
  #shortFile = "";
  #shortLine = 0;

  /**
   * @param origin the origin `--zone ORIGIN=FILE` gave, which the SOA's owner must be
   * @param sharedMemory pack the names in shared memory, for workers (packed_nodes.ts)
   */
  constructor(origin?: string, sharedMemory = false) {
    this.#origin = origin;
    this.#nodes = new PackedNodesBuilder(1024, sharedMemory);
  }

  /** The parser's callbacks that feed this stream: pass them to `parseZoneFile`. */
  get parserSink(): Required<Pick<ZoneParseOptions, "onRecord" | "onAddress">> {
    return {
      onRecord: (record, at) => this.add(record, at),
      onAddress: (name, ttl, address, file, line) => this.addAddress(name, ttl, address, file, line),
    };
  }

  /**
   * Takes the next record of the file when the parser read it by its short path (an A or AAAA
   * record: see `ZoneParseOptions.onAddress`), as {@link add} takes it made a record.
   * @throws {NotInOrder} when the file is not in an order the stream takes
   */
  addAddress(name: string, ttl: number, address: AddressLine, file: string, line: number): void {
    if (this.#error) return;
    if (!this.#soa) throw new NotInOrder();
    // The short path's names are plain ASCII (plainNameOk): nameKey's fold is toLowerCase.
    const owner = name.toLowerCase();
    if (owner !== this.#groupKey) {
      // Placement first, as add() checks it: an owner outside the zone is that error, made as add() makes it.
      if (!isAtOrBelow(owner, this.#key)) {
        return this.add(shortRecord(name, ttl, address), { file, line, column: 1 });
      }
      this.#startName(owner);
      this.#short = true;
      this.#shortName = name;
      this.#shortTtl = ttl;
      this.#shortType = address.type;
      this.#shortAddress = address.address;
      this.#shortIpv4 = address.ipv4;
      this.#shortIpv6 = address.ipv6;
      this.#shortFile = file;
      this.#shortLine = line;
      this.#size++;
      return;
    }
    this.add(shortRecord(name, ttl, address), { file, line, column: 1 });
  }

  /**
   * Takes the next record of the file.
   * @throws {NotInOrder} when the file is not in an order the stream takes
   */
  add(record: ResourceRecord, at: TextLocation): void {
    if (this.#error) return;
    const type = typeCode(record.data);
    // A signed zone's denial index needs every name at once (indexDenial): the usual path.
    if (type === RRType.RRSIG) throw new NotInOrder();
    if (!this.#soa) {
      // The apex is the SOA's owner: known first, so every name can be checked against it as it comes.
      if (type !== RRType.SOA) throw new NotInOrder();
      this.#soa = record as Zone["soa"];
      this.#soaAt = at;
      this.#key = this.#groupKey = nameKey(record.name);
      this.#groupHash = keyHash(this.#key);
      this.#error = originError(record, this.#key, this.#origin, at) ?? undefined;
      if (this.#error) return;
    }
    const owner = nameKey(record.name);
    this.#error = placementError(record, owner, type, { key: this.#key, soa: this.#soa }, at) ?? undefined;
    if (this.#error) return;
    if (owner !== this.#groupKey) this.#startName(owner);
    else if (this.#short) this.#shortToGroup();
    this.#error = this.#group.add(record, type, at) ?? undefined;
    if (this.#error) return;
    if (type === RRType.NS && owner !== this.#key) this.#hasDelegations = true;
    if (type === RRType.DNAME) this.#dnames.push({ key: owner, record, at });
    this.#size++;
  }

  /**
   * The zone, once every record has been added.
   * @throws {ParseError} for the first rule a record broke
   * @throws {NotInOrder} for a file with no records (the usual path says what is missing)
   */
  finish(): StreamedZone {
    if (!this.#soa || !this.#soaAt) {
      if (this.#error) throw this.#error;
      throw new NotInOrder();
    }
    this.#packGroup();
    const nodes = this.#packed();
    // Only now, as a name found twice would have ended the stream where it came back.
    if (this.#error) throw this.#error;
    const occluded = occludedError(this.#dnames, this.#parents);
    if (occluded) throw occluded;
    return {
      zone: {
        apex: this.#soa.name,
        key: this.#key,
        soa: this.#soa,
        nodes,
        parents: this.#parents,
        hasDelegations: this.#hasDelegations,
        hasDnames: this.#dnames.length > 0,
        size: this.#size,
        dnssec: null,
      },
      soaAt: this.#soaAt,
    };
  }

  /**
   * The names packed, with the ancestors that had no name of their own as empty non-terminals.
   * @throws {NotInOrder} for a name whose records were not together
   */
  #packed(): PackedNodes {
    try {
      for (const name of this.#ancestors) if (!this.#nodes.has(name)) this.#nodes.add(name, []);
      return this.#nodes.build();
    } catch (error) {
      throw error instanceof RepeatedKey ? new NotInOrder() : error;
    }
  }

  /**
   * Packs the name read until now.
   * @throws {NotInOrder} for a name kept apart (too many records for a message) that came before
   */
  #packGroup(): void {
    if (this.#short) {
      this.#short = false;
      if (this.#shortName === this.#groupKey) {
        const key = this.#groupKey;
        return this.#nodes.addAddress(key, this.#shortTtl, this.#shortIpv4, this.#shortIpv6, this.#groupHash);
      }
      // An owner not spelled as its key (capitals): packed as any record is, whole.
      this.#shortToGroup();
    }
    try {
      this.#nodes.add(this.#groupKey, this.#group.rrsets, this.#groupHash);
    } catch (error) {
      throw error instanceof RepeatedKey ? new NotInOrder() : error;
    }
  }

  /** The short record kept in fields, made a record and put in the name's group. */
  #shortToGroup(): void {
    this.#short = false;
    const record = shortRecord(this.#shortName, this.#shortTtl, {
      type: this.#shortType,
      address: this.#shortAddress,
      ipv6: this.#shortIpv6,
    });
    // The group's first record: no CNAME rule to break.
    this.#group.add(record, this.#shortType, { file: this.#shortFile, line: this.#shortLine, column: 1 });
  }

  /** Packs the name read until now and starts `owner`, with its ancestors as buildZone makes them. */
  #startName(owner: string): void {
    this.#packGroup();
    // An empty non-terminal written after a name below it. A name whose records come back after
    // others is found when the names are placed (finish).
    // Most zones make no ancestor: asking an empty set would still hash every owner, and that cost a
    // million-record load a fifth of its time (measured).
    if (this.#ancestors.size > 0 && this.#ancestors.has(owner)) throw new NotInOrder();
    addAncestors(
      owner,
      this.#key,
      this.#parents,
      (name) => this.#ancestors.has(name),
      (name) => this.#ancestors.add(name),
    );
    this.#groupKey = owner;
    this.#groupHash = keyHash(owner);
    // Made only for a name whose records come by add(): most names of a large zone are one short record.
    this.#groupMade = false;
  }

  /** The RRsets of the name being read, made when first asked for. */
  get #group(): NameRecords {
    if (!this.#groupMade) {
      this.#records = new NameRecords();
      this.#groupMade = true;
    }
    return this.#records;
  }
}

/** The record the parser would have made of a short A or AAAA line (rdata_basic.ts's form of each). */
function shortRecord(
  name: string,
  ttl: number,
  address: Pick<AddressLine, "type" | "address" | "ipv6">,
): ResourceRecord {
  const data = address.type === RRType.A
    ? { type: "A" as const, address: address.address }
    : { type: "AAAA" as const, address: formatIPv6(address.ipv6!) };
  return { name, class: RRClass.IN, ttl, data };
}
