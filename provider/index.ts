/**
 * The component package's provider, which Pulumi runs for programs in other languages (YAML,
 * Python, Go, C#, Java) that use DynamoDBPlatform and DynamoDBTable: PulumiPlugin.yaml (runtime
 * nodejs) makes the Node.js language host run @pulumi/pulumi's run-plugin on the package's
 * folder, which loads package.json's `main`, the build of this file (imports of the package by
 * name use `exports`, never this). It serves the provider protocol: the schema, inferred from
 * the components' TypeScript declarations, and Construct, which builds a component here.
 */
import { componentProviderHost } from "@pulumi/pulumi/provider/experimental/provider.js";
import { componentPackage } from "./component-package.ts";

void componentProviderHost(componentPackage());
