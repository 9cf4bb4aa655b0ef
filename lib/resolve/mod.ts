/**
 * The resolver's shape: the stage contract and chain, the request context every stage sees, the
 * authoritative stage over local data, and the memo of encoded answers.
 * @module
 */
export { authoritative } from "./authority.ts";
export { chain, logQueries, requireRecursion } from "./resolver.ts";
export { admission } from "./request.ts";
export type { QueryContext, QueryHook, Request, Resolve, Stage, Transport, Verdict } from "./request.ts";
export { ResponseMemo } from "./response_memo.ts";
export { chaos, chaosText, characterStrings } from "./chaos.ts";
export type { ChaosSettings } from "./chaos.ts";
export {
  compileDefaultZones,
  DEFAULT_ZONE_TTL,
  DEFAULT_ZONES,
  defaultZoneAnswer,
  defaultZoneOf,
  defaultZones,
  hasNamesBelow,
} from "./default_zones.ts";
export type { DefaultAnswer, DefaultZones, DefaultZonesOptions } from "./default_zones.ts";
export { isSingleLabelAddressQuery, singleLabel } from "./single_label.ts";
export type { SingleLabelOptions } from "./single_label.ts";
