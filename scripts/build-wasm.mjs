// Compiles the AssemblyScript crypto core: one .wasm per entry in asconfig.json.
// rsa.wasm holds the big-integer and RSA code (loaded by the RSA pool workers);
// sym.wasm holds hashes, HMAC, PRFs, AES, RC4 and whole-record seal/open
// (loaded by every thread that protects records).
import { readFileSync, mkdirSync } from "node:fs";
import { basename } from "node:path";
import asc from "assemblyscript/asc";

const config = JSON.parse(readFileSync(new URL("../asconfig.json", import.meta.url), "utf8"));
const target = process.argv.includes("--debug") ? "debug" : "release";
mkdirSync("build", { recursive: true });

let failed = false;
for (const entry of config.entries) {
  const out = `build/${basename(entry, ".ts")}.wasm`;
  const { error, stderr } = await asc.main(
    [entry, "--config", "asconfig.json", "--target", target, "--outFile", out],
    { stdout: process.stdout, stderr: process.stderr },
  );
  if (error) {
    console.error(`asc: ${entry}: ${error.message}`);
    failed = true;
  } else {
    console.log(`asc: ${entry} -> ${out}`);
  }
  void stderr;
}
process.exit(failed ? 1 : 0);
