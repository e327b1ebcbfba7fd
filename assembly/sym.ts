// Entry of sym.wasm: hashes, HMAC, TLS PRFs, AES/CBC, RC4 and whole-record
// seal/open. Each area lives in its own file and is re-exported here.
export { scratchPtr, scratchSize } from "./io";
export * from "./md5";
export * from "./sha1";
export * from "./sha256";
export * from "./hmac";
export * from "./prf";
export * from "./aes";
export * from "./cbc";
export * from "./rc4";
export * from "./record";
