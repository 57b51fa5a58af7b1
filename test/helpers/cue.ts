/**
 * Evaluates KubeVela CUE templates with a real CUE evaluator (cue-wasm, CUE
 * compiled to WebAssembly), the way KubeVela does: the template body, a
 * `context` and the component's `parameter` (properties) unified, `output` read.
 *
 * cue-wasm embeds CUE v0.4.3, older than KubeVela 1.10's v0.9.2; the templates
 * stay within what both accept (no list arithmetic, no newer builtins).
 */
import * as CUE from "cue-wasm";

type Cue = Awaited<ReturnType<typeof CUE.init>>;
let cue: Promise<Cue> | undefined;
export const loadCue = (): Promise<Cue> => (cue ??= CUE.init());

export class CueError extends Error {}

/** Evaluates CUE source to JSON; a CUE error becomes a CueError with CUE's message. */
export async function evalCue(source: string): Promise<Record<string, unknown>> {
  const c = await loadCue();
  try {
    return c.parse(source);
  } catch (e) {
    throw new CueError(typeof e === "string" ? e : ((e as Error).message ?? String(e)));
  }
}

/** Renders a component: its template with context and parameter, returning `output`. */
export async function renderTemplate(
  template: string,
  context: Record<string, unknown>,
  parameter: unknown,
): Promise<Record<string, unknown>> {
  const src = `${template}\ncontext: ${JSON.stringify(context)}\nparameter: ${JSON.stringify(parameter)}\n`;
  const out = await evalCue(src.replace(/^(import[\s\S]*?\n\n)/, "$1"));
  return out.output as Record<string, unknown>;
}

/** Evaluates a status policy (healthPolicy or customStatus) against a live object. */
export async function evalStatusPolicy(policy: string, output: unknown, parameter: unknown = {}): Promise<Record<string, unknown>> {
  return evalCue(`context: output: ${JSON.stringify(output)}\nparameter: ${JSON.stringify(parameter)}\n${policy}\n`);
}
