import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ackDynamoDBPolicy, iniCredentials, irsaTrustPolicy, podIdentityTrustPolicy } from "../core/aws/ack-policy.ts";
import { ackValues, type AckCredentials } from "../core/install/helm-values.ts";
import { ACK_CREDENTIALS_SECRET, ACK_SERVICE_ACCOUNT, NAMESPACES } from "../core/install/namespaces.ts";
import { tableGuard } from "../core/install/table-guard.ts";
import { ackApiGuard, ackPipelineIdentityGuards, tableGuardArgs, type AckGuardSettings } from "../core/install/ack-guards.ts";
import { CHARTS, type ChartPin } from "../core/install/versions.ts";
import { pinnedChart } from "./helm.ts";
import { componentOptions, TOKEN_PREFIX } from "./token.ts";

/** How the controller gets AWS credentials. */
export type AckCredentialsArgs =
  /** IAM Roles for Service Accounts: a role trusted by the cluster's OIDC provider for the controller's service account. */
  | { mode: "irsa"; oidcProviderArn: pulumi.Input<string> }
  /** EKS Pod Identity: a role and an association for the controller's service account. */
  | { mode: "podIdentity"; clusterName: pulumi.Input<string> }
  /** An IAM user and access key, written as the INI credentials Secret ack-dynamodb-user-secrets (kept secret end to end). */
  | { mode: "accessKey" }
  /** A Secret you manage, holding an INI credentials file. */
  | { mode: "existingSecret"; secretName: string; secretKey?: string; profile?: string };

export interface AckDynamoDBControllerArgs {
  /** The controller's default region (tables name their own region in an annotation). */
  region: pulumi.Input<string>;
  /** Credentials mode. */
  credentials: AckCredentialsArgs;
  /** Regions the IAM policy allows tables in. Default [region]. */
  allowedRegions?: pulumi.Input<string[]>;
  /** Restrict the IAM policy to tables whose names start with this (the platform's prefix). Default: any table of the account. */
  tableNamePrefix?: pulumi.Input<string>;
  /** Customer-managed KMS keys tables may use; the policy grants KMS only on these. */
  kmsKeyArns?: pulumi.Input<string[]>;
  /** What the controller does when a Table object goes away and the Table says nothing. Default "retain". */
  deletionPolicy?: "retain" | "delete";
  /** Override the chart pin (oci://public.ecr.aws/aws-controllers-k8s/dynamodb-chart 1.9.2). */
  chart?: ChartPin;
  /** Namespace. Default ack-system. */
  namespace?: string;
  /**
   * Guard ACK Tables with the ValidatingAdmissionPolicy kratix-dynamodb-table-writers (and its
   * binding): only the service account Flux applies Kratix's output as (flux-system/kratix-dynamodb-applier) and this controller's service account
   * may create, update or delete Tables, and the kube-controller-manager may delete them; anyone
   * else, cluster admins included, is refused, so nobody adopts, deletes or shares a platform table
   * past the DynamoDBRequest API. Only this controller writes Tables' status and marks them managed;
   * adoption needs the namespace's approval; a Table stays in its request's namespace, within
   * `tableNamePrefix`, and keeps its table name and region; Flux prunes a Table ACK manages only
   * once its request's delete pipeline has released it (core/kratix/release.ts). With it, kratix-dynamodb-api-deleters
   * refuses deleting the Promise, Kratix's Promise CRD, the DynamoDBRequest CRD and this chart's Table CRD except to
   * `breakGlassUsers`, and the kratix-dynamodb-pipeline-* and kratix-dynamodb-works policies let
   * only Kratix's own pipeline pods act as the Promise's pipeline service accounts.
   * Needs Kubernetes 1.30 or later. Default true.
   */
  guardTables?: boolean;
  /** Further usernames the guard lets write Tables (for example a break-glass identity). Default none. */
  extraTableWriters?: string[];
  /** Usernames the guard lets delete the Promise, Kratix's Promise CRD, the DynamoDBRequest CRD and ACK's Table CRD. Default none. */
  breakGlassUsers?: string[];
  /** The platform's Promise, which the guard keeps from deletion, and whose delete pipeline releases Tables. Default aws-dynamodb-kratix. */
  promiseName?: string;
}

