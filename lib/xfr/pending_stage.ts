/**
 * The stage in front of local data for secondary zones: a name in a zone dnsd is secondary for
 * but has not loaded yet, or whose copy expired, gets SERVFAIL (EDE Not Ready), never an answer
 * from elsewhere (as NSD and Knot answer SERVFAIL for a zone they hold no copy of).
 * @module
 */
import { NotReady } from "../proto/mod.ts";
import type { Request, Resolve, Stage } from "../resolve/mod.ts";

/** Whether `name` is in a secondary zone with no copy to serve. */
export type ZoneNotReady = (name: string) => boolean;

/** The stage: SERVFAIL for names of secondary zones not served now; the rest goes on. */
export function pendingZones(notReady: ZoneNotReady): Stage {
  return function pendingZonesStage(request: Request, next: Resolve) {
    const name = request.message.questions[0]!.name;
    if (!notReady(name)) return next(request);
    return Promise.reject(new NotReady(`the zone of ${name || "."} is not loaded from its primary`));
  };
}
