/**
 * The platform's identity: the config values that decide where every request's table
 * lives and where Flux reads the ACK Tables from (the default region, the table name
 * prefix, the state store's bucket and folder). Changing one of them on a stack that has
 * been deployed re-points the whole platform: requests get new, empty tables under new
 * names or in another region, or Flux reads a folder without the live Tables and prunes
 * them. So the stack records its identity as a stack output (`platformIdentity`), and
 * the next `pulumi preview`/`up` compares: a change fails, naming the config key with its
 * old and new values, unless `allowPlatformMove` acknowledges that exact new value.
 *
 * Pure: components/platform-identity.ts reads the recorded identity (the stack's own
 * previous outputs) and throws what this module says.
 */
import type { FieldError } from "../api/cross-field-rules.ts";
import { PROJECT, type AllowPlatformMoveConfig, type StateStoreConfig } from "./schema.ts";

/** The stack output the identity is recorded in. */
export const IDENTITY_OUTPUT = "platformIdentity";
/** The config key that acknowledges a move. */
export const ALLOW_MOVE_KEY = "allowPlatformMove";

/**
 * The config keys (paths, as error messages name them) that make up the identity. Every
 * key is recorded, "" where it is not set or does not apply to the store's mode, so that
 * a change of mode shows each value that moves.
 */
export const IDENTITY_KEYS = [
  "defaultRegion",
  "tableNamePrefix",
  "stateStore.mode",
  "stateStore.endpoint",
  "stateStore.bucketName",
  "stateStore.path",
  "stateStore.kind",
  "stateStore.name",
] as const;
export type IdentityKey = (typeof IDENTITY_KEYS)[number];
export type PlatformIdentity = Record<IdentityKey, string>;

/** What each key decides, said in the error: why a change is not just a setting. */
const stateStore = (where: string) =>
  `Kratix and Flux would use ${where}, which holds none of the live Tables: Flux would prune them (a table whose request says deletionPolicy Delete is deleted in AWS, then made again, empty)`;
const CONSEQUENCE: Record<IdentityKey, string> = {
  defaultRegion:
    "requests that name no region would get new, empty tables in the new region (the ACK controller and an S3 state store's endpoint follow it too)",
  tableNamePrefix: "every request would get a new, empty table under its new name, and the old tables would be left unmanaged",
  "stateStore.mode": stateStore("another kind of state store"),
  "stateStore.endpoint": stateStore("another server"),
  "stateStore.bucketName": stateStore("another bucket"),
  "stateStore.path": stateStore("another folder"),
  "stateStore.kind": stateStore("another state store"),
  "stateStore.name": stateStore("another state store"),
};

/** The identity of a stack's config (defaults applied, as parsePlatformConfig returns it). */
export function platformIdentity(c: {
  defaults: { defaultRegion: string; tableNamePrefix?: string };
  stateStore: StateStoreConfig;
}): PlatformIdentity {
  const s = c.stateStore as Partial<Record<"mode" | "endpoint" | "bucketName" | "path" | "kind" | "name", unknown>>;
  const text = (v: unknown) => (typeof v === "string" ? v : "");
  return {
    defaultRegion: c.defaults.defaultRegion,
    tableNamePrefix: c.defaults.tableNamePrefix ?? "",
    "stateStore.mode": text(s.mode),
    "stateStore.endpoint": text(s.endpoint),
    "stateStore.bucketName": text(s.bucketName),
    "stateStore.path": text(s.path),
    "stateStore.kind": text(s.kind),
    "stateStore.name": text(s.name),
  };
}

/** The value `allowPlatformMove` acknowledges for `key` (its config path inside allowPlatformMove), if any. */
export function allowedValue(allow: AllowPlatformMoveConfig | undefined, key: IdentityKey): string | undefined {
  let node: unknown = allow;
  for (const part of key.split(".")) node = node && typeof node === "object" ? (node as Record<string, unknown>)[part] : undefined;
  return typeof node === "string" ? node : undefined;
}

/** One key whose value differs from the one recorded at the stack's last update. */
export interface IdentityChange {
  key: IdentityKey;
  was: string;
  now: string;
  /** The value allowPlatformMove acknowledges for the key, if it names one. */
  allowed?: string;
}

export interface PlatformMoveCheck {
  /** One per change not acknowledged (path: the config key); empty when the update may go ahead. */
  errors: FieldError[];
  /** Acknowledged moves, and acknowledgements with nothing (more) to do; for the update's log. */
  notes: string[];
  /** Every change, acknowledged or not. */
  changes: IdentityChange[];
}

