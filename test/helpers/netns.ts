// Real-wire test support: bench/wire/netns.ts (the wire, a node's relay, the
// backend in its namespace) plus the tests' rule for a missing prerequisite.
//
// Issue 7: these tests are "skipped with a loud message only where root or
// /dev/net/tun is missing — CI has both". Under CI (CI set, as .ci/run does)
// a missing prerequisite FAILS the test with the reason; elsewhere the test
// is skipped and the reason printed to stderr in a banner.
import type { TestContext } from "node:test";
import { wireMissing } from "../../bench/wire/netns.js";

export { nodeOnWire, startNsBackend, wireMissing, wireUp, WIRE_SCRIPT, type NodeOnWire, type NsBackend, type Wire } from "../../bench/wire/netns.js";

/** true: go on. false: the test was skipped (outside CI). Throws under CI. */
export function requireWire(t: TestContext, tools?: readonly string[]): boolean {
  const why = wireMissing(tools);
  if (why === null) return true;
  if (process.env.CI) throw new Error(`real-wire test cannot run under CI: ${why}`);
  process.stderr.write(`\n${"!".repeat(72)}\n!! SKIPPED real-wire test "${t.name}": ${why}\n!! (under CI — CI=1 or .ci/run — this is a failure)\n${"!".repeat(72)}\n`);
  t.skip(why);
  return false;
}

/**
 * Teardown in reverse order of setup (node:test runs `after` hooks in the
 * order they were added: the wire would go before the node using it, and
 * socat would see its TAP vanish).
 */
export function teardown(t: TestContext): (fn: () => unknown) => void {
  const stack: (() => unknown)[] = [];
  t.after(async () => {
    for (const fn of stack.reverse()) await fn();
  });
  return (fn) => void stack.push(fn);
}
