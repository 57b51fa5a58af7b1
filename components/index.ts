/**
 * The component package: import these into your own stack.
 *
 *   import { DynamoDBPlatform, DynamoDBTable } from "kratix-dynamodb-platform";
 *
 * DynamoDBPlatform and DynamoDBTable are also a Pulumi component package for other
 * languages (provider/index.ts, docs/package.md); the other components are TypeScript only.
 */
export { DynamoDBPlatform, type DynamoDBPlatformArgs } from "./platform.ts";
export { DynamoDBTable, type DynamoDBTableArgs } from "./dynamodb-table.ts";
export { tableArgErrors } from "../core/api/table-args.ts";
export { DynamoDBPromise, type DynamoDBPromiseArgs } from "./dynamodb-promise.ts";
export { KubeVelaDefinitions, type KubeVelaDefinitionsArgs } from "./kubevela.ts";
export { KratixInstallation, type KratixArgs, type StateStoreArgs, type StateStoreCredentialsArgs } from "./kratix.ts";
export { AckDynamoDBController, type AckDynamoDBControllerArgs, type AckCredentialsArgs } from "./ack-controller.ts";
export {
  AckCredentialsMode,
  ArnSource,
  AttributeType,
  BillingMode,
  DeletionPolicy,
  EncryptionType,
  KeyType,
  ProjectionType,
  PromiseDelivery,
  StateStoreAuthMode,
  StateStoreKind,
  StateStoreMode,
  StreamViewType,
  TableClass,
  type AckCredentials,
  type AttributeDefinition,
  type DynamoDBPlatformDefaults,
  type EncryptionSpec,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  type LocalSecondaryIndex,
  type PlatformInstall,
  type Projection,
  type ProvisionedThroughput,
  type StateStore,
  type StateStoreCredentials,
  type StreamSpec,
  type TablePlatform,
  type TableProperties,
  type TableStatus,
  type TimeToLiveSpec,
} from "./args.ts";
export { PACKAGE_NAME } from "./token.ts";
export type { DynamoDBRequestSpec, PlatformDefaults } from "../core/api/types.ts";
