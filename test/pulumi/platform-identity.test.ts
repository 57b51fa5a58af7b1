/**
 * The platform's identity and the check of a move (core/config/platform-identity.ts), as pure
 * functions: which config values make up the identity, that a change of any one of them is
 * refused naming its key with the old and new value, and when it is not (first update, an
 * identity recorded without that key, an acknowledgement of exactly that value).
 */
import assert from "node:assert/strict";
import { describe, it } from "mocha";
import {
  ALLOW_MOVE_KEY,
  IDENTITY_KEYS,
  IDENTITY_OUTPUT,
  acknowledgeCommands,
  allowedValue,
  checkPlatformMove,
  platformIdentity,
  platformMoveMessage,
  type PlatformIdentity,
} from "../../core/config/platform-identity.ts";
import { PROJECT, configValue, parsePlatformConfig } from "../../core/config/platform-config.ts";
import { tableArgErrors } from "../../core/api/table-args.ts";

const BASE: PlatformIdentity = {
  defaultRegion: "us-west-2",
  tableNamePrefix: "team-",
  "stateStore.mode": "bucket",
  "stateStore.endpoint": "minio.example.com:9000",
  "stateStore.bucketName": "kratix",
  "stateStore.path": "platform",
  "stateStore.kind": "",
  "stateStore.name": "",
};
/** A value of `key` unlike BASE's. */
const other = (key: string) => `${BASE[key as keyof PlatformIdentity] || "x"}-new`;

describe("the platform identity of a stack's config", () => {
  const identityOf = (raw: Record<string, unknown>) => {
    const { config, errors } = parsePlatformConfig({ tableNamePrefix: "team-", ...raw }, tableArgErrors);
    assert.deepEqual(errors, []);
    return platformIdentity(config);
  };
  it('records every key, "" where it is not set or its store mode has none', () => {
    assert.deepEqual(identityOf({}), {
      defaultRegion: "us-east-1",
      tableNamePrefix: "team-",
      "stateStore.mode": "s3",
      "stateStore.endpoint": "",
      "stateStore.bucketName": "",
      "stateStore.path": "",
      "stateStore.kind": "",
      "stateStore.name": "",
    });
    assert.deepEqual(
      identityOf({
        defaultRegion: "us-west-2",
        stateStore: {
          mode: "bucket",
          endpoint: "minio.example.com:9000",
          bucketName: "kratix",
          path: "platform",
          insecure: true,
          interval: "5s",
        },
        stateStoreCredentials: { accessKeyId: "id", secretAccessKey: "secret" },
      }),
      BASE,
    );
    assert.deepEqual(identityOf({ stateStore: { mode: "existing", kind: "GitStateStore", name: "repo" } }), {
      ...BASE,
      defaultRegion: "us-east-1",
      "stateStore.mode": "existing",
      "stateStore.endpoint": "",
      "stateStore.bucketName": "",
      "stateStore.path": "",
      "stateStore.kind": "GitStateStore",
      "stateStore.name": "repo",
    });
    assert.deepEqual(Object.keys(identityOf({})), [...IDENTITY_KEYS]);
  });
  it("leaves out what does not move the platform: credentials, polling interval, insecure", () => {
    const a = identityOf({ stateStore: { mode: "s3", credentials: { mode: "accessKey" } } });
    const b = identityOf({ stateStore: { mode: "s3", credentials: { mode: "irsa", oidcProviderArn: "arn:aws:iam::1:oidc-provider/x" } } });
    assert.deepEqual(a, b);
    const store = { mode: "bucket", endpoint: "minio.example.com:9000", bucketName: "kratix" };
    const key = { stateStoreCredentials: { accessKeyId: "id", secretAccessKey: "secret" } };
    assert.deepEqual(
      identityOf({ stateStore: { ...store, insecure: true, interval: "5s" }, ...key }),
      identityOf({ stateStore: store, ...key }),
    );
  });
});

