/**
 * pulumi.runtime.setMocks with a recorder: every registration's type, name,
 * parent, dependencies, protect flag and raw (serialized) inputs, so tests can
 * check ordering and secrecy, which MockResourceArgs alone does not show. The
 * recorder is the one `render` uses (cli/program-under-mocks.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { recordRegistrations, type Registration } from "../../cli/program-under-mocks.ts";

export type { Registration };

export const ACCOUNT = "111122223333";
/** What the mock "cluster" reports back for a DynamoDBRequest, as the status step would write it. */
export const arnFor = (region: string, table: string) => `arn:aws:dynamodb:${region}:${ACCOUNT}:table/${table}`;

export async function setupMocks(project: string, opts: { preview?: boolean } = {}): Promise<Registration[]> {
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const state: Record<string, unknown> = { ...args.inputs };
        // What AWS would fill in: physical names and ARNs.
        if (args.type === "aws:s3/bucket:Bucket") state.bucket ??= `${args.name}-0123abcd`;
        if (args.type.startsWith("aws:")) state.arn ??= `arn:aws:${args.type.split(":")[1]!.split("/")[0]}::${ACCOUNT}:${args.name}`;
        if (args.type.startsWith("aws:iam/")) state.name ??= args.name;
        if (args.type === "aws:iam/accessKey:AccessKey") state.secret = "mock-secret-access-key";
        if (args.type === "kubernetes:dynamodb.kratix.io/v1alpha1:DynamoDBRequest") {
          const spec = args.inputs.spec as { name: string; region?: string };
          state.status = { tableArn: arnFor(spec.region ?? "us-west-2", spec.name), tableStatus: "ACTIVE", message: "table is ACTIVE" };
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
  if (waitForRPCs) await Promise.race([waitForRPCs(), sleep(10_000)]);
  await sleep(50);
}

/** Pulumi's marker for a secret value on the wire. */
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
