/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The index: zone threads owning slices of the volume index and the open
 * chapter, a chapter writer that closes chapters into the volume store,
 * and the on-disk layout that lets the index be saved, loaded and rebuilt.
 */
#ifndef DDI_INDEX_H
#define DDI_INDEX_H

#include <linux/dm-dedup-index.h>
#include <linux/kthread.h>
#include <linux/llist.h>
#include <linux/mutex.h>
#include <linux/wait.h>

#include "layout.h"
#include "open-chapter.h"
#include "sparse-cache.h"
#include "volume.h"
#include "volume-index.h"

/* Counters one zone thread alone writes, on their own cache line. */
struct ddi_zone_stats {
	u64 posts_found;
	u64 posts_not_found;
	u64 queries;
	u64 updates;
	u64 deletes;
	u64 requests;
	u64 volume_index_full;
	/* Time spent waiting, at a chapter close, for the previous chapter's write. */
	u64 close_wait_ns;
	/* Names found through the sparse cache, and names it did not hold. */
	u64 sparse_hits;
	u64 sparse_misses;
} ____cacheline_aligned_in_smp;

struct ddi_index_zone {
	struct ddi_index *index;
	unsigned int id;
	struct task_struct *thread;
	/* New and requeued requests; any thread adds, only the zone takes. */
	struct llist_head queue;
	/*
	 * Requests launched to the zone and not yet completed: one counter a
	 * zone, on the line its queue's launchers write anyway, so that zones
	 * do not contend for one counter of the whole index.
	 */
	atomic64_t in_flight;
	wait_queue_head_t wait;
	/*
	 * Requests finished and not yet handed to the answer thread, newest
	 * first, as llist_add_batch() takes them; the zone thread's alone.
	 */
	struct llist_node *answers_first;
	struct llist_node *answers_last;
	u32 answers_held;
	/* Records of the open chapter, and of the one being written. */
	struct ddi_open_chapter_zone *open;
	struct ddi_open_chapter_zone *closing;
	/* The open chapter; the zone thread alone changes it. */
	u64 open_vcn;
	struct ddi_zone_stats stats;
};

/*
 * Closing chapter N: the zone that fills its share of N raises close_target
 * to N + 1; each zone then hands its records of N over and moves on to
 * N + 1. Once all have, the writer writes N and raises written_end to
 * N + 1. A zone hands N + 1 over only after N is written, as it reuses
 * the records buffer of N for N + 2.
 */
struct ddi_chapter_writer {
	struct task_struct *thread;
	wait_queue_head_t wait;
	/*
	 * Each zone sets its handed[] entry, then counts itself in
	 * zones_handed (release); the writer reads handed[] once the count
	 * is full (acquire) and resets it before raising written_end.
	 */
	struct ddi_open_chapter_zone *handed[DDI_MAX_ZONES];
	atomic_t zones_handed;
	/* The chapter zones should move past; raised by the zone that fills. */
	atomic64_t close_target;
	/* Chapters below this are written; zones wait here for it to rise. */
	atomic64_t written_end;
	wait_queue_head_t written_wait;
	struct ddi_record *records;
	const struct ddi_record **scratch;
	struct ddi_open_chapter_index *chapter_index;
	struct ddi_radix_sorter *sorter;
	/* Written by the writer thread only; read with READ_ONCE(). */
	u64 chapters_written;
	u64 chapters_failed;
	/* Names written chapters' indexes had no room for; see the stats. */
	u64 entries_dropped;
	/* The first failure to write a chapter; once set, nothing is written. */
	int error;
};

/*
 * What protects what: the fields down to zone_count are set by the open and
 * only read after it, except bdev, which ddi_index_replace_storage() changes
 * under save_mutex with the zones paused and the writer idle, and the
 * layout_save_* pair, which saves change under save_mutex. Each zone's
 * fields belong to its thread (see struct ddi_index_zone), the writer's to
 * the writer (see struct ddi_chapter_writer); the rest say their own rule.
 */
struct ddi_index {
	struct ddi_index_config config;
	/* How the open got the state, and the chapters a rebuild took. */
	enum ddi_index_opened opened;
	/* How long the open took, in milliseconds. */
	u64 open_ms;
	u64 rebuilt_lowest;
	u64 rebuilt_highest;
	struct ddi_geometry geo;
	struct ddi_index_layout layout;
	/* The newest good save: the next goes to the other slot. */
	u64 layout_save_sequence;
	unsigned int layout_save_slot;
	struct block_device *bdev;
	struct ddi_volume *volume;
	/*
	 * Every name of the dense chapters; in a sparse index, every name
	 * but hooks, of the newest chapters only.
	 */
	struct ddi_volume_index *volume_index;
	/* A sparse index's hooks, of every chapter, and its sparse cache. */
	struct ddi_volume_index *hook_index;
	struct ddi_sparse_cache *sparse_cache;
	unsigned int zone_count;
	struct ddi_index_zone *zones[DDI_MAX_ZONES];
	struct ddi_chapter_writer writer;
	/* Woken when a zone's in_flight falls to 0; flush waits for all. */
	wait_queue_head_t flush_wait;
	/* Finished requests, for the answer thread to call back (index-answers.c). */
	struct llist_head answers;
	struct task_struct *answer_thread;
	/* Requests added to answers whose callback has not returned. */
	atomic_t answers_pending;
	wait_queue_head_t answers_wait;
	/*
	 * A save pauses the zone threads so that it reads their state at
	 * rest, while launches go on queueing; serialised by save_mutex.
	 */
	struct mutex save_mutex;
	/*
	 * Where the last good save of this open went (NULL: none yet), and
	 * how many requests the zones had finished then; under save_mutex.
	 */
	struct block_device *saved_bdev;
	u64 saved_requests;
	/*
	 * Set and cleared under save_mutex (WRITE_ONCE), read by the zone
	 * threads (READ_ONCE); each zone counts itself in zones_paused.
	 */
	bool pausing;
	atomic_t zones_paused;
	wait_queue_head_t pause_wait;
	/* What fills in a save's client state, and for whom; under save_mutex. */
	ddi_save_hook_fn save_hook;
	void *save_hook_context;
	/*
	 * The client state of the save the open took its state from; then
	 * that of the last good save of this open, under save_mutex.
	 */
	struct ddi_client_state client_state;
};

