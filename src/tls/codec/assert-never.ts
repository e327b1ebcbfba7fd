// Exhaustiveness check for switches over discriminated unions: the call only
// compiles if every member was handled, and throws if a value outside the
// union arrives at run time anyway.

export function assertNever(x: never, what = "value"): never {
  throw new Error(`unhandled ${what}: ${JSON.stringify(x)}`);
}
