/**
 * Policy: who may ask and who may recurse (access control), and how much an abuser gets back.
 * Layer 3, beside `resolve/` and `block/`: its hooks and stages are typed on their own shapes.
 * @module
 */
export { parsePrefix, PrefixError, PrefixSet } from "./acl_prefix.ts";
export type { Prefix } from "./acl_prefix.ts";
export {
  accessCheck,
  accessControl,
  DEFAULT_RECURSION_PREFIXES,
  recursionCheck,
  recursionGate,
} from "./acl.ts";
export type { AccessRules, ClientContext, RecursionRules } from "./acl.ts";
