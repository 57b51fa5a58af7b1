/**
 * A DynamoDBRequest from table properties: the shape both the
 * aws-dynamodb-kratix component (KubeVela) and the DynamoDBTable Pulumi
 * component take. Properties are the spec with `tableName` for `name`, as in
 * the original design's component; defaults are written out the way the CUE
 * template writes them, so both paths produce the same object.
 */
import { API_GROUP, API_KIND, API_VERSION, DEFAULT_BILLING_MODE, DEFAULT_DELETION_POLICY } from "../api/rules.ts";
import type { DynamoDBRequest, DynamoDBRequestSpec } from "../api/types.ts";

export type TableProperties = Omit<DynamoDBRequestSpec, "name"> & {
  /** The DynamoDB table name (before any platform prefix). */
  tableName: string;
};

export function specFromProperties(properties: TableProperties): DynamoDBRequestSpec {
  const { tableName, ...rest } = properties;
  return {
    name: tableName,
    ...rest,
    billingMode: rest.billingMode ?? DEFAULT_BILLING_MODE,
    deletionPolicy: rest.deletionPolicy ?? DEFAULT_DELETION_POLICY,
  };
}

export function propertiesFromSpec(spec: DynamoDBRequestSpec): TableProperties {
  const { name, ...rest } = spec;
  return { tableName: name, ...rest };
}

export interface RequestMetadata {
  name: string;
  namespace: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function renderDynamoDBRequest(meta: RequestMetadata, properties: TableProperties): DynamoDBRequest {
  return {
    apiVersion: `${API_GROUP}/${API_VERSION}`,
    kind: API_KIND,
    metadata: {
      name: meta.name,
      namespace: meta.namespace,
      ...(meta.labels ? { labels: meta.labels } : {}),
      ...(meta.annotations ? { annotations: meta.annotations } : {}),
    },
    spec: specFromProperties(properties),
  };
}
