/** Tolerant readers for scanner JSON: every collection may be absent or `null`. */

export type JsonObject = Readonly<Record<string, unknown>>;

/** Reports whether `value` is a JSON object (not an array, not `null`). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The object at `key`, or `undefined` when absent or not an object. */
export function objectField(obj: JsonObject | undefined, key: string): JsonObject | undefined {
  const value = obj?.[key];
  return isJsonObject(value) ? value : undefined;
}

/** The array at `key`, or an empty array when absent, `null` or not an array. */
export function arrayField(obj: JsonObject | undefined, key: string): readonly unknown[] {
  const value = obj?.[key];
  return Array.isArray(value) ? value : [];
}

/** The string at `key` (trimmed), or `''` when absent or not a string. */
export function stringField(obj: JsonObject | undefined, key: string): string {
  const value = obj?.[key];
  return typeof value === 'string' ? value.trim() : '';
}

/** The objects of an array, skipping anything else. */
export function objects(values: readonly unknown[]): JsonObject[] {
  return values.filter(isJsonObject);
}
