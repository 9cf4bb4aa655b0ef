/**
 * Local record data behind one lookup path. Built once, then read-only: a reload builds a new
 * store and swaps it in whole, so a query sees the old data or the new, never a mix.
 * @module
 */
import { nameKey } from "./name.ts";
import { typeCode } from "./rdata.ts";
import { type ResourceRecord, RRClass, RRType } from "./types.ts";

/** What the local data says about a name and type. */
export type Lookup =
  | { readonly kind: "absent" }
  /** The name exists; `records` is empty when it has none of the asked type (NODATA). */
  | { readonly kind: "found"; readonly records: readonly ResourceRecord[] };

/** Read-only local data. */
export interface RecordStore {
  /** Looks up records of `type` (ANY matches every type) in class IN at `name`. */
  lookup(name: string, type: number): Lookup;
  /** How many records the store holds. */
  readonly size: number;
}

const ABSENT: Lookup = { kind: "absent" };

/** Builds a store from records; records of one name and type form one RRset. */
export function createStore(records: readonly ResourceRecord[]): RecordStore {
  const names = new Map<string, Map<number, ResourceRecord[]>>();
  for (const record of records) {
    const key = nameKey(record.name);
    let types = names.get(key);
    if (!types) names.set(key, types = new Map());
    const code = typeCode(record.data);
    const rrset = types.get(code);
    if (rrset) rrset.push(record);
    else types.set(code, [record]);
  }
  return {
    size: records.length,
    lookup(name, type) {
      const types = names.get(nameKey(name));
      if (!types) return ABSENT;
      if (type === RRType.ANY) return { kind: "found", records: [...types.values()].flat() };
      return { kind: "found", records: types.get(type) ?? [] };
    },
  };
}

/** Whether a question's class is one the local data answers (only IN today). */
export function isLocalClass(rrClass: number): boolean {
  return rrClass === RRClass.IN || rrClass === RRClass.ANY;
}
