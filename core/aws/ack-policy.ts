/**
 * The least-privilege IAM policy for the ACK DynamoDB controller: exactly the
 * DynamoDB actions its Table reconciler calls (aws-controllers-k8s/
 * dynamodb-controller v1.9.2, pkg/resource/table), on table ARNs of one
 * account and the allowed regions (optionally a name prefix), plus the KMS
 * actions DynamoDB needs for customer-managed keys, only on those keys.
 * Never dynamodb:* and never Resource "*".
 */
export const ACK_TABLE_ACTIONS = [
  "dynamodb:CreateTable",
  "dynamodb:DescribeTable",
  "dynamodb:UpdateTable",
  "dynamodb:DeleteTable",
  "dynamodb:DescribeTimeToLive",
  "dynamodb:UpdateTimeToLive",
  "dynamodb:DescribeContinuousBackups",
  "dynamodb:UpdateContinuousBackups",
  "dynamodb:DescribeContributorInsights",
  "dynamodb:UpdateContributorInsights",
  "dynamodb:ListTagsOfResource",
  "dynamodb:TagResource",
  "dynamodb:UntagResource",
  // Read on every reconcile (hooks_resource_policy.go tolerates only PolicyNotFoundException).
  // Put/DeleteResourcePolicy are left out: the API never sets a resource policy, so ACK only
  // calls them to undo one attached outside the platform, which then shows as an error on
  // the Table instead of being removed.
  "dynamodb:GetResourcePolicy",
] as const;

/** What DynamoDB does with a customer-managed key on the caller's behalf (AWS: "DynamoDB encryption at rest"). */
export const KMS_ACTIONS = [
  "kms:DescribeKey",
  "kms:CreateGrant",
  "kms:Decrypt",
  "kms:Encrypt",
  "kms:GenerateDataKey*",
  "kms:ReEncrypt*",
] as const;

export interface AckPolicyScope {
  partition: string;
  accountId: string;
  /** Regions tables may be created in. */
  regions: string[];
  /** Only tables whose names start with this ("" for any name in the account). */
  tableNamePrefix?: string;
  /** ARNs of customer-managed KMS keys tables may use. */
  kmsKeyArns?: string[];
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: { Sid: string; Effect: "Allow"; Action: string[]; Resource: string[]; Condition?: Record<string, Record<string, string[]>> }[];
}

export function ackDynamoDBPolicy(s: AckPolicyScope): PolicyDocument {
  if (s.regions.length === 0) throw new Error("the ACK policy needs at least one region");
  const prefix = s.tableNamePrefix ?? "";
  const tables = s.regions.flatMap((r) => {
    const table = `arn:${s.partition}:dynamodb:${r}:${s.accountId}:table/${prefix}*`;
    return [table, `${table}/index/*`];
  });
  const statements: PolicyDocument["Statement"] = [
    { Sid: "AckDynamoDBTables", Effect: "Allow", Action: [...ACK_TABLE_ACTIONS], Resource: tables },
  ];
  if (s.kmsKeyArns?.length) {
    statements.push({
      Sid: "CustomerManagedKeysThroughDynamoDB",
      Effect: "Allow",
      Action: [...KMS_ACTIONS],
      Resource: s.kmsKeyArns,
      Condition: { StringEquals: { "kms:ViaService": s.regions.map((r) => `dynamodb.${r}.amazonaws.com`) } },
    });
  }
  return { Version: "2012-10-17", Statement: statements };
}

/** Trust policy for IRSA: only the controller's service account, through the cluster's OIDC provider. */
export function irsaTrustPolicy(oidcProviderArn: string, namespace: string, serviceAccount: string) {
  const host = oidcProviderArn.replace(/^arn:[^:]+:iam::\d+:oidc-provider\//, "");
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: oidcProviderArn },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: { [`${host}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`, [`${host}:aud`]: "sts.amazonaws.com" },
        },
      },
    ],
  };
}

/** Trust policy for EKS Pod Identity. */
export const podIdentityTrustPolicy = () => ({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "pods.eks.amazonaws.com" }, Action: ["sts:AssumeRole", "sts:TagSession"] }],
});

/** The INI credentials file ACK reads from its Secret (`aws.credentials.secretName`). */
export function iniCredentials(profile: string, accessKeyId: string, secretAccessKey: string): string {
  return `[${profile}]\naws_access_key_id = ${accessKeyId}\naws_secret_access_key = ${secretAccessKey}\n`;
}

/** Least privilege for Kratix (writes) and Flux (reads) on the state store bucket. */
export function stateStorePolicy(bucketArn: string, access: "readWrite" | "read"): PolicyDocument {
  const objects = `${bucketArn}/*`;
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "ListBucket", Effect: "Allow", Action: ["s3:ListBucket", "s3:GetBucketLocation"], Resource: [bucketArn] },
      {
        Sid: "Objects",
        Effect: "Allow",
        Action: access === "readWrite" ? ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"] : ["s3:GetObject"],
        Resource: [objects],
      },
    ],
  };
}
