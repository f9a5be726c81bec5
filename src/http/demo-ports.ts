/** The demo's ports as the demo section needs them (kept here so src/http does not import src/demo). */
export interface DemoPortsLike {
  port: number;
  backendPorts: number[];
}
