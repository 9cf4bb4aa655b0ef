/**
 * Zone transfers: AXFR (RFC 5936) and IXFR (RFC 1995) served from the loaded zones and a journal
 * of their changes, NOTIFY (RFC 1996) sent and received, and secondary zones kept in step with
 * their primaries, all signed with TSIG (lib/tsig) when keys are set.
 * @module
 */
export { serialNewer } from "./serial.ts";
