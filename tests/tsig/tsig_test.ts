/**
 * TSIG against a real signer's bytes: a query dig signed (`dig -y hmac-sha256:k1.example:...`) is
 * accepted by its key at its time and refused as RFC 8945 section 5.2 says otherwise; answers
 * dnsd signs are checked by the client side, a transfer's chain with unsigned runs included.
 * @module
 */
import assert from "node:assert/strict";
import { encodeMessage, query } from "../../lib/proto/mod.ts";
import {
  AnswerSigner,
  AnswerVerifier,
  locateTsig,
  parseTsigKey,
  rejectionTsig,
  signRequest,
  TsigError,
  TsigFailure,
  TsigKeyring,
  verifyRequest,
} from "../../lib/tsig/mod.ts";
import { hex } from "../_hex.ts";

const KEY = parseTsigKey("k1.example:hmac-sha256:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0");

/** `dig -y hmac-sha256:k1.example:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0 example.com SOA`, captured. */
const DIG_QUERY = hex`
  fec3 0120 0001 0000 0000 0002                         # id, RD AD, 1 question, 2 additional
  076578616d706c6503636f6d00 0006 0001                  # example.com SOA IN
  00 0029 04d0 00000000 000c 000a 0008 2d6d55c39064bd5d # OPT with a cookie
  026b31076578616d706c6500 00fa 00ff 00000000 003d      # k1.example TSIG ANY TTL 0
  0b686d61632d73686132353600                            # hmac-sha256
  00006b1454df 012c                                     # time signed, fudge 300
  0020 ce24ce66e8d05e6fa8f70a35ed71d344d2c45f4c68e9cab60117fb332658182a # MAC
  fec3 0000 0000                                        # original id, error, other length
`;
const DIG_TIME = 0x6b1454df;

Deno.test({
  name: "tsig: dig's signed query is read and accepted by its key within the fudge",
  async fn() {
    const located = locateTsig(DIG_QUERY)!;
    assert.equal(located.record.keyName, "k1.example");
    assert.equal(located.record.algorithm, "hmac-sha256");
    assert.equal(located.record.timeSigned, DIG_TIME);
    for (const now of [DIG_TIME, DIG_TIME - 300, DIG_TIME + 300]) {
      const verdict = await verifyRequest(DIG_QUERY, new TsigKeyring([KEY]), now);
      assert.equal(verdict.kind, "signed", `at ${now - DIG_TIME}`);
    }
  },
});

Deno.test({
  name: "tsig: a request is refused with BADKEY, BADSIG or BADTIME, in that order",
  async fn() {
    const rows: { name: string; keys: string[]; now: number; error: number }[] = [
      { name: "unknown key", keys: ["other:hmac-sha256:c2VjcmV0"], now: DIG_TIME, error: TsigError.BADKEY },
      {
        name: "other algorithm",
        keys: ["k1.example:hmac-sha512:c2VjcmV0"],
        now: DIG_TIME,
        error: TsigError.BADKEY,
      },
      {
        name: "wrong secret",
        keys: ["k1.example:hmac-sha256:d3Jvbmc="],
        now: DIG_TIME,
        error: TsigError.BADSIG,
      },
      {
        name: "wrong secret, late too",
        keys: ["k1.example:hmac-sha256:d3Jvbmc="],
        now: DIG_TIME + 1000,
        error: TsigError.BADSIG,
      },
      { name: "late", keys: [KEY_TEXT()], now: DIG_TIME + 301, error: TsigError.BADTIME },
      { name: "early", keys: [KEY_TEXT()], now: DIG_TIME - 301, error: TsigError.BADTIME },
    ];
    for (const row of rows) {
      const verdict = await verifyRequest(DIG_QUERY, new TsigKeyring(row.keys.map(parseTsigKey)), row.now);
      assert.equal(verdict.kind, "rejected", row.name);
      assert.equal(verdict.kind === "rejected" && verdict.error, row.error, row.name);
    }
  },
});

function KEY_TEXT(): string {
  return "k1.example:hmac-sha256:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0";
}

Deno.test({
  name: "tsig: a flipped octet anywhere in the signed part is BADSIG",
  async fn() {
    const keyring = new TsigKeyring([KEY]);
    for (const at of [2, 13, 30, 40]) {
      const bytes = DIG_QUERY.slice();
      bytes[at] = bytes[at]! ^ 0x01;
      const verdict = await verifyRequest(bytes, keyring, DIG_TIME);
      assert.equal(verdict.kind === "rejected" && verdict.error, TsigError.BADSIG, `octet ${at}`);
    }
  },
});

