/**
 * Pulumi mocks for the whole program (index.ts) whose cluster plays the chain for each
 * DynamoDBRequest, independently of the program's own plan of the table: the pipeline names
 * the table with the prefix the Promise hands it (read from the Application the program
 * registered), in the request's region or the Promise's default region, and AWS, through ACK,
 * reports that table's ARN in the request's status. The program's stack outputs can then be
 * compared with ARNs written out by hand, which a program that made its ARNs up, keyed them
 * wrongly or named the table differently from the pipeline cannot match.
 *
 * Everything else is as test/helpers/pulumi-mocks.ts answers it.
 */
import * as pulumi from "@pulumi/pulumi";
import { recordRegistrations, type Registration } from "../../cli/program-under-mocks.ts";
import { ENV_DEFAULT_REGION, ENV_TABLE_NAME_PREFIX } from "../../core/kratix/env.ts";
import { ACCOUNT, ORGANIZATION, selfReference } from "./pulumi-mocks.ts";

/**
 * The account AWS reports the tables in, through ACK. Deliberately not the caller identity's
 * (ACCOUNT, which the program's IAM policies use): with ACK's cross-account resource management
 * a table can live in another account, and only the reported ARN is right. Here it also means
 * that an ARN the program computed itself can never pass for the one the chain reported.
 */
export const TABLE_ACCOUNT = "444455556666";

/** The value of the pipeline environment variable `name` anywhere in `o` (the Promise's pipelines). */
function pipelineEnv(o: unknown, name: string): string | undefined {
  if (Array.isArray(o)) return o.map((x) => pipelineEnv(x, name)).find((v) => v !== undefined);
  if (!o || typeof o !== "object") return undefined;
  const r = o as Record<string, unknown>;
  if (r.name === name && typeof r.value === "string") return r.value;
  return Object.values(r)
    .map((x) => pipelineEnv(x, name))
    .find((v) => v !== undefined);
}

/** What the chain reports for a request of `spec` on the Promise of `app` (no Promise yet: no status). */
function reportedStatus(app: Registration | undefined, spec: { name: string; region?: string }): Record<string, unknown> | undefined {
  if (!app) return undefined;
  const prefix = pipelineEnv(app.inputs.spec, ENV_TABLE_NAME_PREFIX) ?? "";
  const region = spec.region ?? pipelineEnv(app.inputs.spec, ENV_DEFAULT_REGION);
  if (!region) return undefined;
  return { tableArn: `arn:aws:dynamodb:${region}:${TABLE_ACCOUNT}:table/${prefix}${spec.name}`, tableStatus: "ACTIVE" };
}

/** Installs the mocks and returns the registrations as they are made (see recordRegistrations). */
export async function setupChainMocks(project: string): Promise<Registration[]> {
  let reg: Registration[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        // A new stack: its own previous outputs are none.
        if (args.type === "pulumi:pulumi:StackReference") return selfReference(project, args);
        const state: Record<string, unknown> = { ...args.inputs };
        // What AWS would fill in: physical names and ARNs.
        if (args.type === "aws:s3/bucket:Bucket") state.bucket ??= `${args.name}-0123abcd`;
        if (args.type.startsWith("aws:")) state.arn ??= `arn:aws:${args.type.split(":")[1]!.split("/")[0]}::${ACCOUNT}:${args.name}`;
        if (args.type.startsWith("aws:iam/")) state.name ??= args.name;
        if (args.type === "aws:iam/accessKey:AccessKey") state.secret = "mock-secret-access-key";
        if (args.type === "kubernetes:dynamodb.kratix.io/v1alpha1:DynamoDBRequest") {
          // The request waits for the Application (its Promise), so the Application is registered by now.
          const app = reg.find((r) => r.type === "kubernetes:core.oam.dev/v1beta1:Application");
          state.status = reportedStatus(app, args.inputs.spec as { name: string; region?: string });
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
    false,
    ORGANIZATION,
  );
  reg = recordRegistrations();
  return reg;
}
