import { test } from "node:test";
import assert from "node:assert/strict";
import { constants, publicEncrypt, randomBytes } from "node:crypto";
import { RsaPool, RsaPoolSaturated, UnknownRsaKey } from "../../src/crypto/rsa-pool.js";
import { generateRsaKey } from "../../src/crypto/rsa-key.js";
import { nativeRsaPrivate, rsaPublicKeyObject } from "../../src/crypto/native/rsa.js";

const key = generateRsaKey(2048);

function encryptPremaster(premaster: Uint8Array): Uint8Array {
  return publicEncrypt({ key: rsaPublicKeyObject(key), padding: constants.RSA_PKCS1_PADDING }, premaster);
}

for (const provider of ["wasm", "native"] as const) {
  test(`RSA pool (${provider}) decrypts pre-master secrets and raw private ops off-thread`, async () => {
    const pool = new RsaPool({ keys: { main: key }, provider, threads: 2 });
    try {
      const premasters = Array.from({ length: 8 }, () => {
        const pm = randomBytes(48);
        pm[0] = 0x03;
        pm[1] = 0x03;
        return pm;
      });
      const random46 = randomBytes(46);
      const got = await Promise.all(premasters.map((pm) => pool.decryptPremaster("main", encryptPremaster(pm), 0x0303, random46)));
      got.forEach((g, i) => assert.deepEqual(Buffer.from(g), premasters[i]));

      // A client_version mismatch must silently give client_version || random46.
      const fallback = await pool.decryptPremaster("main", encryptPremaster(premasters[0]!), 0x0302, random46);
      assert.deepEqual(Buffer.from(fallback), Buffer.concat([Buffer.from([3, 2]), random46]));

      const input = randomBytes(256);
      input[0] = 0x01;
      assert.deepEqual(Buffer.from(await pool.privateOp("main", input)), Buffer.from(nativeRsaPrivate(key, input)));

      const stats = pool.stats();
      assert.equal(stats.threads, 2);
      assert.equal(stats.completed, 10);
      assert.equal(stats.failed, 0);
      assert.ok(stats.runTimeMs.max > 0, "run times are recorded");
    } finally {
      await pool.close();
    }
  });
}

test("RSA pool refuses unknown keys and sheds load when its queue is full", async () => {
  const pool = new RsaPool({ keys: { main: key }, provider: "native", threads: 1, maxQueue: 2 });
  try {
    await assert.rejects(pool.privateOp("other", new Uint8Array(256)), UnknownRsaKey);
    const input = randomBytes(256);
    input[0] = 0x01;
    const runs = Array.from({ length: 12 }, () => pool.privateOp("main", input).then(() => "ok", (e: unknown) => e));
    const outcomes = await Promise.all(runs);
    const refused = outcomes.filter((o) => o instanceof RsaPoolSaturated).length;
    assert.ok(refused > 0, "some submissions are refused");
    assert.ok(outcomes.filter((o) => o === "ok").length >= 2, "queued work still completes");
    assert.equal(pool.stats().refused, refused);
  } finally {
    await pool.close();
  }
});

test("RSA pool reports an operation's failure without dying", async () => {
  const pool = new RsaPool({ keys: { main: key }, provider: "wasm", threads: 1 });
  try {
    // Input ≥ n is rejected by the worker; the pool stays usable.
    await assert.rejects(pool.privateOp("main", new Uint8Array(256).fill(0xff)), /out of range/);
    const input = randomBytes(256);
    input[0] = 0x01;
    assert.equal((await pool.privateOp("main", input)).length, 256);
    assert.equal(pool.stats().failed, 1);
  } finally {
    await pool.close();
  }
});
