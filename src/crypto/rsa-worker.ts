// A worker of the RSA pool (rsa-pool.ts): runs one private-key operation per
// task with the provider chosen at pool creation. Stateless between tasks
// apart from the prepared keys each provider caches.
import { Piscina } from "piscina";
import type { RsaTask, RsaWorkerData } from "./rsa-pool.js";
import { wasmRsaDecryptPremaster, wasmRsaPrivate } from "./wasm/rsa.js";
import { nativeRsaDecryptPremaster, nativeRsaPrivate } from "./native/rsa.js";

const { provider, keys } = Piscina.workerData as RsaWorkerData;
const ops =
  provider === "native"
    ? { private: nativeRsaPrivate, premaster: nativeRsaDecryptPremaster }
    : { private: wasmRsaPrivate, premaster: wasmRsaDecryptPremaster };

export default function run(task: RsaTask): Uint8Array {
  const key = keys[task.keyId];
  if (!key) throw new Error(`rsa worker: unknown key id ${JSON.stringify(task.keyId)}`);
  switch (task.op) {
    case "private":
      return ops.private(key, task.input);
    case "premaster":
      return ops.premaster(key, task.ciphertext, task.clientVersion, task.random46);
    default: {
      const never: never = task;
      throw new Error(`rsa worker: unknown task ${JSON.stringify(never)}`);
    }
  }
}
