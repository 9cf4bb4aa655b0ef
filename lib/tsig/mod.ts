/**
 * TSIG (RFC 8945): shared-secret keys, a request's signature checked and its answer signed, a
 * request signed and its answers checked. Transfers, NOTIFY and signed queries use it.
 * @module
 */
export { Hmacs, parseTsigKey, TSIG_ALGORITHMS, TsigKeyError, TsigKeyring } from "./keys.ts";
export type { TsigKey } from "./keys.ts";
export { locateTsig, TSIG_TYPE } from "./record.ts";
export type { LocatedTsig, TsigRecord } from "./record.ts";
export {
  AnswerSigner,
  AnswerVerifier,
  DEFAULT_FUDGE,
  rejectionTsig,
  signRequest,
  TsigError,
  tsigErrorName,
  TsigFailure,
  tsigRoom,
  verifyRequest,
} from "./sign.ts";
export type { SignedQuery, SignedRequest, TsigVerdict, UnixClock } from "./sign.ts";
