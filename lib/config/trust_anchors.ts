/**
 * `--dnssec` and `--trust-anchor FILE`: the trust anchors validation starts from, read when the
 * command is parsed so a bad file stops start-up (or a reload) with one line naming file:line.
 * @module
 */
import { parseTrustAnchors, ROOT_ANCHORS } from "../dnssec/mod.ts";
import { ParseError, type ResourceRecord } from "../proto/mod.ts";
import { ConfigFileError } from "./errors.ts";

/** What validation is set up with: the anchors (the root's, or those the files hold). */
export interface DnssecSettings {
  /** DS or DNSKEY records. */
  readonly anchors: readonly ResourceRecord[];
}

/**
 * The validation settings: null when neither `--dnssec` nor a `--trust-anchor` is given; the
 * root's anchors with `--dnssec` alone; otherwise every DS and DNSKEY the files hold.
 * @throws {ConfigFileError} for a file that cannot be read, a line that is not a DS or DNSKEY, or no anchor
 */
export function trustAnchors(
  enabled: boolean,
  files: readonly string[],
  read: (path: string) => string = Deno.readTextFileSync,
): DnssecSettings | null {
  if (files.length === 0) return enabled ? { anchors: ROOT_ANCHORS } : null;
  const anchors: ResourceRecord[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = read(file);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) throw new ConfigFileError(`--trust-anchor ${file}: no such file`);
      const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
      throw new ConfigFileError(`--trust-anchor ${file}: cannot read it: ${reason}`, { cause: error });
    }
    try {
      anchors.push(...parseTrustAnchors(text, file));
    } catch (error) {
      if (error instanceof ParseError) throw new ConfigFileError(error.message);
      throw error;
    }
  }
  if (anchors.length === 0) {
    throw new ConfigFileError(`--trust-anchor ${files.join(", ")}: no DS or DNSKEY record`);
  }
  return { anchors };
}
