import type * as pulumi from "@pulumi/pulumi";

/**
 * The package's name: npm's, the component package's (PulumiPlugin.yaml, the schema) and so the
 * first part of every type token. Pulumi requires a component package's tokens to start with the
 * package's name, the one other languages write (`kratix-dynamodb-platform:index:DynamoDBTable`).
 */
export const PACKAGE_NAME = "kratix-dynamodb-platform";
/** Type tokens of this package's components: `<package>:<module>:<Type>`, module index (the only one a component package has). */
export const TOKEN_PREFIX = `${PACKAGE_NAME}:index`;
/** The tokens' prefix up to 0.1.0. Components made then keep their URNs through an alias to their old type. */
export const OLD_TOKEN_PREFIX = "kratix-dynamodb:index";

/**
 * A component's options with an alias to its type's old token, so that a stack made with an
 * older version of the package updates in place rather than replacing the component (and, through
 * the parent's alias, every resource under it).
 */
export function componentOptions(type: string, opts: pulumi.ComponentResourceOptions | undefined): pulumi.ComponentResourceOptions {
  return { ...opts, aliases: [...(opts?.aliases ?? []), { type: `${OLD_TOKEN_PREFIX}:${type}` }] };
}
