/**
 * The chain of trust (RFC 4035 section 5): from a trust anchor down to the zone that signed an answer.
 * The anchor's DNSKEY set is validated by the anchor; then, label by label below the deepest zone
 * already known, the DS set is asked: a validated DS leads to the child's DNSKEY set (validated by a
 * key the DS names); a validated denial says the label is no zone cut (go on) or an unsigned delegation
 * (all below is insecure). Validated DNSKEY sets and insecure points are kept by zone until their TTL
 * or signature ends, at most `maxEntries`, the oldest dropped first.
 * @module
 */
import {
  isAtOrBelow,
  type Message,
  nameKey,
  type RData,
  type ResourceRecord,
  RRType,
  typeCode,
} from "../proto/mod.ts";
import { labelCount } from "./canonical_rr.ts";
import { DS_DIGESTS, dsMatches } from "./key_tag.ts";
import { ancestorWith, type Nsec, nsecCutProof } from "./nsec_proof.ts";
import { nsec3CutProof, nsec3Set, nsec3Unusable } from "./nsec3_proof.ts";
import { type Check, checkRRset, sigsFor, type ZoneKeys } from "./rrsig_check.ts";
import { isSupportedAlgorithm, type SignatureVerifier } from "./signature.ts";
import { type DnssecFetch, Ede } from "./types.ts";

type DnskeyData = Extract<RData, { type: "DNSKEY" }>;
type DsData = Extract<RData, { type: "DS" }>;

/** Most fetches one validation may make, so a hostile upstream cannot keep dnsd busy. */
export const MAX_FETCHES = 30;
/** Most labels one validation may walk down. */
export const MAX_STEPS = 16;

/** A zone with validated keys, or a point from which everything below is insecure. */
export type ZoneState =
  | {
    readonly kind: "secure";
    readonly zone: string;
    readonly keys: readonly DnskeyData[];
    readonly until: number;
  }
  | {
    readonly kind: "insecure";
    readonly zone: string;
    readonly until: number;
    readonly why: string;
    readonly ede?: number;
  };

/** A chain that cannot be built. */
export interface ChainFailure {
  readonly kind: "bogus";
  readonly ede: number;
  readonly why: string;
}

/** The work one validation may still do. */
export interface Budget {
  fetches: number;
  steps: number;
}

/** A fresh budget for one validation. */
export function newBudget(): Budget {
  return { fetches: MAX_FETCHES, steps: MAX_STEPS };
}

interface Anchor {
  readonly zone: string;
  readonly ds: DsData[];
  readonly keys: DnskeyData[];
}

/** How a chain is built. */
export interface ChainOptions {
  readonly anchors: readonly ResourceRecord[];
  readonly fetch: DnssecFetch;
  readonly now: () => number;
  readonly verifier: SignatureVerifier;
  readonly maxEntries: number;
}

const bogus = (ede: number, why: string): ChainFailure => ({ kind: "bogus", ede, why });

/** RRsets of `type` at `owner` in `records`. */
export function recordsAt(records: readonly ResourceRecord[], owner: string, type: number): ResourceRecord[] {
  const key = nameKey(owner);
  return records.filter((record) =>
    record.data.type !== "RRSIG" && nameKey(record.name) === key &&
    typeCode(record.data) === type
  );
}

/** Builds chains of trust, keeping what it validated. */
export class TrustChain {
  readonly #options: ChainOptions;
  readonly #anchors: Map<string, Anchor>;
  readonly #zones = new Map<string, ZoneState>();
  readonly #inflight = new Map<string, Promise<Message>>();
  /** Chain steps under way, by the name they go down to: concurrent validations share them. */
  readonly #steps = new Map<string, Promise<ZoneState | ChainFailure>>();

  /** Makes a chain builder over the anchors in `options`, with nothing validated yet. */
  constructor(options: ChainOptions) {
    this.#options = options;
    this.#anchors = new Map();
    for (const record of options.anchors) {
      const zone = nameKey(record.name);
      const anchor = this.#anchors.get(zone) ?? { zone, ds: [], keys: [] };
      if (record.data.type === "DS") anchor.ds.push(record.data);
      if (record.data.type === "DNSKEY") anchor.keys.push(record.data);
      this.#anchors.set(zone, anchor);
    }
  }

