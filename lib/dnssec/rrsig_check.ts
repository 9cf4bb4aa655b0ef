/**
 * Checks an RRset against its RRSIGs and a zone's validated DNSKEYs (RFC 4035 section 5.3): the signer
 * is the zone, the labels field fits the owner, the validity window holds (serial-number arithmetic,
 * RFC 4034 section 3.1.5), a key with the right tag and algorithm verifies the signature.
 * @module
 */
import { isAtOrBelow, nameKey, type RData, type ResourceRecord, typeName } from "../proto/mod.ts";
import { labelCount, signedData } from "./canonical_rr.ts";
import { keyTag } from "./key_tag.ts";
import type { SignatureVerifier } from "./signature.ts";
import { Ede } from "./types.ts";

type DnskeyData = Extract<RData, { type: "DNSKEY" }>;
/** An RRSIG's data. */
export type RrsigData = Extract<RData, { type: "RRSIG" }>;

/** A zone and its validated DNSKEYs. */
export interface ZoneKeys {
  /** The zone's apex (a name key). */
  readonly zone: string;
  readonly keys: readonly DnskeyData[];
}

/** What checking an RRset gave. */
export type Check =
  | {
    readonly ok: true; /** When the proof lapses (seconds since the epoch). */
    readonly until: number;
    readonly labels: number;
  }
  | { readonly ok: false; readonly ede: number; readonly why: string };

/** How far `later` is past `earlier` in serial-number arithmetic (RFC 1982), as a signed number of seconds. */
export function serialDelta(later: number, earlier: number): number {
  return (later - earlier) | 0;
}

function isoTime(now: number, serial: number): string {
  return new Date((now + serialDelta(serial, now >>> 0)) * 1000).toISOString().replace(/\.000Z$/, "Z");
}

/** The RRSIGs in `records` covering `type` at `owner`. */
export function sigsFor(records: readonly ResourceRecord[], owner: string, type: number): RrsigData[] {
  const key = nameKey(owner);
  const sigs: RrsigData[] = [];
  for (const record of records) {
    if (record.data.type === "RRSIG" && record.data.typeCovered === type && nameKey(record.name) === key) {
      sigs.push(record.data);
    }
  }
  return sigs;
}

/**
 * Checks `rrset` (one owner, class and type) with `sigs` against `keys` at time `now`; any one good
 * signature makes it secure. When none is good the most telling failure is reported: a time window
 * (7 or 8) only when every signature failed on it alone.
 */
export async function checkRRset(
  rrset: readonly ResourceRecord[],
  sigs: readonly RrsigData[],
  context: { readonly keys: ZoneKeys; readonly now: number; readonly verifier: SignatureVerifier },
): Promise<Check> {
  const first = rrset[0];
  if (!first) return { ok: false, ede: Ede.BOGUS, why: "empty RRset" };
  const what = `${nameKey(first.name) || "."}/${typeName(sigs[0]?.typeCovered ?? 0)}`;
  if (sigs.length === 0) return { ok: false, ede: Ede.RRSIGS_MISSING, why: `no RRSIG for ${what}` };
  const { keys, now, verifier } = context;
  const now32 = now >>> 0;
  const owner = nameKey(first.name);
  const ownerLabels = labelCount(owner);
  let timeFailure: Check | undefined;
  let otherFailure: Check | undefined;
  for (const sig of sigs) {
    if (nameKey(sig.signerName) !== keys.zone || !isAtOrBelow(owner, keys.zone)) {
      otherFailure ??= {
        ok: false,
        ede: Ede.BOGUS,
        why: `RRSIG for ${what} by ${sig.signerName}, not ${keys.zone}`,
      };
      continue;
    }
    if (sig.labels > ownerLabels) {
      otherFailure ??= { ok: false, ede: Ede.BOGUS, why: `RRSIG for ${what} has ${sig.labels} labels` };
      continue;
    }
    if (serialDelta(sig.expiration, now32) < 0) {
      timeFailure ??= {
        ok: false,
        ede: Ede.SIGNATURE_EXPIRED,
        why: `RRSIG for ${what} expired at ${isoTime(now, sig.expiration)}`,
      };
      continue;
    }
    if (serialDelta(now32, sig.inception) < 0) {
      timeFailure ??= {
        ok: false,
        ede: Ede.SIGNATURE_NOT_YET_VALID,
        why: `RRSIG for ${what} not valid before ${isoTime(now, sig.inception)}`,
      };
      continue;
    }
    const candidates = keys.keys.filter((key) =>
      // the zone-key flag set and the REVOKE flag clear (RFC 4034 section 2.1.1, RFC 5011 section 3)
      key.algorithm === sig.algorithm && key.protocol === 3 && (key.flags & 0x0180) === 0x0100 &&
      keyTag(key) === sig.keyTag
    );
    if (candidates.length === 0) {
      otherFailure ??= {
        ok: false,
        ede: Ede.BOGUS,
        why: `no DNSKEY of ${keys.zone} with tag ${sig.keyTag} for ${what}`,
      };
      continue;
    }
    const data = signedData(rrset, sig);
    for (const key of candidates) {
      if (await verifier.verify(key.algorithm, key.publicKey, sig.signature, data)) {
        const ttl = Math.min(sig.originalTtl, ...rrset.map((record) => record.ttl));
        return {
          ok: true,
          until: Math.min(now + ttl, now + serialDelta(sig.expiration, now32)),
          labels: sig.labels,
        };
      }
    }
    otherFailure ??= {
      ok: false,
      ede: Ede.BOGUS,
      why: `RRSIG for ${what} (key ${sig.keyTag}) does not verify`,
    };
  }
  return otherFailure ?? timeFailure!;
}
