// AES known answers: FIPS-197 (Nov 2001) Appendix C, "Example Vectors"
// (C.1 AES-128, C.3 AES-256), and NIST SP 800-38A (Dec 2001) Appendix F.2,
// CBC examples F.2.1-F.2.2 (CBC-AES128) and F.2.5-F.2.6 (CBC-AES256).
// All values hex. SP 800-38A uses the same four plaintext blocks throughout;
// decryption (F.2.2, F.2.6) is the same table read from ciphertext to
// plaintext.

export interface BlockVector {
  readonly name: string;
  readonly key: string;
  readonly plaintext: string;
  readonly ciphertext: string;
}

/** FIPS-197 Appendix C: one block, cipher (and inverse cipher) output. */
export const FIPS197_APPENDIX_C: readonly BlockVector[] = [
  {
    name: "FIPS-197 C.1 AES-128",
    key: "000102030405060708090a0b0c0d0e0f",
    plaintext: "00112233445566778899aabbccddeeff",
    ciphertext: "69c4e0d86a7b0430d8cdb78070b4c55a",
  },
  {
    name: "FIPS-197 C.3 AES-256",
    key: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
    plaintext: "00112233445566778899aabbccddeeff",
    ciphertext: "8ea2b7ca516745bfeafc49904b496089",
  },
];

export interface CbcVector {
  readonly name: string;
  readonly key: string;
  readonly iv: string;
  /** Four blocks each. */
  readonly plaintext: readonly string[];
  readonly ciphertext: readonly string[];
}

const SP800_38A_PLAINTEXT = [
  "6bc1bee22e409f96e93d7e117393172a",
  "ae2d8a571e03ac9c9eb76fac45af8e51",
  "30c81c46a35ce411e5fbc1191a0a52ef",
  "f69f2445df4f9b17ad2b417be66c3710",
];

export const SP800_38A_CBC: readonly CbcVector[] = [
  {
    name: "SP 800-38A F.2.1/F.2.2 CBC-AES128",
    key: "2b7e151628aed2a6abf7158809cf4f3c",
    iv: "000102030405060708090a0b0c0d0e0f",
    plaintext: SP800_38A_PLAINTEXT,
    ciphertext: [
      "7649abac8119b246cee98e9b12e9197d",
      "5086cb9b507219ee95db113a917678b2",
      "73bed6b8e3c1743b7116e69e22229516",
      "3ff1caa1681fac09120eca307586e1a7",
    ],
  },
  {
    name: "SP 800-38A F.2.5/F.2.6 CBC-AES256",
    key: "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
    iv: "000102030405060708090a0b0c0d0e0f",
    plaintext: SP800_38A_PLAINTEXT,
    ciphertext: [
      "f58c4c04d6e5f1ba779eabfb5f7bfbd6",
      "9cfc4e967edb808d679f777bc6702c7d",
      "39f23369a9d9bacfa530e26304231461",
      "b2eb05e2c39be9fcda6c19078c6a9d1b",
    ],
  },
];