/* A device holding a copy of the index, ready to be moved onto. */
struct ddi_index_storage {
	struct block_device *bdev;
	struct ddi_volume_storage volume;
};

/* The part of the volume index that holds @name. */
static inline struct ddi_volume_index *ddi_index_volume_index(const struct ddi_index *index,
							      const struct ddi_name *name)
{
	return ddi_geometry_is_hook(&index->geo, name) ? index->hook_index : index->volume_index;
}

/*
 * Whether a closed chapter is sparse: older than the dense chapters, so
 * that the volume index holds only its hooks.
 */
static inline bool ddi_index_chapter_is_sparse(const struct ddi_index *index, u64 open_vcn,
					       u64 vcn)
{
	return ddi_geometry_is_sparse(&index->geo) &&
	       open_vcn - vcn >= ddi_geometry_dense_chapters(&index->geo);
}

/* index.c: close without saving, as a crash would leave the device. */
#if IS_ENABLED(CONFIG_DM_DEDUP_INDEX_KUNIT_TEST)
void ddi_index_abandon(struct ddi_index *index);
#endif

/* index-zone.c */
int ddi_index_zones_create(struct ddi_index *index, u64 open_vcn);
int ddi_index_zones_start(struct ddi_index *index);
void ddi_index_zones_free(struct ddi_index *index);
void ddi_index_zones_pause(struct ddi_index *index);
void ddi_index_zones_resume(struct ddi_index *index);
void ddi_index_zone_requeue(struct ddi_request *request, void *context);
void ddi_index_zone_hand_answers(struct ddi_index_zone *zone);
void ddi_index_zone_put_record(struct ddi_index_zone *zone, const struct ddi_name *name,
			       const struct ddi_data *data, bool hint_denied);

/* chapter-writer.c */
size_t ddi_chapter_writer_memory_bytes(const struct ddi_geometry *geo);
u64 ddi_index_memory_bytes(const struct ddi_geometry *geo, unsigned int zone_count,
			   unsigned int reader_count, unsigned int cache_chapters);
u64 ddi_index_memory_planned(const struct ddi_geometry *geo);
int ddi_index_memory_geometry(unsigned int memory_mb, bool sparse, struct ddi_geometry *geo);
int ddi_index_memory_adopt_shape(unsigned int memory_mb, bool sparse,
				 const struct ddi_index_layout *found, struct ddi_geometry *geo);
int ddi_index_legacy_geometry(unsigned int memory_mb, struct ddi_geometry *geo);
u64 ddi_index_volume_index_bytes(const struct ddi_geometry *geo, unsigned int zone_count);
int ddi_index_volume_index_create(struct ddi_index *index);
void ddi_index_volume_index_set_window(struct ddi_index *index, unsigned int zone,
				       u64 oldest_vcn, u64 newest_vcn);
int ddi_chapter_writer_create(struct ddi_index *index, u64 open_vcn);
void ddi_chapter_writer_free(struct ddi_index *index);
void ddi_chapter_writer_request_close(struct ddi_index *index, u64 open_vcn);
void ddi_chapter_writer_hand_over(struct ddi_index_zone *zone);
bool ddi_chapter_writer_is_written(struct ddi_index *index, u64 vcn);
void ddi_chapter_writer_drain(struct ddi_index *index);

/* index-answers.c */
void ddi_index_answers_add(struct ddi_index *index, struct llist_node *first,
			   struct llist_node *last, u32 count);
void ddi_index_answers_drain(struct ddi_index *index);
int ddi_index_answers_start(struct ddi_index *index);
void ddi_index_answers_stop(struct ddi_index *index);

/* index-state.c */
u64 ddi_index_state_bytes(struct ddi_index *index);
int ddi_index_state_save(struct ddi_index *index, const struct ddi_client_state *client);
int ddi_index_state_load(struct ddi_index *index, u64 volume_open_vcn);
u64 ddi_index_state_open_vcn(struct ddi_index *index);

/* index-rebuild.c */
int ddi_index_rebuild(struct ddi_index *index, u64 lowest_vcn, u64 highest_vcn);

#endif /* DDI_INDEX_H */
