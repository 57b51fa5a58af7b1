/**
 * Slot for the spec validator compiled ahead of time. When the pipeline is
 * bundled for its image, scripts/build-pipeline.ts replaces this module with
 * Ajv's standalone code for the very same schema, so a cold pipeline process
 * skips Ajv's schema compilation (about 100 ms). From source it is undefined
 * and validate.ts compiles the schema on first use.
 */
import type { ValidateFunction } from "ajv";

export const precompiledSpecValidator: ValidateFunction | undefined = undefined;
