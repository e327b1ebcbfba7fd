// Entry of rsa.wasm: big integers, RSA (CRT, blinding, fault check) and the
// constant-time TLS PKCS#1 v1.5 pre-master unpadding.
export { scratchPtr, scratchSize } from "./io";
