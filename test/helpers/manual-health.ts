import type { CheckSpec } from '../../src/config/model.ts';
import type { HealthChange, HealthWatch, ProbeTarget, ServerHealthStatus } from '../../src/health/types.ts';

/** A HealthWatch the test flips by hand. */
export class ManualHealth implements HealthWatch {
  readonly states = new Map<string, ServerHealthStatus>();
  readonly adds: string[] = [];
  readonly removes: string[] = [];
  readonly #listeners = new Set<(c: HealthChange) => void>();

  add(id: string, target: ProbeTarget, _checks: readonly CheckSpec[], startDown: boolean): void {
    this.adds.push(id);
    this.states.set(id, { id, target, up: !startDown, checks: [] });
  }

  remove(id: string): void {
    this.removes.push(id);
    this.states.delete(id);
  }

  subscribe(listener: (change: HealthChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  status(id: string): ServerHealthStatus | undefined {
    return this.states.get(id);
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  set(id: string, up: boolean, weight?: number): void {
    const s = this.states.get(id);
    if (s !== undefined) {
      s.up = up;
      if (weight !== undefined) s.weight = weight;
    }
    const change: HealthChange = {
      id,
      up,
      reason: 'test',
      at: Date.now(),
      ...(weight !== undefined && { weight }),
    };
    for (const l of this.#listeners) l(change);
  }
}
