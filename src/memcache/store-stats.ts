/** Counters memcached keeps for the whole server (its "thread stats"). */
export class GlobalStats {
  getCmds = 0;
  getMisses = 0;
  getExpired = 0;
  getFlushed = 0;
  touchCmds = 0;
  touchMisses = 0;
  deleteMisses = 0;
  incrMisses = 0;
  decrMisses = 0;
  casMisses = 0;
  flushCmds = 0;
  metaCmds = 0;
  storeTooLarge = 0;
  storeNoMemory = 0;
  totalItems = 0;
  /** Items reclaimed by the crawler / found expired on the allocation path. */
  slabsMoved = 0;
  lruMaintainerJuggles = 0;
  crawlerStarts = 0;
}

/** Per slab class counters (memcached's slab_stats and itemstats), indexed by class. */
export class ClassStats {
  readonly getHits: Float64Array;
  readonly setCmds: Float64Array;
  readonly deleteHits: Float64Array;
  readonly incrHits: Float64Array;
  readonly decrHits: Float64Array;
  readonly casHits: Float64Array;
  readonly casBadval: Float64Array;
  readonly touchHits: Float64Array;
  readonly evicted: Float64Array;
  readonly evictedNonzero: Float64Array;
  /** Seconds since last access of the most recently evicted item. */
  readonly evictedTime: Float64Array;
  readonly outOfMemory: Float64Array;
  readonly reclaimed: Float64Array;
  readonly expiredUnfetched: Float64Array;
  readonly evictedUnfetched: Float64Array;
  readonly evictedActive: Float64Array;
  readonly crawlerReclaimed: Float64Array;
  readonly crawlerItemsChecked: Float64Array;
  readonly movesToCold: Float64Array;
  readonly movesToWarm: Float64Array;
  readonly movesWithinLru: Float64Array;
  readonly directReclaims: Float64Array;
  readonly hitsToHot: Float64Array;
  readonly hitsToWarm: Float64Array;
  readonly hitsToCold: Float64Array;
  /** Sum of item sizes (header + key + value + CRLF) of linked items. */
  readonly memRequested: Float64Array;

  constructor(classes: number) {
    const a = () => new Float64Array(classes);
    this.getHits = a();
    this.setCmds = a();
    this.deleteHits = a();
    this.incrHits = a();
    this.decrHits = a();
    this.casHits = a();
    this.casBadval = a();
    this.touchHits = a();
    this.evicted = a();
    this.evictedNonzero = a();
    this.evictedTime = a();
    this.outOfMemory = a();
    this.reclaimed = a();
    this.expiredUnfetched = a();
    this.evictedUnfetched = a();
    this.evictedActive = a();
    this.crawlerReclaimed = a();
    this.crawlerItemsChecked = a();
    this.movesToCold = a();
    this.movesToWarm = a();
    this.movesWithinLru = a();
    this.directReclaims = a();
    this.hitsToHot = a();
    this.hitsToWarm = a();
    this.hitsToCold = a();
    this.memRequested = a();
  }

  /** Sum of one counter over all classes. */
  static total(values: Float64Array): number {
    let sum = 0;
    for (let i = 0; i < values.length; i++) sum += values[i]!;
    return sum;
  }

  /** `stats reset` clears counters, not gauges (memRequested stays). */
  reset(): void {
    for (const [name, value] of Object.entries(this)) {
      if (name !== 'memRequested' && value instanceof Float64Array) value.fill(0);
    }
  }
}
