/** Type tokens of this package's components: `<package>:<module>:<Type>`. */
export const TOKEN_PREFIX = "kratix-dynamodb:index";