  /** How many zone entries are kept now. */
  get size(): number {
    return this.#zones.size;
  }

  /** Asks once for `name`/`type` however many validations need it at the same time. */
  async fetch(name: string, type: number, budget: Budget): Promise<Message | ChainFailure> {
    if (--budget.fetches < 0) return bogus(Ede.BOGUS, `more than ${MAX_FETCHES} fetches for one answer`);
    const id = `${nameKey(name)}/${type}`;
    let pending = this.#inflight.get(id);
    if (!pending) {
      pending = this.#options.fetch(name, type);
      this.#inflight.set(id, pending);
      const forget = () => this.#inflight.delete(id);
      pending.then(forget, forget);
    }
    try {
      return await pending;
    } catch (error) {
      const what = error instanceof Error ? error.message : String(error);
      return bogus(
        Ede.NO_REACHABLE_AUTHORITY,
        `cannot fetch ${nameKey(name) || "."}/${typeLabel(type)}: ${what}`,
      );
    }
  }

  #remember(state: ZoneState): ZoneState {
    this.#zones.delete(state.zone);
    this.#zones.set(state.zone, state);
    while (this.#zones.size > this.#options.maxEntries) this.#zones.delete(this.#zones.keys().next().value!);
    return state;
  }

  #kept(zone: string, now: number): ZoneState | undefined {
    const state = this.#zones.get(zone);
    if (state && state.until <= now) {
      this.#zones.delete(zone);
      return undefined;
    }
    return state;
  }

  /** The deepest zone at or above `name`: secure with its keys, insecure, or why no chain holds. */
  async zoneFor(name: string, budget: Budget): Promise<ZoneState | ChainFailure> {
    const key = nameKey(name);
    const now = this.#options.now();
    let anchor: Anchor | undefined;
    for (let labels = labelCount(key); labels >= 0 && !anchor; labels--) {
      anchor = this.#anchors.get(ancestorWith(key, labels));
    }
    if (!anchor) {
      return { kind: "insecure", zone: "", until: Infinity, why: `no trust anchor above ${key || "."}` };
    }
    let kept: ZoneState | undefined;
    for (let labels = labelCount(key); labels >= labelCount(anchor.zone) && !kept; labels--) {
      kept = this.#kept(ancestorWith(key, labels), now);
    }
    let current: ZoneState | ChainFailure = kept ??
      await this.#shared(`anchor ${anchor.zone}`, () => this.#anchorKeys(anchor, budget));
    if (current.kind !== "secure") return current;
    for (let labels = labelCount(current.zone) + 1; labels <= labelCount(key); labels++) {
      if (current.kind !== "secure") break;
      if (--budget.steps < 0) {
        return bogus(Ede.BOGUS, `more than ${MAX_STEPS} labels walked down for one answer`);
      }
      const parent: ZoneState & { kind: "secure" } = current;
      const child = ancestorWith(key, labels);
      current = await this.#shared(child, () => this.#step(parent, child, budget));
    }
    return current;
  }

  #shared(id: string, work: () => Promise<ZoneState | ChainFailure>): Promise<ZoneState | ChainFailure> {
    let pending = this.#steps.get(id);
    if (!pending) {
      pending = work();
      this.#steps.set(id, pending);
      const forget = () => this.#steps.delete(id);
      pending.then(forget, forget);
    }
    return pending;
  }

  #anchorKeys(anchor: Anchor, budget: Budget): Promise<ZoneState | ChainFailure> {
    if (anchor.keys.length > 0) {
      const trusted = anchor.keys.filter((key) => isSupportedAlgorithm(key.algorithm));
      if (trusted.length === 0) {
        return Promise.resolve(this.#remember({
          kind: "insecure",
          zone: anchor.zone,
          until: Infinity,
          why: `no trust anchor of ${anchor.zone || "."} has a supported algorithm`,
          ede: Ede.UNSUPPORTED_DNSKEY_ALGORITHM,
        }));
      }
      return this.#keysOf(anchor.zone, trusted, Infinity, budget);
    }
    return this.#keysByDs(anchor.zone, anchor.ds, Infinity, budget);
  }

  /** Validates the DNSKEY set of `zone` with the DS set `ds` (validated already, until `until`). */
  async #keysByDs(
    zone: string,
    ds: readonly DsData[],
    until: number,
    budget: Budget,
  ): Promise<ZoneState | ChainFailure> {
    let usable = ds.filter((d) => isSupportedAlgorithm(d.algorithm) && DS_DIGESTS.has(d.digestType));
    // RFC 4509 section 3: with a SHA-256 (or stronger) DS present, SHA-1 ones are ignored.
    if (usable.some((d) => d.digestType !== 1)) usable = usable.filter((d) => d.digestType !== 1);
    if (usable.length === 0) {
      const algorithmsKnown = ds.some((d) => isSupportedAlgorithm(d.algorithm));
      return this.#remember({
        kind: "insecure",
        zone,
        until,
        why: `the DS set of ${zone || "."} names only ${
          algorithmsKnown ? "digest types" : "algorithms"
        } dnsd lacks (${ds.map((d) => `${d.algorithm}/${d.digestType}`).join(", ")})`,
        ede: algorithmsKnown ? Ede.UNSUPPORTED_DS_DIGEST : Ede.UNSUPPORTED_DNSKEY_ALGORITHM,
      });
    }
    const reply = await this.fetch(zone, RRType.DNSKEY, budget);
    if ("kind" in reply) return reply;
    const dnskeys = recordsAt(reply.answers, zone, RRType.DNSKEY);
    const matched: DnskeyData[] = [];
    for (const record of dnskeys) {
      if (record.data.type !== "DNSKEY") continue;
      for (const d of usable) {
        if (await dsMatches(zone, d, record.data)) {
          matched.push(record.data);
          break;
        }
      }
    }
    if (matched.length === 0) {
      const why = dnskeys.length === 0
        ? `no DNSKEY at ${zone || "."}`
        : `no DNSKEY of ${zone || "."} matches its DS (tags ${usable.map((d) => d.keyTag).join(", ")})`;
      return bogus(Ede.DNSKEY_MISSING, why);
    }
    return this.#checkKeys(zone, dnskeys, reply, matched, until);
  }

  /** Validates the DNSKEY set of `zone` with trusted keys given directly (a DNSKEY anchor). */
  async #keysOf(zone: string, trusted: readonly DnskeyData[], until: number, budget: Budget) {
    const reply = await this.fetch(zone, RRType.DNSKEY, budget);
    if ("kind" in reply) return reply;
    const dnskeys = recordsAt(reply.answers, zone, RRType.DNSKEY);
    if (dnskeys.length === 0) return bogus(Ede.DNSKEY_MISSING, `no DNSKEY at ${zone || "."}`);
    return this.#checkKeys(zone, dnskeys, reply, trusted, until);
  }

  async #checkKeys(
    zone: string,
    dnskeys: readonly ResourceRecord[],
    reply: Message,
    trusted: readonly DnskeyData[],
    until: number,
  ): Promise<ZoneState | ChainFailure> {
    const check = await this.#check(dnskeys, sigsFor(reply.answers, zone, RRType.DNSKEY), {
      zone,
      keys: trusted,
    });
    if (!check.ok) return bogus(check.ede, `DNSKEY set of ${zone || "."}: ${check.why}`);
    const keys = dnskeys.flatMap((record) => record.data.type === "DNSKEY" ? [record.data] : []);
    return this.#remember({ kind: "secure", zone, keys, until: Math.min(until, check.until) });
  }

  #check(
    rrset: readonly ResourceRecord[],
    sigs: Parameters<typeof checkRRset>[1],
    keys: ZoneKeys,
  ): Promise<Check> {
    return checkRRset(rrset, sigs, { keys, now: this.#options.now(), verifier: this.#options.verifier });
  }

  /** One label down from the secure `parent`: is `child` a signed zone, an unsigned one, or no cut? */
  async #step(parent: ZoneState & { kind: "secure" }, child: string, budget: Budget) {
    const reply = await this.fetch(child, RRType.DS, budget);
    if ("kind" in reply) return reply;
    const ds = recordsAt(reply.answers, child, RRType.DS);
    if (ds.length > 0) {
      const check = await this.#check(ds, sigsFor(reply.answers, child, RRType.DS), parent);
      if (!check.ok) return bogus(check.ede, `DS set of ${child}: ${check.why}`);
      const data = ds.flatMap((record) => record.data.type === "DS" ? [record.data] : []);
      return this.#keysByDs(child, data, Math.min(parent.until, check.until), budget);
    }
    const cname = recordsAt(reply.answers, child, RRType.CNAME);
    if (cname.length > 0) {
      // A CNAME cannot sit beside NS, so a validated one says this is no cut.
      const check = await this.#check(cname, sigsFor(reply.answers, child, RRType.CNAME), parent);
      return check.ok ? parent : bogus(check.ede, `CNAME at ${child}: ${check.why}`);
    }
    const proof = await this.verifiedDenial(reply.authorities, parent);
    if ("kind" in proof) return proof;
    let outcome;
    if (proof.nsec3.length > 0) {
      const set = nsec3Set(proof.nsec3)!;
      const unusable = nsec3Unusable(set);
      if (unusable) {
        return this.#remember({ kind: "insecure", zone: child, until: parent.until, why: unusable });
      }
      outcome = nsec3CutProof(set, child, parent.zone);
    } else if (proof.nsecs.length > 0) {
      outcome = nsecCutProof(proof.nsecs, child);
    } else {
      return bogus(Ede.NSEC_MISSING, `no DS at ${child} and no NSEC or NSEC3 proving it`);
    }
    if (outcome === "no-cut") return parent;
    if (outcome === "insecure-delegation") {
      return this.#remember({
        kind: "insecure",
        zone: child,
        until: Math.min(parent.until, proof.until),
        why: `${child} is an unsigned delegation from ${parent.zone || "."}`,
      });
    }
    return bogus(Ede.BOGUS, `no DS at ${child}: ${outcome.failed}`);
  }

  /**
   * The NSEC and NSEC3 records of `authority` owned at or below the secure `zone`, each checked with its
   * RRSIGs; an unsigned or badly signed one fails the whole.
   */
  async verifiedDenial(
    authority: readonly ResourceRecord[],
    zone: ZoneState & { kind: "secure" },
  ): Promise<{ nsecs: Nsec[]; nsec3: ResourceRecord[]; until: number } | ChainFailure> {
    const nsecs: Nsec[] = [];
    const nsec3: ResourceRecord[] = [];
    let until = Infinity;
    for (const record of authority) {
      const data = record.data;
      if (data.type !== "NSEC" && data.type !== "NSEC3") continue;
      if (!isAtOrBelow(nameKey(record.name), zone.zone)) continue;
      const type = data.type === "NSEC" ? RRType.NSEC : RRType.NSEC3;
      const sigs = sigsFor(authority, record.name, type);
      // Another zone's proof (a child's, further down a CNAME chain) is that zone's business.
      if (sigs.length > 0 && !sigs.some((sig) => nameKey(sig.signerName) === zone.zone)) continue;
      const check = await this.#check([record], sigs, zone);
      if (!check.ok) return bogus(check.ede, `${data.type} at ${nameKey(record.name)}: ${check.why}`);
      until = Math.min(until, check.until);
      if (data.type === "NSEC") {
        nsecs.push({ owner: nameKey(record.name), next: nameKey(data.nextDomainName), types: data.types });
      } else nsec3.push(record);
    }
    return { nsecs, nsec3, until };
  }

  /** Checks `rrset` with its RRSIGs in `records` against the secure zone's keys. */
  checkWith(
    rrset: readonly ResourceRecord[],
    records: readonly ResourceRecord[],
    zone: ZoneKeys,
  ): Promise<Check> {
    const first = rrset[0]!;
    return this.#check(rrset, sigsFor(records, first.name, typeCode(first.data)), zone);
  }
}

function typeLabel(type: number): string {
  return type === RRType.DS ? "DS" : type === RRType.DNSKEY ? "DNSKEY" : String(type);
}
