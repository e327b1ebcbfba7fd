#!/usr/bin/env node
// Captures the first flight (the ClientHello records) that real TLS clients
// send, and saves it as hex fixtures under test/fixtures/client-hellos/.
//
// For each client: listen on a loopback port, start the client against it,
// read bytes until one whole handshake message has arrived (following the
// record and handshake length fields, so a ClientHello split over several
// records is captured whole), then hang up and stop the client. Nothing is
// ever answered, so no client gets past its ClientHello.
//
// Needs: openssl, curl, node (present), gnutls-cli (Debian gnutls-bin) and
// tstclnt (Debian libnss3-tools).
//
//   node scripts/capture-client-hellos.mjs            # all clients
//   node scripts/capture-client-hellos.mjs curl-tls12  # some, by name
//
// Randoms, session ids and key shares differ on every run; the tests only
// check what a client deterministically sends for the given command.

import { createServer } from "node:net";
import { spawn, execFileSync } from "node:child_process";
import { writeFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = join(root, "test/fixtures/client-hellos");

const RC4_PRIORITY = "NORMAL:-VERS-ALL:+VERS-TLS1.0:-KX-ALL:+RSA:-CIPHER-ALL:+ARCFOUR-128:-MAC-ALL:+SHA1";
const nodeScript = (opts) =>
  `const tls=require('tls');const s=tls.connect({host:'127.0.0.1',port:+process.argv[1],rejectUnauthorized:false,${opts}});s.on('error',()=>{})`;

/** name -> { cmd: argv with $PORT placeholders, version: argv printing the client's version } */
const clients = {
  "openssl-default-sni": {
    cmd: ["openssl", "s_client", "-connect", "127.0.0.1:$PORT", "-servername", "openssl.example"],
    version: ["openssl", "version"],
  },
  "openssl-tls12-sni": {
    cmd: ["openssl", "s_client", "-connect", "127.0.0.1:$PORT", "-tls1_2", "-servername", "example.com"],
    version: ["openssl", "version"],
  },
  "openssl-tls11": {
    cmd: ["openssl", "s_client", "-connect", "127.0.0.1:$PORT", "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"],
    version: ["openssl", "version"],
  },
  "openssl-tls1-aes128": {
    cmd: ["openssl", "s_client", "-connect", "127.0.0.1:$PORT", "-tls1", "-cipher", "AES128-SHA@SECLEVEL=0"],
    version: ["openssl", "version"],
  },
  "node-default": {
    cmd: ["node", "-e", nodeScript("servername:'node.example'"), "$PORT"],
    version: ["node", "--version"],
  },
  "node-tls1": {
    cmd: ["node", "-e", nodeScript("servername:'node.example',minVersion:'TLSv1',maxVersion:'TLSv1',ciphers:'AES128-SHA:@SECLEVEL=0'"), "$PORT"],
    version: ["node", "--version"],
  },
  "curl-default": {
    cmd: ["curl", "-sk", "--max-time", "5", "--resolve", "curl.example:$PORT:127.0.0.1", "https://curl.example:$PORT/"],
    version: ["curl", "--version"],
  },
  "curl-tls12": {
    cmd: ["curl", "-sk", "--max-time", "5", "--tlsv1.2", "--tls-max", "1.2", "--resolve", "curl.example:$PORT:127.0.0.1", "https://curl.example:$PORT/"],
    version: ["curl", "--version"],
  },
  "gnutls-default": {
    cmd: ["gnutls-cli", "--insecure", "--sni-hostname", "gnutls.example", "-p", "$PORT", "127.0.0.1"],
    version: ["gnutls-cli", "--version"],
  },
  "gnutls-rc4-tls1": {
    cmd: ["gnutls-cli", "--insecure", "--sni-hostname", "gnutls.example", "--priority", RC4_PRIORITY, "-p", "$PORT", "127.0.0.1"],
    version: ["gnutls-cli", "--version"],
  },
  "nss-tstclnt-tls10-12": {
    cmd: ["tstclnt", "-4", "-h", "127.0.0.1", "-p", "$PORT", "-a", "nss.example", "-D", "-o", "-G", "-V", "tls1.0:tls1.2"],
    version: ["dpkg-query", "-W", "-f", "NSS ${Version} (libnss3)", "libnss3"],
  },
};

/** Bytes needed for the first handshake message to be complete, or 0 if unknown yet. */
function firstMessageComplete(buf) {
  const hs = [];
  let at = 0;
  while (at + 5 <= buf.length) {
    const len = buf.readUInt16BE(at + 3);
    if (at + 5 + len > buf.length) break;
    if (buf[at] !== 22) return at + 5 + len; // not a handshake record: stop here
    hs.push(buf.subarray(at + 5, at + 5 + len));
    at += 5 + len;
    const body = Buffer.concat(hs);
    if (body.length >= 4 && body.length >= 4 + body.readUIntBE(1, 3)) return at;
  }
  return 0;
}

function capture(name, spec) {
  return new Promise((resolve, reject) => {
    let child;
    const timer = setTimeout(() => {
      child?.kill("SIGKILL");
      server.close();
      reject(new Error(`${name}: no complete ClientHello within 10 s`));
    }, 10_000);
    const server = createServer((sock) => {
      let buf = Buffer.alloc(0);
      sock.on("data", (d) => {
        buf = Buffer.concat([buf, d]);
        const end = firstMessageComplete(buf);
        if (end === 0) return;
        clearTimeout(timer);
        sock.destroy();
        server.close();
        child.kill("SIGKILL");
        resolve(buf.subarray(0, end));
      });
      sock.on("error", () => {});
    });
    server.listen(0, "127.0.0.1", () => {
      const port = String(server.address().port);
      const argv = spec.cmd.map((a) => a.replaceAll("$PORT", port));
      child = spawn(argv[0], argv.slice(1), { stdio: ["pipe", "ignore", "ignore"] });
      child.on("error", (e) => {
        clearTimeout(timer);
        server.close();
        reject(new Error(`${name}: cannot start ${argv[0]}: ${e.message}`));
      });
    });
  });
}

function shellQuote(a) {
  return /^[\w@%+=:,./$-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`;
}

const wanted = process.argv.slice(2);
mkdirSync(outDir, { recursive: true });
let failed = 0;
for (const [name, spec] of Object.entries(clients)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  try {
    const bytes = await capture(name, spec);
    const version = execFileSync(spec.version[0], spec.version.slice(1), { encoding: "utf8" }).split("\n")[0].trim();
    const hex = bytes.toString("hex").match(/.{1,64}/g).join("\n");
    const header = [
      `# ClientHello records captured by scripts/capture-client-hellos.mjs on ${new Date().toISOString().slice(0, 10)}`,
      `# Client: ${version}`,
      `# Command: ${spec.cmd.map(shellQuote).join(" ")}`,
      `# ($PORT was a loopback port; the capture server never answered.)`,
      `# Below: the bytes the client sent, as TLS records, in hex.`,
    ];
    writeFileSync(join(outDir, `${name}.hex`), header.join("\n") + "\n" + hex + "\n");
    console.log(`${name}: ${bytes.length} bytes (${version})`);
  } catch (e) {
    failed++;
    console.error(String(e.message ?? e));
  }
}
process.exit(failed === 0 ? 0 : 1);
