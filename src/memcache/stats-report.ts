import { SEG_COLD, SEG_HOT, SEG_WARM } from './item-layout.ts';
import type { ItemStore } from './item-store.ts';
import type { ServerState } from './server-state.ts';
import { ClassStats } from './store-stats.ts';

export type StatSink = (name: string, value: string | number) => void;

const total = ClassStats.total;

/** `stats`: the general statistics, in memcached 1.6's order and names. */
export function generalStats(store: ItemStore, server: ServerState, emit: StatSink): void {
  const s = store.stats;
  const c = store.classStats;
  const usage = server.rusage();
  emit('pid', server.pid);
  emit('uptime', Math.max(0, store.currentTime - 2));
  emit('time', store.unixTime);
  emit('version', server.settings.version);
  emit('libevent', 'node');
  emit('pointer_size', 64);
  emit('rusage_user', usage.user.toFixed(6));
  emit('rusage_system', usage.system.toFixed(6));
  emit('max_connections', server.settings.maxConnections);
  emit('curr_connections', server.currConnections);
  emit('total_connections', server.totalConnections);
  emit('rejected_connections', server.rejectedConnections);
  emit('connection_structures', server.connectionStructures);
  emit('reserved_fds', 0);
  emit('cmd_get', s.getCmds);
  emit('cmd_set', total(c.setCmds));
  emit('cmd_flush', s.flushCmds);
  emit('cmd_touch', s.touchCmds);
  emit('cmd_meta', s.metaCmds);
  emit('get_hits', total(c.getHits));
  emit('get_misses', s.getMisses);
  emit('get_expired', s.getExpired);
  emit('get_flushed', s.getFlushed);
  emit('delete_misses', s.deleteMisses);
  emit('delete_hits', total(c.deleteHits));
  emit('incr_misses', s.incrMisses);
  emit('incr_hits', total(c.incrHits));
  emit('decr_misses', s.decrMisses);
  emit('decr_hits', total(c.decrHits));
  emit('cas_misses', s.casMisses);
  emit('cas_hits', total(c.casHits));
  emit('cas_badval', total(c.casBadval));
  emit('touch_hits', total(c.touchHits));
  emit('touch_misses', s.touchMisses);
  emit('store_too_large', s.storeTooLarge);
  emit('store_no_memory', s.storeNoMemory);
  emit('auth_cmds', 0);
  emit('auth_errors', 0);
  emit('bytes_read', server.bytesRead);
  emit('bytes_written', server.bytesWritten);
  emit('limit_maxbytes', store.memoryLimit);
  emit('accepting_conns', server.acceptingConns);
  emit('listen_disabled_num', server.listenDisabledNum);
  emit('threads', 1);
  emit('conn_yields', server.connYields);
  emit('hash_power_level', store.hashPower);
  emit('hash_bytes', store.hashBytes);
  emit('hash_is_expanding', store.hashExpanding ? 1 : 0);
  emit('slab_reassign_running', 0);
  emit('slabs_moved', s.slabsMoved);
  emit('lru_crawler_running', 0);
  emit('lru_crawler_starts', s.crawlerStarts);
  emit('lru_maintainer_juggles', s.lruMaintainerJuggles);
  emit('malloc_fails', store.mem.mallocFails);
  emit('backpressure_pauses', server.backpressurePauses);
  emit('bytes', store.currBytes);
  emit('curr_items', store.currItems);
  emit('total_items', s.totalItems);
  emit('slab_global_page_pool', 0);
  emit('expired_unfetched', total(c.expiredUnfetched));
  emit('evicted_unfetched', total(c.evictedUnfetched));
  emit('evicted_active', total(c.evictedActive));
  emit('evictions', total(c.evicted));
  emit('reclaimed', total(c.reclaimed));
  emit('crawler_reclaimed', total(c.crawlerReclaimed));
  emit('crawler_items_checked', total(c.crawlerItemsChecked));
  emit('lrutail_reflocked', 0);
  emit('moves_to_cold', total(c.movesToCold));
  emit('moves_to_warm', total(c.movesToWarm));
  emit('moves_within_lru', total(c.movesWithinLru));
  emit('direct_reclaims', total(c.directReclaims));
  emit('lru_bumps_dropped', 0);
}

