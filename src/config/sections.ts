import type { z } from 'zod';
import { databaseSchema } from '../db/config-schema.ts';
import { httpSectionSchema } from '../http/config-schema.ts';
import { memcachedSchema } from '../memcache/config-schema.ts';
import { vrrpSectionSchema } from '../vrrp/config-schema.ts';
import type { HastackConfig } from './model.ts';

/*
 * Optional top-level sections of hastack.yaml, each owned by a component. A
 * component exports a zod schema whose output is already its model (durations in
 * ms, addresses split, defaults filled in), so errors point at the exact key and
 * line. To add a section: import its schema and add one `key: schema.optional()`
 * line (keep one line per component; the markers below are where they go).
 */
export const sectionSchemas = {
  memcached: memcachedSchema.optional(),
  vrrp: vrrpSectionSchema.optional(),
  http: httpSectionSchema.optional(),
  database: databaseSchema.optional(),
  // <dns section>
};

export type SectionKey = keyof typeof sectionSchemas;

/** The parsed sections; absent when the file has none. */
export type SectionsConfig = { [K in SectionKey]?: z.output<(typeof sectionSchemas)[K]> };

/** Everything a config file describes: the core model plus the component sections. */
export type FullConfig = HastackConfig & { sections: SectionsConfig };
