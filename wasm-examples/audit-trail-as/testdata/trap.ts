// A module for audit_test.go: its handler fails an assertion, to show where
// AssemblyScript's abort goes (assembly/eddy.ts). Built with the options of
// asconfig.json.
import * as eddy from "../assembly/eddy";

export function eddy_abi_v1(): void {}

export function handle(): i32 {
  eddy.log("about to fail");
  assert(eddy.input().length < 0, "input is never shorter than nothing");
  return 0;
}
