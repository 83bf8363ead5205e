import { z } from 'zod';

/** Helpers for environment-variable schemas: every value arrives as a string. */
export const port = (def: number) => z.coerce.number().int().min(1).max(65535).default(def);
export const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(def);
export const num = (def: number) => z.coerce.number().finite().default(def);
export const bool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');
export const url = (def?: string) => (def === undefined ? z.string().url() : z.string().url().default(def));
export const str = (def: string) => z.string().min(1).default(def);
export const optionalStr = () =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === '' ? undefined : v));
