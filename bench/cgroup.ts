// CPU caps that make one small machine stand in for N machines: each node
// process runs in a cgroup of its own with a CFS quota (cgroup v1
// `cpu.cfs_quota_us` / `cpu.cfs_period_us`, or v2 `cpu.max` where the v2
// hierarchy has the cpu controller), so N capped nodes plus the load
// generator fit in the cores and adding a node adds a fixed slice of CPU, as
// adding a machine would (SSLACC §5.8 ran one node per machine).
//
// A process enters its cgroup before it execs node (`launcher`), so every
// thread it ever starts (shards, RSA workers, GC) is inside: writing a pid to
// v1's `tasks` would move that one thread only; `cgroup.procs` moves them all.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** How node processes are capped in this run. */
export type CapMode = "cgroup-v1" | "cgroup-v2" | "none";

export interface CapInfo {
  readonly mode: CapMode;
  /** CPU per node in cores (quota / period); null when uncapped. */
  readonly coresPerNode: number | null;
  readonly periodUs: number | null;
  readonly quotaUs: number | null;
  /** Why there is no cap (not root, no cpu controller), for the output. */
  readonly reason?: string;
}

const V1 = "/sys/fs/cgroup/cpu";
const V2 = "/sys/fs/cgroup";
/**
 * A short period: the quota is spent in bursts of at most `quota` then the
 * group waits for the next period. With 100 ms (the default) a 0.2-core node
 * would stall up to 80 ms at a time, longer than a cluster acknowledgement
 * should take; 10 ms keeps stalls below 8 ms.
 */
const PERIOD_US = 10_000;

export interface CgroupSet {
  readonly info: CapInfo;
  /** Command prefix that puts the process it execs into cgroup `name` (created on first use). */
  launcher(name: string): readonly string[];
  /** Removes every cgroup made by this set (their processes must have exited). */
  cleanup(): void;
}

function v2HasCpu(): boolean {
  try {
    return readFileSync(join(V2, "cgroup.controllers"), "utf8").split(/\s+/).includes("cpu");
  } catch {
    return false;
  }
}

function detect(): { mode: CapMode; reason?: string } {
  if (process.getuid?.() !== 0) return { mode: "none", reason: "not root: nodes run uncapped" };
  if (v2HasCpu()) return { mode: "cgroup-v2" };
  if (existsSync(join(V1, "cpu.cfs_quota_us"))) return { mode: "cgroup-v1" };
  return { mode: "none", reason: "no cgroup cpu controller (v1 or v2) found: nodes run uncapped" };
}

/**
 * Cgroups under `<root>/<prefix>-<name>` with `cores` of CPU each
 * (`cores === null` or no usable controller: no cap, launcher is empty).
 */
export function cgroupSet(prefix: string, cores: number | null): CgroupSet {
  const found = detect();
  if (cores === null || found.mode === "none") {
    const reason = cores === null ? "cap disabled (--cap 0)" : found.reason!;
    return { info: { mode: "none", coresPerNode: null, periodUs: null, quotaUs: null, reason }, launcher: () => [], cleanup: () => {} };
  }
  // The kernel's minimum quota is 1 ms.
  const quotaUs = Math.max(1000, Math.round(cores * PERIOD_US));
  const mode = found.mode;
  const root = mode === "cgroup-v1" ? V1 : V2;
  const made: string[] = [];
  const dirOf = (name: string) => join(root, `${prefix}-${name}`);
  const create = (dir: string) => {
    if (!existsSync(dir)) mkdirSync(dir);
    made.push(dir);
    if (mode === "cgroup-v1") {
      writeFileSync(join(dir, "cpu.cfs_period_us"), String(PERIOD_US));
      writeFileSync(join(dir, "cpu.cfs_quota_us"), String(quotaUs));
    } else {
      writeFileSync(join(dir, "cpu.max"), `${quotaUs} ${PERIOD_US}`);
    }
  };
  return {
    info: { mode, coresPerNode: quotaUs / PERIOD_US, periodUs: PERIOD_US, quotaUs },
    launcher(name) {
      const dir = dirOf(name);
      if (!made.includes(dir)) create(dir);
      // sh writes its own pid, then execs the command: same pid, already inside.
      return ["sh", "-c", 'echo $$ > "$1" && shift && exec "$@"', "sh", join(dir, "cgroup.procs")];
    },
    cleanup() {
      for (const dir of made.splice(0)) {
        try {
          rmdirSync(dir);
        } catch (e) {
          console.error(`cgroup ${dir} not removed: ${(e as Error).message}`);
        }
      }
    },
  };
}
