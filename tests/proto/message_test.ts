/**
 * Responses built from requests: the header-only reply to a query whose body cannot be decoded.
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { headerOnlyReply } from "../../lib/proto/message.ts";
import { Rcode } from "../../lib/proto/types.ts";
import { hex, toHex } from "../_hex.ts";

test("headerOnlyReply() keeps the ID, OPCODE and RD, sets QR and RA, and clears the rest", () => {
  const query = hex`
    abcd 7fff 0001 0000 0000 0001   # id=0xabcd, every flag but QR, the RCODE bits set; counts
    ff                              # a body that does not decode
  `;
  const reply = hex`
    abcd f981 0000 0000 0000 0000   # id=0xabcd QR OPCODE=15 RD RA FORMERR, no counts
  `;
  assert.equal(toHex(headerOnlyReply(query, Rcode.FORMERR)), toHex(reply));
});

test("headerOnlyReply() writes each OPCODE, RD and RCODE as the octets 0x80 | OPCODE | RD, 0x80 | RCODE", () => {
  const query = new Uint8Array(12);
  for (let octet = 0; octet < 256; octet++) {
    for (let rcode = 0; rcode < 16; rcode++) {
      query[2] = octet;
      query[3] = 0xff - octet;
      const reply = headerOnlyReply(query, rcode);
      if (reply[2] !== (0x80 | (octet & 0x79)) || reply[3] !== (0x80 | rcode)) {
        assert.fail(`flags ${octet.toString(16)}, rcode ${rcode}`);
      }
    }
  }
});
