/**
 * The component package: import these into your own stack.
 *
 *   import { DynamoDBPlatform, DynamoDBTable } from "kratix-dynamodb-platform";
 */
export { DynamoDBPlatform, type DynamoDBPlatformArgs } from "./platform.ts";
export { DynamoDBTable, tableArgErrors, type DynamoDBTableArgs } from "./dynamodb-table.ts";
export { DynamoDBPromise, type DynamoDBPromiseArgs } from "./dynamodb-promise.ts";
export { KubeVelaDefinitions, type KubeVelaDefinitionsArgs } from "./kubevela.ts";
export { KratixInstallation, type KratixArgs, type StateStoreArgs } from "./kratix.ts";
export { AckDynamoDBController, type AckDynamoDBControllerArgs, type AckCredentialsArgs } from "./ack-controller.ts";
export type { TableProperties } from "../core/render/dynamodb-request.ts";
export type { DynamoDBRequestSpec, PlatformDefaults } from "../core/api/types.ts";
