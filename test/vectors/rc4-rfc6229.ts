// RC4 keystream test vectors from RFC 6229, "Test Vectors for the Stream
// Cipher RC4" (May 2011), §2. Each row is the 16 keystream bytes starting at
// the given offset (bytes produced since the key schedule, no discard).
// Transcribed: the 40-, 128- and 256-bit keys of the first set (key =
// 0x0102030405...) and the 40-bit key of the second set (0x833222772a).
// The offsets are the RFC's: around 256-byte boundaries up to 4096, which is
// what makes them seek tests (test/crypto/cipher-rc4.test.ts).

export interface Rc4Vector {
  readonly keyBits: number;
  /** Key, hex. */
  readonly key: string;
  /** [offset, 16 keystream bytes in hex]. */
  readonly keystream: readonly (readonly [number, string])[];
}

export const RFC6229: readonly Rc4Vector[] = [
  {
    keyBits: 40,
    key: "0102030405",
    keystream: [
      [0, "b2396305f03dc027ccc3524a0a1118a8"],
      [16, "6982944f18fc82d589c403a47a0d0919"],
      [240, "28cb1132c96ce286421dcaadb8b69eae"],
      [256, "1cfcf62b03eddb641d77dfcf7f8d8c93"],
      [496, "42b7d0cdd918a8a33dd51781c81f4041"],
      [512, "6459844432a7da923cfb3eb4980661f6"],
      [752, "ec10327bde2beefd18f9277680457e22"],
      [768, "eb62638d4f0ba1fe9fca20e05bf8ff2b"],
      [1008, "45129048e6a0ed0b56b490338f078da5"],
      [1024, "30abbcc7c20b01609f23ee2d5f6bb7df"],
      [1520, "3294f744d8f9790507e70f62e5bbceea"],
      [1536, "d8729db41882259bee4f825325f5a130"],
      [2032, "1eb14a0c13b3bf47fa2a0ba93ad45b8b"],
      [2048, "cc582f8ba9f265e2b1be9112e975d2d7"],
      [3056, "f2e30f9bd102ecbf75aaade9bc35c43c"],
      [3072, "ec0e11c479dc329dc8da7968fe965681"],
      [4080, "068326a2118416d21f9d04b2cd1ca050"],
      [4096, "ff25b58995996707e51fbdf08b34d875"],
    ],
  },
  {
    keyBits: 128,
    key: "0102030405060708090a0b0c0d0e0f10",
    keystream: [
      [0, "9ac7cc9a609d1ef7b2932899cde41b97"],
      [16, "5248c4959014126a6e8a84f11d1a9e1c"],
      [240, "065902e4b620f6cc36c8589f66432f2b"],
      [256, "d39d566bc6bce3010768151549f3873f"],
      [496, "b6d1e6c4a5e4771cad79538df295fb11"],
      [512, "c68c1d5c559a974123df1dbc52a43b89"],
      [752, "c5ecf88de897fd57fed301701b82a259"],
      [768, "eccbe13de1fcc91c11a0b26c0bc8fa4d"],
      [1008, "e7a72574f8782ae26aabcf9ebcd66065"],
      [1024, "bdf0324e6083dcc6d3cedd3ca8c53c16"],
      [1520, "b40110c4190b5622a96116b0017ed297"],
      [1536, "ffa0b514647ec04f6306b892ae661181"],
      [2032, "d03d1bc03cd33d70dff9fa5d71963ebd"],
      [2048, "8a44126411eaa78bd51e8d87a8879bf5"],
      [3056, "fabeb76028ade2d0e48722e46c4615a3"],
      [3072, "c05d88abd50357f935a63c59ee537623"],
      [4080, "ff38265c1642c1abe8d3c2fe5e572bf8"],
      [4096, "a36a4c301ae8ac13610ccbc12256cacc"],
    ],
  },
  {
    keyBits: 256,
    key: "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20",
    keystream: [
      [0, "eaa6bd25880bf93d3f5d1e4ca2611d91"],
      [16, "cfa45c9f7e714b54bdfa80027cb14380"],
      [240, "114ae344ded71b35f2e60febad727fd8"],
      [256, "02e1e7056b0f623900496422943e97b6"],
      [496, "91cb93c787964e10d9527d999c6f936b"],
      [512, "49b18b42f8e8367cbeb5ef104ba1c7cd"],
      [752, "87084b3ba700bade955610672745b374"],
      [768, "e7a7b9e9ec540d5ff43bdb12792d1b35"],
      [1008, "c799b596738f6b018c76c74b1759bd90"],
      [1024, "7fec5bfd9f9b89ce6548309092d7e958"],
      [1520, "40f250b26d1f096a4afd4c340a588815"],
      [1536, "3e34135c79db010200767651cf263073"],
      [2032, "f656abccf88dd827027b2ce917d464ec"],
      [2048, "18b62503bfbc077fbabb98f20d98ab34"],
      [3056, "8aed95ee5b0dcbfbef4eb21d3a3f52f9"],
      [3072, "625a1ab00ee39a5327346bddb01a9c18"],
      [4080, "a13a7c79c7e119b5ab0296ab28c300b9"],
      [4096, "f3e4c0a2e02d1d01f7f0a74618af2b48"],
    ],
  },
  {
    keyBits: 40,
    key: "833222772a",
    keystream: [
      [0, "80ad97bdc973df8a2e879e92a497efda"],
      [16, "20f060c2f2e5126501d3d4fea10d5fc0"],
      [240, "faa148e99046181fec6b2085f3b20ed9"],
      [256, "f0daf5bab3d596839857846f73fbfe5a"],
      [496, "1c7e2fc4639232fe297584b296996bc8"],
      [512, "3db9b249406cc8edffac55ccd322ba12"],
      [752, "e4f9f7e0066154bbd125b745569bc897"],
      [768, "75d5ef262b44c41a9cf63ae14568e1b9"],
      [1008, "6da453dbf81e82334a3d8866cb50a1e3"],
      [1024, "7828d074119cab5c22b294d7a9bfa0bb"],
      [1520, "adb89cea9a15fbe617295bd04b8ca05c"],
      [1536, "6251d87fd4aaae9a7e4ad5c217d3f300"],
      [2032, "e7119bd6dd9b22afe8f89585432881e2"],
      [2048, "785b60fd7ec4e9fcb6545f350d660fab"],
      [3056, "afecc037fdb7b0838eb3d70bcd268382"],
      [3072, "dbc1a7b49d57358cc9fa6d61d73b7cf0"],
      [4080, "6349d126a37afcba89794f9804914fdc"],
      [4096, "bf42c3018c2f7c66bfde524975768115"],
    ],
  },
];
