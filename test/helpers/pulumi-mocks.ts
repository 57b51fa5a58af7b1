/**
 * pulumi.runtime.setMocks with a recorder: every registration's type, name,
 * parent, dependencies, protect flag and raw (serialized) inputs, so tests can
 * check ordering and secrecy, which MockResourceArgs alone does not show. The
 * recorder is the one `render` uses (cli/program-under-mocks.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { recordRegistrations, type Registration } from "../../cli/program-under-mocks.ts";
import { SPEC_DIGEST_ANNOTATION } from "../../core/api/spec-digest.ts";

export type { Registration };

export const ACCOUNT = "111122223333";
/** What the mock "cluster" reports back for a DynamoDBRequest, as the status step would write it. */
export const arnFor = (region: string, table: string) => `arn:aws:dynamodb:${region}:${ACCOUNT}:table/${table}`;

/** A table name the mock "cluster" refuses, as render-table refuses one another request owns. */
export const TAKEN_PREFIX = "taken-";

/** The organization the mocks run in: what `pulumi.getOrganization()` is on a file or S3 backend. */
export const ORGANIZATION = "organization";

/**
 * What a StackReference to this stack itself reads (the program reads its own previous outputs:
 * components/platform-identity.ts): `outputs`, the previous update's (none: a new stack). Any
 * other stack is refused, so a test also checks the name the program reads.
 */
export function selfReference(project: string, args: pulumi.runtime.MockResourceArgs, outputs: Record<string, unknown> = {}) {
  const own = `${ORGANIZATION}/${project}/test`;
  if (args.inputs.name !== own) throw new Error(`the mocks hold only this stack (${own}), not ${String(args.inputs.name)}`);
  return { id: own, state: { name: own, outputs, secretOutputNames: [] } };
}

export async function setupMocks(
  project: string,
  opts: { preview?: boolean; previousOutputs?: Record<string, unknown> } = {},
): Promise<Registration[]> {
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        if (args.type === "pulumi:pulumi:StackReference") return selfReference(project, args, opts.previousOutputs);
        const state: Record<string, unknown> = { ...args.inputs };
        // What AWS would fill in: physical names and ARNs.
        if (args.type === "aws:s3/bucket:Bucket") state.bucket ??= `${args.name}-0123abcd`;
        if (args.type.startsWith("aws:")) state.arn ??= `arn:aws:${args.type.split(":")[1]!.split("/")[0]}::${ACCOUNT}:${args.name}`;
        if (args.type.startsWith("aws:iam/")) state.name ??= args.name;
        if (args.type === "aws:iam/accessKey:AccessKey") state.secret = "mock-secret-access-key";
        if (args.type === "kubernetes:dynamodb.kratix.io/v1alpha1:DynamoDBRequest") {
          const spec = args.inputs.spec as { name: string; region?: string };
          const digest = (args.inputs.metadata as { annotations?: Record<string, string> }).annotations?.[SPEC_DIGEST_ANNOTATION];
          state.status = spec.name.startsWith(TAKEN_PREFIX)
            ? // As render-table settles a request refused for its table name.
              {
                reason: "TableNameTaken",
                message: `table name ${spec.name} belongs to DynamoDBRequest team-b/owner`,
                settledSpecDigest: digest,
              }
            : {
                tableArn: arnFor(spec.region ?? "us-west-2", spec.name),
                tableStatus: "ACTIVE",
                message: "table is ACTIVE",
                readySpecDigest: digest,
                settledSpecDigest: digest,
              };
        }
        return { id: `${args.name}-id`, state };
      },
      call(args) {
        if (args.token === "aws:index/getCallerIdentity:getCallerIdentity")
          return { accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/ci`, userId: "AIDA" };
        if (args.token === "aws:index/getPartition:getPartition") return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
        throw new Error(`unmocked call ${args.token}`);
      },
    },
    project,
    "test",
    opts.preview ?? false,
    ORGANIZATION,
  );
  return recordRegistrations();
}

/** Resolves an Output's value (mocks, not preview). */
export const resolve = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((r) => o.apply((v) => (r(v), v)));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Pulumi's own wait for every outstanding RPC (what `disconnect` waits for); in its JavaScript, not its declarations. */
const waitForRPCs = (pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> }).waitForRPCs;

/**
 * Lets pending registrations finish: Pulumi's queue of outstanding RPCs drained (at most 10 s),
 * then 50 ms. A fixed pause alone was not enough once a registration waits for something slow,
 * such as the callback server that carries a resource's `transforms` (started on first use).
 */
export async function settle(): Promise<void> {
  if (waitForRPCs) {
    let timer: NodeJS.Timeout | undefined;
    // The 10 s bound is cleared once the queue drains, so it never keeps the test's process alive.
    await Promise.race([waitForRPCs(), new Promise((r) => (timer = setTimeout(r, 10_000)))]);
    clearTimeout(timer);
  }
  await sleep(50);
}

/** Pulumi's marker for a secret value on the wire. */
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
