import { test } from "node:test";
import assert from "node:assert/strict";
import { Reader, Writer, encode } from "../../src/tls/codec/index.js";
import { hex, throwsDecode, toHex } from "./helpers.js";

test("integers round-trip at their bounds", () => {
  const bytes = encode((w) => {
    w.u8(0xff).u16(0xfffe).u24(0xfffffd).u32(0xfffffffc).u64(0xfffffffffffffffbn);
  });
  assert.equal(toHex(bytes), "fffffefffffdfffffffcfffffffffffffffb");
  const r = new Reader(bytes, "T");
  assert.equal(r.u8("a"), 0xff);
  assert.equal(r.u16("b"), 0xfffe);
  assert.equal(r.u24("c"), 0xfffffd);
  assert.equal(r.u32("d"), 0xfffffffc);
  assert.equal(r.u64("e"), 0xfffffffffffffffbn);
  assert.ok(r.atEnd());
  r.expectEnd();
});

test("writer rejects values that do not fit", () => {
  const w = new Writer();
  assert.throws(() => w.u8(256), RangeError);
  assert.throws(() => w.u16(-1), RangeError);
  assert.throws(() => w.u24(2 ** 24), RangeError);
  assert.throws(() => w.u32(1.5), RangeError);
  assert.throws(() => w.u64(2n ** 64n), RangeError);
  assert.throws(() => w.opaque8(new Uint8Array(256)), RangeError);
});

test("nested vectors fill their length prefixes on close", () => {
  const bytes = encode((w) => {
    w.vector16((w) => {
      w.u8(1).vector8((w) => w.bytes(hex("aabb")));
      w.vector24((w) => w.u16(7));
    });
  });
  assert.equal(toHex(bytes), "0009" + "01" + "02aabb" + "000002" + "0007");
  const r = new Reader(bytes, "T");
  const outer = r.vector16("outer");
  assert.equal(outer.u8("x"), 1);
  assert.equal(toHex(outer.opaque8("inner")), "aabb");
  assert.equal(outer.vector24("deep").u16("v"), 7);
  outer.expectEnd();
  r.expectEnd();
});

test("writer grows past its initial capacity", () => {
  const w = new Writer(1);
  const big = new Uint8Array(100_000).fill(7);
  w.opaque24(big);
  const out = w.finish();
  assert.equal(out.length, 100_003);
  assert.equal(new Reader(out, "T").opaque24("big").length, 100_000);
});

test("reads past the end name the field", () => {
  throwsDecode(() => new Reader(hex("01"), "Msg").u16("version"), "decode_error", "Msg.version", /needs 2 bytes, 1 remain/);
  throwsDecode(() => new Reader(hex("0005aabb"), "Msg").vector16("list"), "decode_error", "Msg.list", /length 5 exceeds the 2 bytes/);
  throwsDecode(() => new Reader(hex(""), "Msg").bytes(32, "random"), "decode_error", "Msg.random");
});

test("vector ranges are enforced", () => {
  throwsDecode(() => new Reader(hex("00"), "M").vector8("v", { min: 1, max: 4 }), "decode_error", "M.v", /length 0 outside <1..4>/);
  throwsDecode(
    () => new Reader(hex("05 0102030405"), "M").vector8("v", { min: 1, max: 4 }),
    "decode_error",
    "M.v",
    /length 5 outside/,
  );
});

test("sub-readers are confined to their vector and named after it", () => {
  const r = new Reader(hex("02 0102 03"), "M");
  const v = r.vector8("v");
  v.u16("x");
  throwsDecode(() => v.u8("y"), "decode_error", "M.v.y");
  assert.equal(r.u8("after"), 3);
});

test("expectEnd reports trailing bytes", () => {
  const r = new Reader(hex("010203"), "M");
  r.u8("a");
  throwsDecode(() => r.expectEnd(), "decode_error", "M", /2 trailing bytes/);
});

test("u16List insists on an even length and names elements by index", () => {
  const r = new Reader(hex("0007 00010002000300"), "ClientHello");
  throwsDecode(() => r.vector16("cipher_suites").u16List(), "decode_error", "ClientHello.cipher_suites", /^ClientHello\.cipher_suites: odd length 7$/);
  assert.deepEqual(new Reader(hex("00010002"), "L").u16List(), [1, 2]);
});

test("Writer.uint53 writes what u64 writes for every safe integer width, and refuses the rest", () => {
  for (const v of [0, 1, 0xff, 0xffffffff, 0x100000000, 2 ** 40 + 12345, Number.MAX_SAFE_INTEGER]) {
    assert.deepEqual(new Writer().uint53(v).finish(), new Writer().u64(BigInt(v)).finish(), `value ${v}`);
  }
  assert.throws(() => new Writer().uint53(-1), /uint53 out of range: -1/);
  assert.throws(() => new Writer().uint53(2 ** 53), /uint53 out of range/);
  assert.throws(() => new Writer().uint53(1.5), /uint53 out of range: 1.5/);
});

test("Writer.reset: a reused writer encodes exactly what a fresh one does, and earlier results stay intact", () => {
  const w = new Writer(4);
  const long = w.reset().opaque16(new Uint8Array(300).fill(7)).finish();
  const short = w.reset().u8(1).opaque8(new Uint8Array([9, 9])).finish();
  assert.deepEqual(short, new Writer().u8(1).opaque8(new Uint8Array([9, 9])).finish());
  assert.equal(long.length, 302);
  assert.ok(long.subarray(2).every((b) => b === 7), "a finished result is a copy, untouched by later use");
});
