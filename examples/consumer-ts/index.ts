/**
 * A team's stack: the DynamoDB platform on its cluster and one table, with the table's ARN as
 * a stack output. The table takes its platform (defaults, providers, what to wait for), as an
 * EKS node group takes its cluster.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DynamoDBPlatform, DynamoDBTable, type PromiseDelivery, type StateStoreMode } from "kratix-dynamodb-platform";

const config = new pulumi.Config();
const installCharts = config.requireBoolean("installCharts");

// The cluster: here the kubeconfig of the environment; on EKS, the cluster's own.
const cluster = new k8s.Provider("cluster", {});
// What the platform must wait for before anything of it is made (on EKS: the node group).
const teamNamespace = new k8s.core.v1.Namespace("team-a", { metadata: { name: "team-a" } }, { provider: cluster });

const platform = new DynamoDBPlatform(
  "dynamodb",
  {
    defaults: { defaultRegion: config.require("defaultRegion"), tableNamePrefix: config.require("tableNamePrefix") },
    install: { certManager: installCharts, kratix: installCharts, flux: installCharts, ackController: installCharts },
    stateStore: { mode: config.require("stateStoreMode") as StateStoreMode },
    promiseDelivery: config.require("promiseDelivery") as PromiseDelivery,
    waitForPromise: config.requireBoolean("waitForPromise"),
    protectPromise: config.requireBoolean("protectPromise"),
  },
  { providers: { kubernetes: cluster }, dependsOn: [teamNamespace] },
);

const orders = new DynamoDBTable("orders", {
  platform,
  namespace: teamNamespace.metadata.name,
  table: {
    tableName: "orders",
    attributeDefinitions: [
      { name: "customerId", type: "S" },
      { name: "orderId", type: "S" },
    ],
    keySchema: [
      { attributeName: "customerId", keyType: "HASH" },
      { attributeName: "orderId", keyType: "RANGE" },
    ],
    pointInTimeRecovery: true,
    tags: { team: "team-a" },
  },
});

export const ordersTableArn = orders.tableArn;
export const ordersTableName = orders.tableName;
export const ordersArnSource = orders.arnSource;
export const promiseName = platform.promiseName;
