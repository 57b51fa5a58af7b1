/**
 * Kubernetes' rules for object metadata (k8s.io/apimachinery's validation):
 * label values are at most 63 characters of `(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?`,
 * while object names may be 253. Anything the platform copies from a request
 * into a label goes through labelValue(), so a long (but valid) request name
 * still renders a valid object.
 */
import { createHash } from "node:crypto";

export const LABEL_VALUE_MAX_LENGTH = 63;
export const LABEL_VALUE_PATTERN = "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$";
/** A DNS-1123 subdomain: object names such as a DynamoDBRequest's or a Promise's. */
export const DNS_SUBDOMAIN_MAX_LENGTH = 253;
export const DNS_SUBDOMAIN_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
/** A DNS-1123 label: namespace names. */
export const DNS_LABEL_MAX_LENGTH = 63;
export const DNS_LABEL_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

const labelValueRe = new RegExp(LABEL_VALUE_PATTERN);
const subdomainRe = new RegExp(DNS_SUBDOMAIN_PATTERN);
const dnsLabelRe = new RegExp(DNS_LABEL_PATTERN);

export const isLabelValue = (v: string): boolean => v.length <= LABEL_VALUE_MAX_LENGTH && labelValueRe.test(v);
export const isDnsSubdomain = (v: string): boolean => v.length <= DNS_SUBDOMAIN_MAX_LENGTH && subdomainRe.test(v);
export const isDnsLabel = (v: string): boolean => v.length <= DNS_LABEL_MAX_LENGTH && dnsLabelRe.test(v);

/** Hex characters of the digest that make a shortened label value unique. */
const HASH_LENGTH = 10;

/**
 * `value` itself when it is a valid label value; otherwise, deterministically,
 * its first characters (invalid ones replaced by "-") and a short hash of the
 * whole value: `<prefix>-<10 hex>`, at most 63 characters, so two values that
 * share a long prefix still get different labels. Keep the full value in an
 * annotation when someone needs it back.
 */
export function labelValue(value: string): string {
  if (isLabelValue(value)) return value;
  const hash = createHash("sha256").update(value).digest("hex").slice(0, HASH_LENGTH);
  const prefix = value
    .slice(0, LABEL_VALUE_MAX_LENGTH - HASH_LENGTH - 1)
    .replace(/[^-A-Za-z0-9_.]/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .replace(/[^A-Za-z0-9]+$/, "");
  return prefix ? `${prefix}-${hash}` : hash;
}

/** Every label of `labels` whose value cannot be a label value, as `<where>.<key>: <problem>`. */
export function labelMapProblems(labels: Record<string, string>, where: string): string[] {
  return Object.entries(labels).flatMap(([k, v]) => {
    const p = labelValueProblem(v);
    return p ? [`${where}.${k}: ${p}`] : [];
  });
}

/** Why `value` cannot be a label value, or undefined when it can. */
export function labelValueProblem(value: string): string | undefined {
  if (value.length > LABEL_VALUE_MAX_LENGTH) return `must be at most ${LABEL_VALUE_MAX_LENGTH} characters (got ${value.length})`;
  if (!labelValueRe.test(value)) return `"${value}" must be letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
  return undefined;
}
