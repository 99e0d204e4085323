/** Small JSON helpers shared by the SBOM readers. */
import { EngineError } from '../../errors.js';

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A non-empty trimmed string, else undefined. */
export const str = (v: unknown): string | undefined =>
  typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;

export function sbomInvalid(message: string): EngineError {
  return new EngineError('ENG_SBOM_INVALID', message);
}