const show = (v: string) => JSON.stringify(v);
/** A value as a shell word. */
const shellWord = (v: string) => (/^[A-Za-z0-9@%_+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);

/**
 * The recorded identity (the previous `platformIdentity` output, as read back: anything) as
 * the keys it holds with string values. Keys it lacks are not compared: an identity recorded
 * by a version with fewer keys checks the keys it has.
 */
export function recordedIdentity(recorded: unknown): Partial<PlatformIdentity> | undefined {
  if (!recorded || typeof recorded !== "object" || Array.isArray(recorded)) return undefined;
  const r = recorded as Record<string, unknown>;
  return Object.fromEntries(IDENTITY_KEYS.filter((k) => typeof r[k] === "string").map((k) => [k, r[k] as string]));
}

/**
 * Compares the identity of this update with the one recorded at the stack's last update.
 *
 * `recorded` is the stack's previous `platformIdentity` output (undefined when it has none);
 * `deployedBefore` says whether the stack has outputs of an earlier update at all (a stack
 * updated before the identity was recorded: its values are recorded now, with a note).
 * A change passes only where `allowPlatformMove` names the key with exactly the new value,
 * so an acknowledgement left in the stack's config allows that one move, never a later one.
 */
export function checkPlatformMove(o: {
  recorded: unknown;
  current: PlatformIdentity;
  allow?: AllowPlatformMoveConfig;
  deployedBefore: boolean;
}): PlatformMoveCheck {
  const recorded = recordedIdentity(o.recorded);
  const notes: string[] = [];
  const errors: FieldError[] = [];
  const changes: IdentityChange[] = [];
  if (!recorded) {
    if (o.deployedBefore)
      notes.push(
        `this stack has no ${IDENTITY_OUTPUT} output (its last update predates it): this update records ${IDENTITY_KEYS.filter((k) => o.current[k]).join(", ")} as they are now, and later updates that change them fail until ${ALLOW_MOVE_KEY} acknowledges the change`,
      );
    return { errors, notes, changes };
  }
  for (const key of IDENTITY_KEYS) {
    const allowed = allowedValue(o.allow, key);
    const was = recorded[key];
    const now = o.current[key];
    if (was === undefined || was === now) {
      if (allowed !== undefined)
        notes.push(
          allowed === now
            ? `${ALLOW_MOVE_KEY}.${key} acknowledges ${show(allowed)}, which the stack has already recorded: remove it`
            : `${ALLOW_MOVE_KEY}.${key} acknowledges a move to ${show(allowed)}, but ${key} stays ${show(now)}: it has no effect`,
        );
      continue;
    }
    changes.push({ key, was, now, ...(allowed !== undefined ? { allowed } : {}) });
    if (allowed === now) {
      notes.push(`${key} moves from ${show(was)} to ${show(now)}, as ${ALLOW_MOVE_KEY}.${key} acknowledges`);
      continue;
    }
    errors.push({
      path: `${PROJECT}:${key}`,
      message:
        `was ${show(was)} at this stack's last update, now ${show(now)}: ${CONSEQUENCE[key]}` +
        (allowed !== undefined ? ` (${ALLOW_MOVE_KEY}.${key} acknowledges ${show(allowed)}, not ${show(now)})` : ""),
    });
  }
  return { errors, notes, changes };
}

/** The commands that acknowledge the changes `check` refused (each key with its new value). */
export function acknowledgeCommands(check: PlatformMoveCheck): string[] {
  const refused = new Set(check.errors.map((e) => e.path));
  return check.changes
    .filter((c) => refused.has(`${PROJECT}:${c.key}`))
    .map((c) => `pulumi config set --type string --path ${PROJECT}:${ALLOW_MOVE_KEY}.${c.key} ${c.now === "" ? "''" : shellWord(c.now)}`);
}

/**
 * The whole message a refused move fails with: each key with its old and new value, and how
 * to go on (put the old value back, or acknowledge the move knowing what it does).
 */
export function platformMoveMessage(check: PlatformMoveCheck): string | undefined {
  if (check.errors.length === 0) return undefined;
  return [
    "this stack's platform would move (the values it recorded at its last update, stack output platformIdentity, differ):",
    ...check.errors.map((e) => `${e.path}: ${e.message}`),
    "Set the old value back, or, to move the platform deliberately (docs/upgrading.md: the tables already made are not moved), acknowledge each new value:",
    ...acknowledgeCommands(check).map((c) => `  ${c}`),
  ].join("\n");
}
