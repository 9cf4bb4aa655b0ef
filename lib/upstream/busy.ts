/**
 * The cap on queries waiting for upstreams (`--max-outstanding`). Without it a silent upstream
 * holds every forwarded query for the whole `--timeout`, and a burst of new names grows memory
 * without bound; past the cap new queries fail at once, as unbound's does when its request list
 * is full and nothing can be jostled out.
 * @module
 */
import { QueryFailure } from "../proto/mod.ts";

/** The default cap on queries waiting for upstreams at once. */
export const DEFAULT_MAX_OUTSTANDING = 10_000;

/**
 * Too many queries are already waiting for upstreams: SERVFAIL at once, with an EDE (see
 * respond.ts `failureCode`). A QueryFailure but not an UpstreamError: it says nothing about the
 * name or the upstreams, so the cache does not remember it as the name's failure.
 */
export class UpstreamsBusy extends QueryFailure {
  /** The error class name. */
  override name = "UpstreamsBusy";
}