/** `stats settings`. */
export function settingsStats(store: ItemStore, server: ServerState, emit: StatSink): void {
  const st = server.settings;
  emit('maxbytes', store.memoryLimit);
  emit('maxconns', st.maxConnections);
  emit('tcpport', st.port);
  emit('udpport', 0);
  emit('inter', st.host);
  emit('verbosity', server.verbosity);
  emit('oldest', store.oldestLive);
  emit('evictions', store.evictions ? 'on' : 'off');
  emit('domain_socket', 'NULL');
  emit('umask', 700);
  emit('shutdown_command', 'no');
  emit('growth_factor', store.growthFactor.toFixed(2));
  emit('chunk_size', store.chunkSize);
  emit('num_threads', 1);
  emit('num_threads_per_udp', 1);
  emit('stat_key_prefix', ':');
  emit('detail_enabled', 'no');
  emit('reqs_per_event', st.reqsPerEvent);
  emit('cas_enabled', store.casEnabled ? 'yes' : 'no');
  emit('tcp_backlog', st.tcpBacklog);
  emit('binding_protocol', st.bindingProtocol === 'auto' ? 'auto-negotiate' : st.bindingProtocol);
  emit('auth_enabled_sasl', 'no');
  emit('auth_enabled_ascii', 'no');
  emit('item_size_max', store.itemSizeMax);
  emit('maxconns_fast', 'yes');
  emit('hashpower_init', 0);
  emit('slab_reassign', 'no');
  emit('slab_automove', 0);
  emit('slab_chunk_max', store.mem.pageSize);
  emit('lru_crawler', 'yes');
  emit('lru_crawler_sleep', 100);
  emit('lru_crawler_tocrawl', 0);
  emit('tail_repair_time', 0);
  emit('flush_enabled', st.flushEnabled ? 'yes' : 'no');
  emit('dump_enabled', 'no');
  emit('hash_algorithm', 'murmur3');
  emit('lru_maintainer_thread', 'yes');
  emit('lru_segmented', 'yes');
  emit('hot_lru_pct', store.hotLruPct);
  emit('warm_lru_pct', store.warmLruPct);
  emit('hot_max_factor', store.hotMaxFactor.toFixed(2));
  emit('warm_max_factor', store.warmMaxFactor.toFixed(2));
  emit('temp_lru', 'no');
  emit('temporary_ttl', 61);
  emit('idle_timeout', st.idleTimeoutSec);
  emit('watcher_logbuf_size', 0);
  emit('worker_logbuf_size', 0);
  emit('read_buf_mem_limit', 0);
  emit('track_sizes', 'no');
  emit('inline_ascii_response', 'no');
  emit('client_flags_size', 4);
  emit('output_limit', st.outputLimit);
}