Deno.test({
  name: "tsig: a TSIG that is not the last record is a format error",
  fn() {
    const located = locateTsig(DIG_QUERY)!;
    const tsig = DIG_QUERY.slice(located.start);
    // TSIG first, the OPT after it: ARCOUNT stays 2.
    const moved = new Uint8Array([...DIG_QUERY.slice(0, 29), ...tsig, ...DIG_QUERY.slice(29, located.start)]);
    assert.throws(() => locateTsig(moved), /not the last/);
  },
});

Deno.test({
  name: "tsig: a signed request's answers, signed in a chain, pass the client's check; tampering does not",
  async fn() {
    const keyring = new TsigKeyring([KEY]);
    const clock = () => 1_700_000_000;
    const request = await signRequest(
      keyring.hmacs,
      KEY,
      encodeMessage(query({ name: "example.com", type: 252 }, { id: 7 })),
      clock(),
    );
    const verdict = await verifyRequest(request.bytes, keyring, clock());
    assert.equal(verdict.kind, "signed");
    if (verdict.kind !== "signed") return;
    const signer = new AnswerSigner(keyring.hmacs, verdict.signed, clock);
    const body = (n: number) =>
      encodeMessage({ ...query({ name: `m${n}.example.com`, type: 1 }, { id: 7 }), response: true });
    const messages = [
      await signer.sign(body(0)),
      await signer.sign(body(1)),
      await signer.sign(body(2)),
    ];
    const verifier = new AnswerVerifier(keyring.hmacs, KEY, request, clock);
    for (const message of messages) await verifier.accept(message);
    verifier.finish();
    // The second message altered: its MAC no longer holds.
    const altered = messages[1]!.slice();
    altered[20] = altered[20]! ^ 1;
    const strict = new AnswerVerifier(keyring.hmacs, KEY, request, clock);
    await strict.accept(messages[0]!);
    await assert.rejects(strict.accept(altered), TsigFailure);
    // A first message unsigned is refused; so is an answer that ends unsigned.
    await assert.rejects(new AnswerVerifier(keyring.hmacs, KEY, request, clock).accept(body(0)), TsigFailure);
    const open = new AnswerVerifier(keyring.hmacs, KEY, request, clock);
    await open.accept(messages[0]!);
    await open.accept(body(9));
    assert.throws(() => open.finish(), TsigFailure);
  },
});

Deno.test({
  name: "tsig: BADTIME answers are signed with dnsd's time in other data; BADKEY ones carry no MAC",
  async fn() {
    const keyring = new TsigKeyring([KEY]);
    const answer = encodeMessage({
      ...query({ name: "example.com", type: 6 }, { id: 0xfec3 }),
      response: true,
      rcode: 9,
    });
    const late = await verifyRequest(DIG_QUERY, keyring, DIG_TIME + 1000);
    assert.equal(late.kind, "rejected");
    if (late.kind !== "rejected") return;
    const badTime = locateTsig(await rejectionTsig(keyring.hmacs, answer, late, DIG_TIME + 1000))!.record;
    assert.equal(badTime.error, TsigError.BADTIME);
    assert.equal(badTime.timeSigned, DIG_TIME);
    assert.deepEqual([...badTime.other], [0, 0, 0x6b, 0x14, 0x58, 0xc7]);
    assert.equal(badTime.mac.length, 32);
    const unknown = await verifyRequest(DIG_QUERY, new TsigKeyring([]), DIG_TIME);
    if (unknown.kind !== "rejected") throw new Error("expected BADKEY");
    const badKey = locateTsig(await rejectionTsig(keyring.hmacs, answer, unknown, DIG_TIME))!.record;
    assert.equal(badKey.error, TsigError.BADKEY);
    assert.equal(badKey.mac.length, 0);
  },
});

Deno.test({
  name: "tsig: --tsig-key values are checked",
  fn() {
    assert.deepEqual(parseTsigKey("Key.Example.:HMAC-SHA512:AAEC").name, "key.example");
    for (
      const bad of [
        "k:hmac-sha256",
        "k:hmac-md5:AAEC",
        "k:hmac-sha256:!!",
        ":hmac-sha256:AAEC",
        "k:hmac-sha256:",
      ]
    ) {
      assert.throws(() => parseTsigKey(bad), Error, bad);
    }
  },
});
