/**
 * Compiles the spec validator from the CRD's own schema with Ajv. The pipeline's
 * bundle carries this validator compiled ahead of time instead (see
 * precompiled-validator.ts), and scripts/build-pipeline.ts leaves this module,
 * and with it Ajv's compiler, out of the bundle.
 */
import { Ajv, type ValidateFunction } from "ajv";
import { openApiToJsonSchema } from "../k8s/openapi-to-json-schema.ts";
import { dynamoDBRequestSpecSchema } from "./schema.ts";

/** Ajv settings shared by the runtime compiler and the ahead-of-time one. */
export const AJV_OPTIONS = { allErrors: true, strict: true, verbose: true } as const;

/** The JSON Schema the validator compiles: the CRD's spec schema with unknown fields as errors. */
export const specJsonSchema = () => openApiToJsonSchema(dynamoDBRequestSpecSchema());

export const compileSpecValidator = (): ValidateFunction => new Ajv(AJV_OPTIONS).compile(specJsonSchema());
