/** The part of the demo's port plan the database section uses (see src/demo/demo-config.ts). */
export interface DemoPortsLike {
  port: number;
}
