// RSA known answers: "Test vectors for RSA PKCS#1 v1.5 Encryption"
// (pkcs1v15crypt-vectors.txt, RSA Laboratories, derived from the PKCS #1
// v2.1 OAEP vectors; distributed with the PKCS #1 test-vector set and
// mirrored e.g. in libtomcrypt's notes/rsa-testvectors/). Transcribed:
// Example 1 (1024-bit key) with Encryption Example 1.1, and Example 15
// (2048-bit key) with Encryption Examples 15.1 and 15.3.
//
// For each example the decryption (RSADP, RFC 8017 §5.1.2) of "Encryption"
// must be the encoded block EM = 00 02 || Seed || 00 || Message
// (RFC 8017 §7.2.1 step 2), and RSAEP of EM must give "Encryption" back.

/** Hex with any whitespace to bytes. */
export function hex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s.replace(/\s+/g, ""), "hex"));
}

export interface Pkcs1Example {
  name: string;
  message: string;
  seed: string;
  encryption: string;
}

export interface Pkcs1KeyVector {
  name: string;
  n: string;
  e: string;
  d: string;
  p: string;
  q: string;
  dp: string;
  dq: string;
  qinv: string;
  examples: Pkcs1Example[];
}

export const PKCS1V15_KEYS: Pkcs1KeyVector[] = [
  {
    name: "Example 1: A 1024-bit RSA key pair",
    n: `a8 b3 b2 84 af 8e b5 0b 38 70 34 a8 60 f1 46 c4
        91 9f 31 87 63 cd 6c 55 98 c8 ae 48 11 a1 e0 ab
        c4 c7 e0 b0 82 d6 93 a5 e7 fc ed 67 5c f4 66 85
        12 77 2c 0c bc 64 a7 42 c6 c6 30 f5 33 c8 cc 72
        f6 2a e8 33 c4 0b f2 58 42 e9 84 bb 78 bd bf 97
        c0 10 7d 55 bd b6 62 f5 c4 e0 fa b9 84 5c b5 14
        8e f7 39 2d d3 aa ff 93 ae 1e 6b 66 7b b3 d4 24
        76 16 d4 f5 ba 10 d4 cf d2 26 de 88 d3 9f 16 fb`,
    e: "01 00 01",
    d: `53 33 9c fd b7 9f c8 46 6a 65 5c 73 16 ac a8 5c
        55 fd 8f 6d d8 98 fd af 11 95 17 ef 4f 52 e8 fd
        8e 25 8d f9 3f ee 18 0f a0 e4 ab 29 69 3c d8 3b
        15 2a 55 3d 4a c4 d1 81 2b 8b 9f a5 af 0e 7f 55
        fe 73 04 df 41 57 09 26 f3 31 1f 15 c4 d6 5a 73
        2c 48 31 16 ee 3d 3d 2d 0a f3 54 9a d9 bf 7c bf
        b7 8a d8 84 f8 4d 5b eb 04 72 4d c7 36 9b 31 de
        f3 7d 0c f5 39 e9 cf cd d3 de 65 37 29 ea d5 d1`,
    p: `d3 27 37 e7 26 7f fe 13 41 b2 d5 c0 d1 50 a8 1b
        58 6f b3 13 2b ed 2f 8d 52 62 86 4a 9c b9 f3 0a
        f3 8b e4 48 59 8d 41 3a 17 2e fb 80 2c 21 ac f1
        c1 1c 52 0c 2f 26 a4 71 dc ad 21 2e ac 7c a3 9d`,
    q: `cc 88 53 d1 d5 4d a6 30 fa c0 04 f4 71 f2 81 c7
        b8 98 2d 82 24 a4 90 ed be b3 3d 3e 3d 5c c9 3c
        47 65 70 3d 1d d7 91 64 2f 1f 11 6a 0d d8 52 be
        24 19 b2 af 72 bf e9 a0 30 e8 60 b0 28 8b 5d 77`,
    dp: `0e 12 bf 17 18 e9 ce f5 59 9b a1 c3 88 2f e8 04
         6a 90 87 4e ef ce 8f 2c cc 20 e4 f2 74 1f b0 a3
         3a 38 48 ae c9 c9 30 5f be cb d2 d7 68 19 96 7d
         46 71 ac c6 43 1e 40 37 96 8d b3 78 78 e6 95 c1`,
    dq: `95 29 7b 0f 95 a2 fa 67 d0 07 07 d6 09 df d4 fc
         05 c8 9d af c2 ef 6d 6e a5 5b ec 77 1e a3 33 73
         4d 92 51 e7 90 82 ec da 86 6e fe f1 3c 45 9e 1a
         63 13 86 b7 e3 54 c8 99 f5 f1 12 ca 85 d7 15 83`,
    qinv: `4f 45 6c 50 24 93 bd c0 ed 2a b7 56 a3 a6 ed 4d
           67 35 2a 69 7d 42 16 e9 32 12 b1 27 a6 3d 54 11
           ce 6f a9 8d 5d be fd 73 26 3e 37 28 14 27 43 81
           81 66 ed 7d d6 36 87 dd 2a 8c a1 d2 f4 fb d8 e1`,
    examples: [
      {
        name: "PKCS#1 v1.5 Encryption Example 1.1",
        message: `66 28 19 4e 12 07 3d b0 3b a9 4c da 9e f9 53 23
                  97 d5 0d ba 79 b9 87 00 4a fe fe 34`,
        seed: `01 73 41 ae 38 75 d5 f8 71 01 f8 cc 4f a9 b9 bc
               15 6b b0 46 28 fc cd b2 f4 f1 1e 90 5b d3 a1 55
               d3 76 f5 93 bd 73 04 21 08 74 eb a0 8a 5e 22 bc
               cc b4 c9 d3 88 2a 93 a5 4d b0 22 f5 03 d1 63 38
               b6 b7 ce 16 dc 7f 4b bf 9a 96 b5 97 72 d6 60 6e
               97 47 c7 64 9b f9 e0 83 db 98 18 84 a9 54 ab 3c
               6f`,
        encryption: `50 b4 c1 41 36 bd 19 8c 2f 3c 3e d2 43 fc e0 36
                     e1 68 d5 65 17 98 4a 26 3c d6 64 92 b8 08 04 f1
                     69 d2 10 f2 b9 bd fb 48 b1 2f 9e a0 50 09 c7 7d
                     a2 57 cc 60 0c ce fe 3a 62 83 78 9d 8e a0 e6 07
                     ac 58 e2 69 0e c4 eb c1 01 46 e8 cb aa 5e d4 d5
                     cc e6 fe 7b 0f f9 ef c1 ea bb 56 4d bf 49 82 85
                     f4 49 ee 61 dd 7b 42 ee 5b 58 92 cb 90 60 1f 30
                     cd a0 7b f2 64 89 31 0b cd 23 b5 28 ce ab 3c 31`,
      },
    ],
  },
  {
    name: "Example 15: A 2048-bit RSA key pair",
    n: `dc fa 10 ff a7 46 65 ae ef 87 09 74 ea 99 b2 ce
        54 54 7c 67 f4 2a aa 6d d0 1a 2e d3 1f d2 c2 42
        af 5d 96 0b 1f 89 6e fb a3 54 3d 65 54 b7 b1 26
        87 a5 c6 88 56 8f 32 e0 26 c5 32 d2 59 93 b9 7a
        7c 28 42 ec 2b 8e 12 35 ee e2 41 4d 25 80 6c 6f
        ba e4 38 95 4e ba 9d 27 55 df fe eb 1b 47 70 09
        57 81 5a 8a 23 3f 97 b1 a2 c7 14 b3 e2 be 2e 42
        d8 be 30 b1 96 15 82 ea 99 48 91 0e 0c 79 7c 50
        fc 4b b4 55 f0 fc 45 e5 e3 4e 63 96 ac 5b 2d 46
        23 93 65 c7 f3 da af 09 09 40 0d 61 cf 9e 0c a8
        08 3e af 33 5a 6f ce b6 86 3c 1c c0 cf 5a 17 1a
        ff 35 d9 7e cb 60 ef 25 1c 7e c2 c8 a5 88 36 1d
        c4 12 66 a4 b7 ed 38 b0 26 ce 0d 53 78 64 49 db
        b1 1a 06 ea 33 cc f1 ec a5 75 20 1e d1 aa 47 3e
        d1 18 7e c1 d8 a7 44 ea 34 5b ed 7e a0 0e e4 e8
        1b ba 46 48 60 1d d5 37 dc 91 01 5d 31 f0 c2 c1`,
    e: "01 00 01",
    d: `21 95 08 51 cd f2 53 20 31 8b 30 5a fa 0f 37 1f
        07 ae 5a 44 b3 14 eb d7 29 f5 dc b1 5d a7 fa 39
        47 ac dd 91 5d ae d5 74 bd 16 df 88 bf 85 f6 10
        60 b3 87 17 2f ae 6e 01 26 2b 38 64 c2 d3 c2 2f
        94 e0 4a 81 59 42 2b 4e d2 79 c4 8a 4c 9d 76 7d
        49 66 07 1a 5b bf 5d 04 3e 16 ff 46 ec 1b a0 71
        6f 00 bb c9 7b ff 5d 56 93 e2 14 e9 9c 97 21 f1
        2b 3e c6 28 2a e2 a4 85 72 1b 96 dd cf 74 03 fa
        03 7d 0c 57 ab 46 3c 44 8d e5 cc 12 26 5a dd 88
        6d 31 1e a8 d8 a5 90 3f a5 6c 5f 1c 9c f2 eb 11
        cb 65 7a 1a 7d 3e 41 35 2d c3 e6 86 89 8c 4c e4
        30 5e 8b 63 8e 1b 08 a2 a8 6c c9 eb 98 66 f3 49
        9a c7 7b 61 36 b8 1c b2 76 d6 14 cf eb 7b 6e d3
        f3 bc 77 5e 46 c0 00 66 eb ee e2 cf f7 16 6b 57
        52 05 98 94 7f f6 21 03 20 b2 88 fb 4f 2c 3f 8f
        e9 7b 27 94 14 eb f7 20 30 00 a1 9f c0 42 48 75`,
    p: `f1 23 bf e5 3d e9 7a 56 9d 91 ad cf 55 6f a6 25
        ad 30 f3 fd 3d 81 1f 9e 91 e6 af 44 b6 e7 80 cb
        0f 32 78 29 fb 21 19 0a e2 80 66 46 d7 28 cd 9b
        65 31 13 2b 1e bf ef 12 72 99 30 60 f1 ce 70 b1
        24 39 30 91 ee 85 93 b7 27 36 7e db ba 00 9e c5
        be 17 c4 ac ee 12 0c 84 12 67 d4 76 31 a1 6c 36
        a6 d1 c9 99 73 c1 b0 b5 a8 35 bf 39 fe af e8 f6
        42 1f d9 c2 a9 0b c2 79 76 65 9e 67 bc 83 12 4d`,
    q: `ea 98 39 b7 e3 7e a8 9b bd a2 7e 4c 93 47 1c b4
        fd 92 18 9a 0a 96 bc b4 d7 56 93 f1 8a 5c 2f 74
        2a f9 e3 6f de 67 9f bd 9e ae 34 5f a2 69 52 7b
        69 65 02 1c 4b df 54 d6 85 bf 08 96 0c c9 76 f6
        8d ca 21 ce bf 44 f2 68 a5 9d ab 8d 1a 25 e5 19
        f5 14 7e 1f 45 fe 28 7d 74 cf 72 5b ec 13 26 d3
        42 12 c5 6c f4 ff fa 20 2f 57 b6 8e e8 cc a9 43
        f3 c1 38 c4 cd e3 3b df 2c 94 40 df 65 32 24 45`,
    dp: `ca 0c 9b 60 b8 e4 a6 06 67 56 c6 5d 20 88 41 9d
         f6 25 3b 7b 68 8a 85 f4 f6 e9 64 d8 5d ad 52 a4
         52 62 86 7f 1e 96 18 06 9f cc d8 65 e9 28 9e 46
         e3 9e 20 22 94 4c 5c 44 87 d3 45 cf 25 2d 46 0d
         97 7d 77 ed fe fe db cb ae 46 a2 3a f7 fa 47 0f
         07 7d a0 e5 09 42 04 4c b1 a3 60 49 7c c2 76 0a
         c0 f2 ad 4a 2f cd 0e 84 d7 a1 d9 4d fd d2 65 8f
         d9 ce 18 47 5c 1f a7 5e e0 ce ba d0 cf 0a c0 4d`,
    dq: `52 81 71 23 3c 4e 4a 6c 63 b8 67 64 f5 13 38 84
         6a fd db cb 29 58 34 4c 01 c4 00 4a 1d d8 28 14
         5a 1d 02 a1 50 7d ef 4f 58 24 7a 64 fc 10 c0 a2
         88 c1 ae 89 57 21 d7 8b 8f 04 4d b7 c0 0d 86 da
         55 a9 b6 54 29 2e cd 76 82 70 be 69 e4 bd 59 22
         d4 ef fd 1f 70 95 5f 96 27 e3 e1 9b 74 9e 93 b4
         0e f3 dd 1d 61 d9 39 15 e2 b0 9d 93 0b 4b 17 68
         bf ac c0 13 6f 39 b0 cf df b4 d0 50 01 1e 2e 65`,
    qinv: `df 2e b2 32 2c c2 da ab f4 d1 46 55 08 f4 15 21
           cd a7 ce ff 23 eb e6 1d 00 d4 41 ee 72 8d da 5d
           16 c7 bf 92 0c d9 5f 34 be b4 fe 32 ee 81 7e f3
           36 2e 0b cd 1d 12 45 f7 b0 77 93 ea a1 90 dc 5a
           37 fd af 4c 68 e2 ca 13 97 2d 7f 51 48 b7 96 b6
           fb 6d 7a dd a0 7b d2 cd 13 be 98 ce be d1 ed c6
           ca 41 2e 39 53 50 c5 9a 1d 84 2b c4 aa 2f 3c 0b
           24 3f de 7d fd 95 35 6f 24 39 25 1a 11 72 c4 5e`,
    examples: [
      {
        name: "PKCS#1 v1.5 Encryption Example 15.1",
        message: `2a ac ec 86 f4 23 dd 92 5e c1 58 82 2a 74 8c be
                  6c 31 a0`,
        seed: `cc 4b 87 f6 74 49 7b b0 e3 3d 9e 2a 4a 80 70 b7
               d7 8b 5f d2 c4 b4 f6 eb ac cd 4e e5 05 b7 1f ca
               fe 21 56 33 7d df 27 b4 75 af 33 f6 c3 40 5b 8e
               3c 0c 20 6e c2 81 29 22 fc d8 a3 66 1b 86 19 bb
               c1 82 f8 07 f3 a1 07 2e 62 ca 2b f1 fa 8b 94 4e
               58 a0 e2 03 db b7 53 f9 f1 b6 ef 62 7e be e5 98
               96 7b 38 7a 5f 96 36 d8 b6 41 b3 89 84 b1 ca 03
               7e 3a ae aa 17 10 f5 16 25 ea 85 f8 fb 9a 6e 02
               9e 64 57 58 14 d5 30 fc 14 6b 34 45 ac 42 01 b4
               e4 08 ad f6 55 f6 78 43 d8 87 1c ac e5 d9 06 d7
               fc 03 8f ea 88 5b 96 fb 8e b1 a7 21 c6 c1 4a bb
               eb 78 fb 4c 79 8a 19 58 99 59 89 84 55 a3 16 84
               3c 6c d9 9e f5 8c 2b 0b 49 b8 ab 41 91 b4 02 a5
               4c 92 97 31 0c d2 24 b1 7f 21 41 67 72 5c 48 fc
               c6 1b c4 7c fa cc f1 5e b3 b0`,
        encryption: `60 42 e7 45 58 9a f0 3a f8 75 20 f9 3c 45 d8 c3
                     59 85 ad a1 16 1a 37 d8 22 e9 f9 46 0f c7 5f cf
                     01 79 d8 49 1b 8f 5d 1e 4d e8 ce b3 1e 07 c4 86
                     5c 5a 3e fd bb b6 9a 88 03 b8 9e e6 5a 43 0a 58
                     09 c7 07 56 91 50 b5 80 bb 68 6a 94 c5 54 1c 46
                     ad cd 82 79 60 ce 24 4f f6 88 38 7d 16 16 e8 5b
                     4d 17 80 c6 48 36 06 cf 92 4b 54 f0 80 cf 41 54
                     e6 68 29 bf 6e 53 24 81 04 8e c4 1f ad c0 7d 75
                     5b b3 4b b2 81 45 21 9c b3 0d 47 d0 d6 18 70 91
                     80 e9 03 03 ff 9e f0 90 18 be d3 da 75 76 1d a7
                     94 81 1f 96 bc 9e 8d 7c 4b a1 b5 94 6b da 0b d3
                     13 fa ec 4c 99 3e d2 74 8e ed 8c ce 4b db 52 0b
                     a7 db 16 5f 9f e5 6a a8 45 4d 6f f3 38 74 fe ee
                     bf 29 de 2d f5 b7 f0 0a a1 d9 fb 07 3f c4 06 7b
                     58 dc 50 62 4e 12 7f 71 1d de 2c c2 cf da b4 91
                     9c cf 28 c8 36 60 df c2 27 b0 f5 00 ec 1f 90 4f`,
      },
      {
        name: "PKCS#1 v1.5 Encryption Example 15.3",
        message: "e2 00 4b 31 07 39 98 2c fa 9e 95 45 3a",
        seed: `e9 3e 64 12 33 7a b7 b0 f1 b5 69 80 1a 3c 16 4a
               6f 23 e3 c2 7c 7c 55 a8 c5 ac 9e af 31 88 55 f8
               32 8b 5d 7a b4 cb 86 19 a0 0e 99 41 cc aa 94 85
               70 52 71 82 61 74 43 c1 d2 1e 4a 6e 21 b3 f6 d4
               f6 98 a6 1a e0 29 17 2c f4 da 03 9d 91 58 5a 87
               da d1 28 c2 fa c5 53 1b 2f 45 dc ef 9b 9f c3 31
               c8 04 48 85 28 84 7c 90 87 5d 19 07 5f ff b0 05
               76 3d 88 e0 81 47 66 92 28 a9 aa d0 16 25 bc 61
               11 2c c7 b7 72 f3 21 d4 33 d4 f2 69 78 20 9d 0e
               79 67 6a f3 b8 a7 4b 97 3f 52 ab 91 90 85 f3 52
               35 5f 85 6a a4 0f fa bc e5 43 d4 e7 6d 45 48 92
               98 9c b3 83 f3 e6 6b bb 0e 8f ee bf f7 c6 a5 4e
               f2 62 5f c4 05 0e 6f 87 a3 23 13 2a 4e 67 12 68
               fb 83 cf f2 d8 22 51 b7 9c be 32 da a8 e5 53 20
               2f e8 87 22 61 f6 0d 5b b5 11 f2 fa 2f 14 21 a3`,
        encryption: `2b bf 6b 0c 5c f2 0e f2 f6 c5 a0 aa 48 45 4f 85
                     0a a5 f6 bb eb 03 0d b4 e2 be c1 1f b2 00 f0 1e
                     4e ae f0 44 d8 14 33 33 33 8e 5e 66 38 00 87 66
                     0e d0 17 3a 76 82 12 85 67 7e 37 1f 28 ec 45 00
                     f4 d5 9f ab ab 20 73 e7 34 36 5f c6 b0 94 ee 0a
                     db ce ac cf e2 49 88 ce 61 5d 60 5f c3 40 8c 03
                     be 22 1c 99 3f 61 aa 72 4f c8 71 4a 8a 4a 18 15
                     f9 e9 a9 98 82 aa 46 88 3e 70 47 4e 33 29 b9 91
                     e6 d5 3d c6 b5 00 86 19 92 34 3a 6d a8 9a 8b d6
                     f3 7f 34 e5 de ee f8 0e 7d 56 b9 3a 45 17 60 66
                     36 50 fa 45 5d 55 41 89 9a 76 aa d1 c6 27 5e c8
                     2c 46 07 12 26 59 b5 08 cb 5d c0 26 ac f9 3f a0
                     1a 5f ca 3d 81 c1 bb 20 a5 a5 cf 35 7a 23 c9 56
                     88 ea 42 eb 1e f2 c9 d4 6a e3 7f 8c be 61 5c 20
                     84 d9 89 b8 92 f0 16 7b 23 be 33 62 fa ce 80 8d
                     6a 5e b8 96 19 44 08 db 7c 01 63 9c 58 62 30 4c`,
      },
    ],
  },
];