/**
 * The ACK DynamoDB controller (Helm) with AWS credentials and a least-privilege
 * IAM policy: only the DynamoDB actions ACK calls, on this account's tables in
 * the allowed regions, plus KMS only for listed customer-managed keys; and
 * (guardTables) admission policies under which only the platform's service
 * accounts write ACK Tables, and only break-glass users delete the Promise and the CRDs.
 */
export class AckDynamoDBController extends pulumi.ComponentResource {
  /** The IAM role the controller assumes (irsa and podIdentity modes). */
  declare readonly roleArn: pulumi.Output<string | undefined>;
  /** The IAM policy granted to the controller (not made in existingSecret mode). */
  declare readonly policyArn: pulumi.Output<string | undefined>;
  /** Namespace the controller runs in. */
  declare readonly namespace: pulumi.Output<string>;
  /** The controller's chart: tables wait for it. */
  declare readonly chart: k8s.helm.v4.Chart;

  constructor(name: string, args: AckDynamoDBControllerArgs, opts?: pulumi.ComponentResourceOptions) {
    super(`${TOKEN_PREFIX}:AckDynamoDBController`, name, {}, componentOptions("AckDynamoDBController", opts));
    const p = { parent: this };
    const namespace = args.namespace ?? NAMESPACES.ack;
    const c = args.credentials;
    // With existingSecret the namespace holds the user's own Secret, made before the stack: a
    // destroy must not delete what the stack did not make (decision 102).
    const ns = new k8s.core.v1.Namespace(
      `${name}-ns`,
      { metadata: { name: namespace } },
      { ...p, ...(c.mode === "existingSecret" ? { retainOnDelete: true } : {}) },
    );

    let policy: aws.iam.Policy | undefined;
    if (c.mode !== "existingSecret") {
      const identity = aws.getCallerIdentityOutput({}, p);
      const partition = aws.getPartitionOutput({}, p);
      const doc = pulumi
        .all([
          partition.partition,
          identity.accountId,
          args.allowedRegions ?? pulumi.output(args.region).apply((r) => [r]),
          args.tableNamePrefix ?? "",
          args.kmsKeyArns ?? [],
        ])
        .apply(([partition, accountId, regions, tableNamePrefix, kmsKeyArns]) =>
          JSON.stringify(ackDynamoDBPolicy({ partition, accountId, regions, tableNamePrefix, kmsKeyArns })),
        );
      policy = new aws.iam.Policy(
        `${name}-policy`,
        { description: "ACK DynamoDB controller: tables of this platform only", policy: doc },
        p,
      );
    }

    let roleArn: pulumi.Output<string | undefined> = pulumi.output(undefined);
    let credentials: pulumi.Output<AckCredentials>;
    let after: pulumi.Resource[] = [ns];
    if (c.mode === "irsa" || c.mode === "podIdentity") {
      const trust =
        c.mode === "irsa"
          ? pulumi.output(c.oidcProviderArn).apply((arn) => JSON.stringify(irsaTrustPolicy(arn, namespace, ACK_SERVICE_ACCOUNT)))
          : JSON.stringify(podIdentityTrustPolicy());
      const role = new aws.iam.Role(`${name}-role`, { assumeRolePolicy: trust }, p);
      new aws.iam.RolePolicyAttachment(`${name}-policy`, { role: role.name, policyArn: policy!.arn }, p);
      if (c.mode === "podIdentity") {
        after.push(
          new aws.eks.PodIdentityAssociation(
            `${name}-pod-identity`,
            { clusterName: c.clusterName, namespace, serviceAccount: ACK_SERVICE_ACCOUNT, roleArn: role.arn },
            p,
          ),
        );
        credentials = pulumi.output({ mode: "podIdentity" as const });
      } else {
        credentials = role.arn.apply((arn) => ({ mode: "irsa" as const, roleArn: arn }));
      }
      roleArn = role.arn as pulumi.Output<string | undefined>;
    } else if (c.mode === "accessKey") {
      const user = new aws.iam.User(`${name}-user`, { path: "/kratix-dynamodb/" }, p);
      new aws.iam.UserPolicyAttachment(`${name}-policy`, { user: user.name, policyArn: policy!.arn }, p);
      const key = new aws.iam.AccessKey(`${name}-key`, { user: user.name }, p);
      after = [
        new k8s.core.v1.Secret(
          `${name}-credentials`,
          {
            metadata: { name: ACK_CREDENTIALS_SECRET, namespace },
            // key.secret is a Pulumi secret; pulumi.secret keeps the whole INI file one too.
            stringData: {
              credentials: pulumi.secret(pulumi.all([key.id, key.secret]).apply(([id, s]) => iniCredentials("default", id, s))),
            },
          },
          { ...p, dependsOn: [ns] },
        ),
      ];
      credentials = pulumi.output({ mode: "accessKey" as const, secretName: ACK_CREDENTIALS_SECRET });
    } else {
      credentials = pulumi.output({
        mode: "existingSecret" as const,
        secretName: c.secretName,
        ...(c.secretKey ? { secretKey: c.secretKey } : {}),
        ...(c.profile ? { profile: c.profile } : {}),
      });
    }

    const values = pulumi
      .all([args.region, credentials])
      .apply(([region, creds]) =>
        ackValues({ region, credentials: creds, ...(args.deletionPolicy ? { deletionPolicy: args.deletionPolicy } : {}) }),
      );
    const guarded = args.guardTables ?? true;
    if (guarded) {
      // The prefix may be an Output: the policy is written once it is known.
      const settings: AckGuardSettings = {
        namespace,
        ...(args.extraTableWriters ? { extraTableWriters: args.extraTableWriters } : {}),
        ...(args.breakGlassUsers ? { breakGlassUsers: args.breakGlassUsers } : {}),
        ...(args.promiseName ? { promiseName: args.promiseName } : {}),
      };
      const guard = pulumi
        .output(args.tableNamePrefix ?? "")
        .apply((tableNamePrefix) => tableGuard(tableGuardArgs({ ...settings, tableNamePrefix })));
      const guardPolicy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
        `${name}-table-guard`,
        { metadata: guard.policy.metadata, spec: guard.policy.spec },
        p,
      );
      new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
        `${name}-table-guard-binding`,
        { metadata: guard.binding.metadata, spec: guard.binding.spec },
        { ...p, dependsOn: [guardPolicy] },
      );
      const apis = ackApiGuard(settings);
      const apiPolicy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
        `${name}-api-guard`,
        { metadata: apis.policy.metadata, spec: apis.policy.spec },
        p,
      );
      new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
        `${name}-api-guard-binding`,
        { metadata: apis.binding.metadata, spec: apis.binding.spec },
        { ...p, dependsOn: [apiPolicy] },
      );
      // Only Kratix's own pipeline pods act as the Promise's pipeline service accounts (decision 97).
      const identities = ackPipelineIdentityGuards(settings);
      for (const g of Object.values(identities)) {
        const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
          `${name}-${g.policy.metadata.name}`,
          { metadata: g.policy.metadata, spec: g.policy.spec },
          p,
        );
        new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
          `${name}-${g.binding.metadata.name}-binding`,
          { metadata: g.binding.metadata, spec: g.binding.spec },
          { ...p, dependsOn: [policy] },
        );
      }
    }

    this.chart = pinnedChart(`${name}-chart`, args.chart ?? CHARTS.ackDynamoDB, namespace, values, {
      ...p,
      dependsOn: after,
    });
    this.roleArn = roleArn;
    this.policyArn = policy ? (policy.arn as pulumi.Output<string | undefined>) : pulumi.output(undefined);
    this.namespace = pulumi.output(namespace);
    this.registerOutputs({ roleArn: this.roleArn, policyArn: this.policyArn, namespace: this.namespace });
  }
}