/** `stats items`: per class with items, memcached's items:N:* keys. */
export function itemsStats(store: ItemStore, emit: StatSink): void {
  const c = store.classStats;
  const n = store.mem.classes.chunkSizes.length;
  for (let cls = 0; cls < n; cls++) {
    const items = store.classItems(cls);
    if (items === 0 && store.mem.pagesOf[cls] === 0) continue;
    const p = `items:${cls + 1}:`;
    emit(`${p}number`, items);
    emit(`${p}number_hot`, store.lruSizes[cls * 3 + SEG_HOT]!);
    emit(`${p}number_warm`, store.lruSizes[cls * 3 + SEG_WARM]!);
    emit(`${p}number_cold`, store.lruSizes[cls * 3 + SEG_COLD]!);
    emit(`${p}age_hot`, store.tailAge(cls, SEG_HOT));
    emit(`${p}age_warm`, store.tailAge(cls, SEG_WARM));
    emit(`${p}age`, store.tailAge(cls, SEG_COLD));
    emit(`${p}mem_requested`, c.memRequested[cls]!);
    emit(`${p}evicted`, c.evicted[cls]!);
    emit(`${p}evicted_nonzero`, c.evictedNonzero[cls]!);
    emit(`${p}evicted_time`, c.evictedTime[cls]!);
    emit(`${p}outofmemory`, c.outOfMemory[cls]!);
    emit(`${p}tailrepairs`, 0);
    emit(`${p}reclaimed`, c.reclaimed[cls]!);
    emit(`${p}expired_unfetched`, c.expiredUnfetched[cls]!);
    emit(`${p}evicted_unfetched`, c.evictedUnfetched[cls]!);
    emit(`${p}evicted_active`, c.evictedActive[cls]!);
    emit(`${p}crawler_reclaimed`, c.crawlerReclaimed[cls]!);
    emit(`${p}crawler_items_checked`, c.crawlerItemsChecked[cls]!);
    emit(`${p}lrutail_reflocked`, 0);
    emit(`${p}moves_to_cold`, c.movesToCold[cls]!);
    emit(`${p}moves_to_warm`, c.movesToWarm[cls]!);
    emit(`${p}moves_within_lru`, c.movesWithinLru[cls]!);
    emit(`${p}direct_reclaims`, c.directReclaims[cls]!);
    emit(`${p}hits_to_hot`, c.hitsToHot[cls]!);
    emit(`${p}hits_to_warm`, c.hitsToWarm[cls]!);
    emit(`${p}hits_to_cold`, c.hitsToCold[cls]!);
    emit(`${p}hits_to_temp`, 0);
  }
}

/** `stats slabs`: per class with pages, then the totals. */
export function slabsStats(store: ItemStore, emit: StatSink): void {
  const mem = store.mem;
  const c = store.classStats;
  const n = mem.classes.chunkSizes.length;
  let active = 0;
  for (let cls = 0; cls < n; cls++) {
    const pages = mem.pagesOf[cls]!;
    if (pages === 0) continue;
    active++;
    const p = `${cls + 1}:`;
    const perPage = mem.classes.perPage[cls]!;
    emit(`${p}chunk_size`, mem.classes.chunkSizes[cls]!);
    emit(`${p}chunks_per_page`, perPage);
    emit(`${p}total_pages`, pages);
    emit(`${p}total_chunks`, pages * perPage);
    emit(`${p}used_chunks`, mem.usedChunks[cls]!);
    emit(`${p}free_chunks`, pages * perPage - mem.usedChunks[cls]!);
    emit(`${p}free_chunks_end`, mem.endLeft[cls]!);
    emit(`${p}get_hits`, c.getHits[cls]!);
    emit(`${p}cmd_set`, c.setCmds[cls]!);
    emit(`${p}delete_hits`, c.deleteHits[cls]!);
    emit(`${p}incr_hits`, c.incrHits[cls]!);
    emit(`${p}decr_hits`, c.decrHits[cls]!);
    emit(`${p}cas_hits`, c.casHits[cls]!);
    emit(`${p}cas_badval`, c.casBadval[cls]!);
    emit(`${p}touch_hits`, c.touchHits[cls]!);
  }
  emit('active_slabs', active);
  emit('total_malloced', mem.totalPages * mem.pageSize);
}

/** `stats sizes`: memcached only tracks them with -o track_sizes; hastack reports it as off. */
export function sizesStats(emit: StatSink): void {
  emit('sizes_status', 'disabled');
}

/** `stats conns`. */
export function connsStats(server: ServerState, emit: StatSink): void {
  emit(`0:addr`, `tcp:${server.settings.host}:${server.settings.port}`);
  emit(`0:state`, 'conn_listening');
  emit(`0:secs_since_last_cmd`, 0);
  for (const c of server.connections()) {
    emit(`${c.id}:addr`, c.addr);
    emit(`${c.id}:listen_addr`, `tcp:${server.settings.host}:${server.settings.port}`);
    emit(`${c.id}:state`, c.state);
    emit(`${c.id}:secs_since_last_cmd`, c.secsSinceLastCmd);
  }
}
