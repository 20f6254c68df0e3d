// Types of scripts/build.mjs, for the tests that import it.
export interface BuildTarget {
  name: string;
  inputs: string[];
  skip: string[];
  stamp: string;
  script: string;
}
export const TARGETS: BuildTarget[];
export function newestInput(root: string, target: BuildTarget): number;
export function isStale(root: string, target: BuildTarget): boolean;
export function writeStamp(root: string, target: BuildTarget, startedMs: number): void;
