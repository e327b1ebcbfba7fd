// Running real TLS client programs (curl, gnutls-cli, NSS tstclnt) against
// the loopback harness, with a hard timeout. A missing program is a test
// *failure* naming the Debian package (.ci/run installs them all): interop
// that silently skips proves nothing.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";

const PACKAGES: Record<string, string> = {
  curl: "curl", "gnutls-cli": "gnutls-bin", tstclnt: "libnss3-tools", certutil: "libnss3-tools", openssl: "openssl",
};

/** Fails the test unless `cmd` runs (`cmd probeArgs` exits with a status, any status). */
export function requireTool(cmd: string, probeArgs: readonly string[] = ["--version"]): void {
  const r = spawnSync(cmd, probeArgs, { stdio: "ignore", timeout: 5000 });
  assert.ok(
    !r.error && r.status !== null,
    `${cmd} is not installed (apt-get install ${PACKAGES[cmd] ?? cmd}; .ci/run installs it): ${r.error?.message ?? "no exit status"}`,
  );
}

export interface ToolRun {
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ToolOptions {
  /** Written to stdin at once (the pipe and Node buffer what the client does not read yet). */
  readonly stdin?: Buffer | string;
  /**
   * Keep stdin open until this holds for the stdout seen so far (e.g. every
   * echoed byte arrived); without it stdin ends right after `stdin`.
   */
  readonly endStdinWhen?: (stdout: Buffer) => boolean;
  readonly timeoutMs: number;
  readonly env?: NodeJS.ProcessEnv;
}

/** Runs `cmd args`; rejects (after killing it) on timeout, with what it printed so far. */
export function runTool(cmd: string, args: readonly string[], opts: ToolOptions): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], env: opts.env ?? process.env });
    const out: Buffer[] = [];
    let outLength = 0;
    let err = "";
    let stdinEnded = false;
    const endStdin = () => {
      if (!stdinEnded) {
        stdinEnded = true;
        p.stdin.end();
      }
    };
    p.stdin.on("error", () => {}); // the client may exit before reading everything
    p.stdout.on("data", (d: Buffer) => {
      out.push(d);
      outLength += d.length;
      if (opts.endStdinWhen?.(Buffer.concat(out, outLength))) endStdin();
    });
    p.stderr.on("data", (d: Buffer) => (err += d.toString("latin1")));
    const timer = setTimeout(() => {
      p.kill("SIGKILL");
      reject(new Error(`${cmd} ${args.join(" ")}: no exit within ${opts.timeoutMs} ms\nstdout: ${Buffer.concat(out).toString("latin1").slice(-2000)}\nstderr: ${err.slice(-2000)}`));
    }, opts.timeoutMs);
    p.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    p.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ stdout: Buffer.concat(out), stderr: err, code, signal });
    });
    if (opts.stdin !== undefined) p.stdin.write(opts.stdin);
    if (!opts.endStdinWhen) endStdin();
  });
}
