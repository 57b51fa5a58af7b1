/**
 * Which spec a request's status speaks for. Kratix owns `status.observedGeneration`
 * (it sets it when it starts a run, not when the table is ready), and a client that
 * just updated a request cannot know its new generation in advance; so whoever writes
 * a request (the DynamoDBTable component) stamps it with a digest of the spec it sent,
 * and the status step copies that digest into `status.readySpecDigest` only once the
 * ACK Table carrying that spec is ACTIVE and synced. A wait for
 * `readySpecDigest == <digest of what I applied>` then ends when the table is usable,
 * never on the previous spec's status.
 *
 * A refusal settles a spec too (decision 105): every final verdict, ready or stalled, also
 * writes the digest to `status.settledSpecDigest`. Pulumi waits for that, so a refused request
 * fails `pulumi up` as soon as its status says so (settledRefusal), instead of at the timeout.
 */
import { createHash } from "node:crypto";
import { API_GROUP } from "./rules.ts";

export const SPEC_DIGEST_ANNOTATION = `${API_GROUP}/spec-digest`;

/** JSON with object keys sorted at every level, so equal specs give equal text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** 16 hex characters of SHA-256 over the spec's canonical JSON. */
export function specDigest(spec: unknown): string {
  return createHash("sha256").update(canonicalJson(spec)).digest("hex").slice(0, 16);
}

/** The status fields a verdict about a spec is read from. */
export interface SettledStatus {
  readySpecDigest?: string;
  settledSpecDigest?: string;
  reason?: string;
  message?: string;
}

/**
 * Why the request's spec `digest` was refused, once its status settled on it without making it
 * ready; undefined while it is ready, or not settled on that spec.
 */
export function settledRefusal(status: SettledStatus | undefined, digest: string, request: string): string | undefined {
  if (!status || status.settledSpecDigest !== digest || status.readySpecDigest === digest) return undefined;
  return `DynamoDBRequest ${request} was refused (${status.reason ?? "no reason"}): ${status.message ?? "no message"}`;
}
