// cue-wasm ships no type declarations; test/helpers/cue.ts types what it uses.
declare module "cue-wasm" {
  export function init(): Promise<{ parse(src: string): Record<string, unknown> }>;
}
