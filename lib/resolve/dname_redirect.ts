/**
 * DNAME redirection for local data (RFC 6672 section 3.2): the DNAME above a name asked, and the
 * CNAME it makes for that name. The authoritative lookup (authority.ts) puts both in the answer
 * and follows the CNAME as any other.
 * @module
 */
import { rrsetOf, type Zone } from "../zone/mod.ts";
import {
  checkName,
  isAtOrBelow,
  nameKey,
  parentName,
  type ResourceRecord,
  RRType,
  withoutRootDot,
} from "../proto/mod.ts";
import type { Origin } from "./signed_answer.ts";

/** A DNAME above the name asked, and where it sits (for its RRSIGs). */
export interface Redirect {
  readonly record: ResourceRecord;
  readonly origin: Origin;
}

/** A CNAME record. */
export type CnameRecord = ResourceRecord & {
  readonly data: { readonly type: "CNAME"; readonly target: string };
};

/**
 * The DNAME that redirects `key` (a key of `zone`): the highest one strictly above it, at or below
 * the apex. Undefined when there is none, or when the zone cut `cut` lies above the DNAME: the
 * name is then delegated away.
 */
export function dnameAbove(zone: Zone, key: string, cut: string | undefined): Redirect | undefined {
  let found: Redirect | undefined;
  for (let name = key; name !== zone.key;) {
    name = parentName(name);
    const node = zone.nodes.get(name);
    const record = node && rrsetOf(node, RRType.DNAME)?.records[0];
    if (record) found = { record, origin: { zone, key: name, node } };
    if (name === "") break;
  }
  if (found && cut !== undefined && found.origin.key !== cut && isAtOrBelow(found.origin.key, cut)) {
    return undefined;
  }
  return found;
}

/**
 * The CNAME a DNAME makes for `name` (as asked): the DNAME owner's labels at its end replaced by
 * the DNAME's target, with the DNAME's TTL (RFC 6672 section 3.1). Null when that name would be
 * over 255 octets: the answer is then YXDOMAIN (section 2.2).
 */
export function synthesizedCname(name: string, dname: Redirect): CnameRecord | null {
  const { record } = dname;
  if (record.data.type !== "DNAME") return null;
  const asked = withoutRootDot(name);
  let suffix = asked;
  while (nameKey(suffix) !== dname.origin.key) suffix = parentName(suffix);
  const prefix = asked.slice(0, asked.length - suffix.length - (suffix === "" ? 0 : 1));
  const to = withoutRootDot(record.data.target);
  const target = to === "" ? prefix : `${prefix}.${to}`;
  try {
    checkName(target);
  } catch {
    return null;
  }
  return { name, class: record.class, ttl: record.ttl, data: { type: "CNAME", target } };
}
