export { Damper, type DamperOptions } from './damper.ts';
export { createDnsProbe, type DnsCheckSpec, type DnsProbeOptions, dnsProbe } from './dns-probe.ts';
export { type DnsHeader, decodeDnsHeader, encodeDnsQuery, rcodeName } from './dns-wire.ts';
export { HealthMonitor, type HealthMonitorOptions } from './health-monitor.ts';
export { createHttpProbe, type HttpCheckSpec, type HttpProbeOptions, httpProbe } from './http-probe.ts';
export { buildHttpRequest, hostHeader } from './http-request.ts';
export { createIcmpProbe, type IcmpCheckSpec, type IcmpProbeOptions, icmpProbe } from './icmp-probe.ts';
export { type MiscCheckSpec, miscProbe } from './misc-probe.ts';
export { probe, probeWithRetries, type RetryOptions, type Sleep, sleepWithSignal } from './probe.ts';
export { CODE_ABORTED, CODE_INVALID, CODE_TIMEOUT } from './probe-attempt.ts';
export { type SmtpCheckSpec, smtpProbe } from './smtp-probe.ts';
export { tcpProbe } from './tcp-probe.ts';
export type {
  CheckStatus,
  HealthChange,
  HealthCounters,
  HealthTotals,
  HealthWatch,
  ProbeResult,
  Prober,
  ProbeTarget,
  ServerHealthStatus,
} from './types.ts';
