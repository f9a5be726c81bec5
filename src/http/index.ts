export { httpSectionSchema } from './config-schema.ts';
export { HttpService } from './http-service.ts';
export { httpMetricSpecs } from './metrics.ts';
export type { HttpSectionConfig } from './model.ts';
export type { EngineSnapshot } from './snapshot.ts';
export { formatHttpStatus } from './status-format.ts';