describe("checking a move against the recorded identity", () => {
  it("each identity key, changed alone, fails naming the key with its old and new value", () => {
    for (const key of IDENTITY_KEYS) {
      const current = { ...BASE, [key]: other(key) };
      const check = checkPlatformMove({ recorded: BASE, current, deployedBefore: true });
      assert.deepEqual(
        check.errors.map((e) => e.path),
        [`${PROJECT}:${key}`],
        key,
      );
      assert.match(
        check.errors[0]!.message,
        new RegExp(`^was ${JSON.stringify(BASE[key])} at this stack's last update, now ${JSON.stringify(other(key))}: `),
        key,
      );
      const message = platformMoveMessage(check)!;
      assert.ok(message.includes(`${PROJECT}:${key}: was`), key);
      assert.ok(message.includes(`--path ${PROJECT}:${ALLOW_MOVE_KEY}.${key} ${other(key)}`), `${key}: ${message}`);
    }
  });
  it("says what each change would do to the tables", () => {
    const says = (key: string) =>
      checkPlatformMove({ recorded: BASE, current: { ...BASE, [key]: other(key) }, deployedBefore: true }).errors[0]!.message;
    assert.match(says("tableNamePrefix"), /new, empty table under its new name/);
    assert.match(says("defaultRegion"), /new, empty tables in the new region/);
    for (const key of IDENTITY_KEYS.filter((k) => k.startsWith("stateStore."))) assert.match(says(key), /Flux would prune them/, key);
  });
  it("several changes: one error each, and one command each to acknowledge them", () => {
    const current = { ...BASE, tableNamePrefix: "", "stateStore.path": "" };
    const check = checkPlatformMove({ recorded: BASE, current, deployedBefore: true });
    assert.deepEqual(
      check.errors.map((e) => e.path),
      [`${PROJECT}:tableNamePrefix`, `${PROJECT}:stateStore.path`],
    );
    assert.deepEqual(acknowledgeCommands(check), [
      `pulumi config set --type string --path ${PROJECT}:allowPlatformMove.tableNamePrefix ''`,
      `pulumi config set --type string --path ${PROJECT}:allowPlatformMove.stateStore.path ''`,
    ]);
    assert.match(platformMoveMessage(check)!, /^this stack's platform would move/);
    assert.match(platformMoveMessage(check)!, /Set the old value back, or, to move the platform deliberately/);
  });
  it("a change of store mode names every value that moves", () => {
    const current = {
      ...BASE,
      "stateStore.mode": "s3",
      "stateStore.endpoint": "",
      "stateStore.bucketName": "",
      "stateStore.path": "platform",
    };
    assert.deepEqual(
      checkPlatformMove({ recorded: BASE, current, deployedBefore: true }).errors.map((e) => e.path),
      [`${PROJECT}:stateStore.mode`, `${PROJECT}:stateStore.endpoint`, `${PROJECT}:stateStore.bucketName`],
    );
  });
  it("passes unchanged, on a first update, and on a stack updated before the identity was recorded (with a note)", () => {
    assert.deepEqual(checkPlatformMove({ recorded: { ...BASE }, current: BASE, deployedBefore: true }), {
      errors: [],
      notes: [],
      changes: [],
    });
    assert.deepEqual(checkPlatformMove({ recorded: undefined, current: BASE, deployedBefore: false }), {
      errors: [],
      notes: [],
      changes: [],
    });
    const legacy = checkPlatformMove({ recorded: undefined, current: BASE, deployedBefore: true });
    assert.deepEqual(legacy.errors, []);
    assert.equal(legacy.notes.length, 1);
    assert.match(legacy.notes[0]!, new RegExp(`no ${IDENTITY_OUTPUT} output`));
    // Something else under the output's name is no identity: nothing to compare with.
    assert.deepEqual(checkPlatformMove({ recorded: "team-", current: BASE, deployedBefore: true }).errors, []);
  });
  it("compares only the keys the recorded identity has (one recorded by a version with fewer keys)", () => {
    const recorded = { defaultRegion: "us-west-2", tableNamePrefix: "team-" };
    assert.deepEqual(
      checkPlatformMove({ recorded, current: { ...BASE, "stateStore.path": "elsewhere" }, deployedBefore: true }).errors,
      [],
    );
    assert.equal(checkPlatformMove({ recorded, current: { ...BASE, tableNamePrefix: "x-" }, deployedBefore: true }).errors.length, 1);
  });
});

describe("allowPlatformMove", () => {
  const moved = { ...BASE, tableNamePrefix: "teams-", "stateStore.path": "platform-b" };
  it("passes a change it acknowledges with exactly the new value, noting the move", () => {
    const check = checkPlatformMove({
      recorded: BASE,
      current: moved,
      allow: { tableNamePrefix: "teams-", stateStore: { path: "platform-b" } },
      deployedBefore: true,
    });
    assert.deepEqual(check.errors, []);
    assert.deepEqual(check.notes, [
      'tableNamePrefix moves from "team-" to "teams-", as allowPlatformMove.tableNamePrefix acknowledges',
      'stateStore.path moves from "platform" to "platform-b", as allowPlatformMove.stateStore.path acknowledges',
    ]);
  });
  it("refuses a change to any other value, saying what it acknowledges", () => {
    const check = checkPlatformMove({ recorded: BASE, current: moved, allow: { tableNamePrefix: "other-" }, deployedBefore: true });
    assert.deepEqual(
      check.errors.map((e) => e.path),
      [`${PROJECT}:tableNamePrefix`, `${PROJECT}:stateStore.path`],
    );
    assert.match(check.errors[0]!.message, /\(allowPlatformMove\.tableNamePrefix acknowledges "other-", not "teams-"\)$/);
  });
  it("left in the config after the move, allows nothing more, and says to remove it", () => {
    const allow = { tableNamePrefix: "teams-" };
    const after = checkPlatformMove({ recorded: moved, current: moved, allow, deployedBefore: true });
    assert.deepEqual(after.errors, []);
    assert.deepEqual(after.notes, [
      'allowPlatformMove.tableNamePrefix acknowledges "teams-", which the stack has already recorded: remove it',
    ]);
    // A later move to yet another prefix is refused although the acknowledgement is still there.
    const later = checkPlatformMove({ recorded: moved, current: { ...moved, tableNamePrefix: "third-" }, allow, deployedBefore: true });
    assert.deepEqual(
      later.errors.map((e) => e.path),
      [`${PROJECT}:tableNamePrefix`],
    );
  });
  it("is read from the stack config like any key: validated, misspelt fields refused, a number set with --path taken as its text", () => {
    const parse = (allowPlatformMove: unknown) =>
      parsePlatformConfig(
        { tableNamePrefix: "team-", allowPlatformMove: configValue("allowPlatformMove", JSON.stringify(allowPlatformMove)) },
        tableArgErrors,
      );
    const ok = parse({ tableNamePrefix: 2024, stateStore: { path: "" } });
    assert.deepEqual(ok.errors, []);
    assert.deepEqual(ok.config.allowPlatformMove, { tableNamePrefix: "2024", stateStore: { path: "" } });
    assert.equal(allowedValue(ok.config.allowPlatformMove, "tableNamePrefix"), "2024");
    assert.equal(allowedValue(ok.config.allowPlatformMove, "stateStore.path"), "");
    assert.equal(allowedValue(ok.config.allowPlatformMove, "stateStore.bucketName"), undefined);
    assert.deepEqual(
      parse({ tableNamePrefx: "x", stateStore: { folder: "y" } }).errors.map((e) => e.path),
      [`${PROJECT}:allowPlatformMove.tableNamePrefx`, `${PROJECT}:allowPlatformMove.stateStore.folder`],
    );
    assert.equal(parsePlatformConfig({ tableNamePrefix: "team-" }, tableArgErrors).config.allowPlatformMove, undefined);
  });
});
