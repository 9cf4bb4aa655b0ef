/**
 * Local data: zone files, hosts files and mappings.ts, parsed into one store; file sources, reload and
 * watching.
 * @module
 */
export { findZone } from "./local_data.ts";
export type { LocalData } from "./local_data.ts";
export { createReloader } from "./reloader.ts";
export type { Reloader, ReloadOutcome } from "./reloader.ts";
export { dataLoader } from "./sources.ts";
export type { LoadedData, ReloadOptions, ZoneFileSource } from "./sources.ts";
export { mappingsModule } from "./mappings_module.ts";
export type { MappingsModuleOptions } from "./mappings_module.ts";
export type { Mappings } from "./static_map.ts";
export { DEFAULT_SETTLE_MS, watchFiles } from "./watch.ts";
export type { FileWatch } from "./watch.ts";
export { rrsetOf } from "./zone.ts";
export { nsec3OwnerFor, nsecOwnerFor, signaturesAt } from "./zone_dnssec.ts";
export type { Nsec3Owner, Nsec3Parameters, NsecOwner, ZoneDnssec } from "./zone_dnssec.ts";
export type { Zone, ZoneNode } from "./zone.ts";
export type { ZoneNodes } from "./packed_nodes.ts";
export { buildZone } from "./zone.ts";
export { fixedData, withZones } from "./local_data.ts";
export { mappingRecords, typedData } from "./static_map.ts";
export { parseHosts, reverseName } from "./hosts.ts";
export { parseZoneFile } from "./zone_parser.ts";
export type { HostsData } from "./hosts.ts";
export type { LocalSources } from "./local_data.ts";
export type { MappingValue } from "./static_map.ts";
export type { ParsedRecords, ZoneParseOptions } from "./zone_parser.ts";
export type { RecordSet } from "./static_map.ts";
export type { OneOrMore } from "./static_map.ts";
export type { RRset } from "./zone.ts";
export { localDataFromShared, shareLocalData } from "./shared_data.ts";
export type { SharedLocalData, SharedZone } from "./shared_data.ts";
