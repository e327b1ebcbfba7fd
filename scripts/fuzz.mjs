#!/usr/bin/env node
// Long fuzzing runs of the TLS codec and of the whole engine: the same
// properties as the bounded runs in `npm test` (test/tls/fuzz-targets.ts,
// test/tls/fuzz-engine.ts), with many more runs and a
// fresh random seed each time. The seed is printed first so any failure can
// be replayed exactly:
//
//   npm run build && node scripts/fuzz.mjs                 # every target, 50x the test runs
//   node scripts/fuzz.mjs --runs 1000000 --target deframer # one target, fixed run count
//   node scripts/fuzz.mjs --target engine                  # the engine targets only
//   node scripts/fuzz.mjs --seed 12345                     # replay a seed
//   node scripts/fuzz.mjs --forever                        # loop with new seeds until a failure
//
// Needs the compiled tests (dist/test/tls), i.e. `npm run build` first.
import fc from "fast-check";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    seed: { type: "string" },
    runs: { type: "string" },
    factor: { type: "string", default: "50" },
    target: { type: "string" },
    forever: { type: "boolean", default: false },
  },
});

const load = (file) => import(`../dist/test/tls/${file}`).catch((e) => {
  console.error(`cannot load dist/test/tls/${file} - run \`npm run build\` first (${e.message})`);
  process.exit(2);
});
const targets = [...(await load("fuzz-targets.js")).targets, ...(await load("fuzz-engine.js")).engineTargets];

const selected = targets.filter((t) => !values.target || t.name.toLowerCase().includes(values.target.toLowerCase()));
if (selected.length === 0) {
  console.error(`no target matches "${values.target}"; targets:\n  ${targets.map((t) => t.name).join("\n  ")}`);
  process.exit(2);
}

let round = 0;
do {
  const seed = values.seed !== undefined && round === 0 ? Number(values.seed) : (Math.random() * 2 ** 31) | 0;
  console.log(`seed ${seed}${values.forever ? ` (round ${round + 1})` : ""}`);
  for (const t of selected) {
    const numRuns = values.runs !== undefined ? Number(values.runs) : t.testRuns * Number(values.factor);
    const started = Date.now();
    const result = fc.check(t.property, { seed, numRuns });
    if (result.failed) {
      console.error(`FAILED: ${t.name}\n${fc.defaultReportMessage(result)}`);
      console.error(`replay: node scripts/fuzz.mjs --seed ${seed} --target ${JSON.stringify(t.name)} --runs ${numRuns}`);
      process.exit(1);
    }
    console.log(`  ok  ${t.name}: ${numRuns} runs in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  round++;
} while (values.forever);
