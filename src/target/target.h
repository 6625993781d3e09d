/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The dedup-index device-mapper target: what its parts share.
 */
#ifndef DDI_TARGET_H
#define DDI_TARGET_H

#include <linux/device-mapper.h>
#include <linux/dm-dedup-index.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/sizes.h>
#include <linux/spinlock.h>
#include <linux/unaligned.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "target-config.h"

/*
 * The block the target names: 4 KiB whatever the page size, as the
 * index's block numbers and the names in it are of 4 KiB blocks.
 */
#define DDI_BLOCK_SIZE SZ_4K
#define DDI_BLOCK_SECTORS (DDI_BLOCK_SIZE >> SECTOR_SHIFT)

/* Counters of what the target did with the blocks written through it. */
struct ddi_target_stats {
	/* Whole blocks of successful writes posted to the index. */
	atomic64_t blocks_indexed;
	/* Posts the index answered with an earlier block of the same name. */
	atomic64_t duplicate_advice;
	/* Advice checked by reading the advised block: same content. */
	atomic64_t verified_duplicates;
	/* Advice checked and found out of date: the block has changed since. */
	atomic64_t stale_advice;
	/* Reads verify issued, each of a run of adjacent advised blocks. */
	atomic64_t verify_reads;
	atomic64_t verify_read_bytes;
	/*
	 * Blocks of writes not posted: the posts in flight were at their
	 * bound, or no memory could be had without waiting.
	 */
	atomic64_t blocks_skipped;
	/*
	 * Write bios whose posts are launched and not all answered yet,
	 * verification included, counted by the epoch they were launched in.
	 */
	atomic64_t posts_in_flight[2];
};

struct ddi_shared_index;

/* Where a scan of the data device is (target-scan.c, target-scan-state.c). */
enum ddi_scan_phase {
	DDI_SCAN_NONE,
	DDI_SCAN_RUNNING,
	/* Stopped by "scan stop"; "scan" goes on. */
	DDI_SCAN_PAUSED,
	DDI_SCAN_DONE,
	/* Stopped by a read error or a range past the table; "scan" goes on. */
	DDI_SCAN_FAILED,
};

/* Blocks a scan reads at once: 1 MiB. */
#define DDI_SCAN_CHUNK_BLOCKS 256
/* Past this a block's first sector would not fit in 64 bits. */
#define DDI_SCAN_MAX_BLOCKS BIT_ULL(52)

/*
 * A scan of blocks first..end-1: the blocks below done are posted
 * (posted), or were skipped as written while the scan read them
 * (written); duplicates is how many posts were answered with another
 * block. error: why a failed scan stopped.
 */
struct ddi_scan_progress {
	enum ddi_scan_phase phase;
	u64 first;
	u64 end;
	u64 done;
	u64 posted;
	u64 duplicates;
	u64 written;
	int error;
};

/* The scan of a shared index: kept in its saves, handed over on reload. */
struct ddi_scan_state {
	/* Guards progress and busy; taken with interrupts off. */
	spinlock_t lock;
	struct ddi_scan_progress progress;
	/* Claimed by a table that runs its thread or is changing it. */
	bool busy;
};

/*
 * The blocks of a chunk the scan has in hand, and which of them writes
 * mapped since it opened have touched. count 0: closed.
 */
struct ddi_scan_window {
	u64 first;
	u32 count;
	DECLARE_BITMAP(written, DDI_SCAN_CHUNK_BLOCKS);
};

struct ddi_scanner;

/* One of the target's verify workers (target-io.c). */
struct ddi_verify_worker {
	struct work_struct work;
	struct ddi_target *target;
};

/*
 * Writes of more whole blocks than DDI_HASH_INLINE_BLOCKS are hashed on
 * the hash workqueue while the device writes them (target-io.c), in up to
 * DDI_HASH_PIECES pieces of DDI_HASH_PIECE_BLOCKS or more. 8 blocks take
 * about 4 us to hash on one core (performance.rst), what a wakeup of a
 * worker costs; a 1 MiB write is hashed by up to 4 CPUs at once.
 */
#define DDI_HASH_INLINE_BLOCKS 8
#define DDI_HASH_PIECE_BLOCKS 64
#define DDI_HASH_PIECES 4

/*
 * Verify reads runs of up to DDI_VERIFY_RUN_BLOCKS adjacent advised
 * blocks at once, in at most DDI_VERIFY_ACTIVE work items at a time: at
 * most 1024 pages per target (4 MiB with 4 KiB pages; a page per block
 * whatever the page size), besides the posts they check. See
 * ddi_target_io_verify_memory_bytes().
 */
#define DDI_VERIFY_RUN_BLOCKS 64
#define DDI_VERIFY_ACTIVE 16

/* Where a 4 KiB block split across a bio's segments is gathered to be hashed. */
struct ddi_block_buffer {
	u8 bytes[DDI_BLOCK_SIZE];
};

struct ddi_target {
	struct dm_dev *data;
	struct dm_dev *index_dev;
	struct ddi_target_config config;
	struct ddi_shared_index *shared;
	struct ddi_index *index;
	/*
	 * A copy of the index device the index moves onto when this table is
	 * resumed; NULL once moved, or if the index already uses index_dev.
	 */
	struct ddi_index_storage *storage;
	struct ddi_target_stats stats;
	/* Reads the advised blocks when verify is on. */
	struct workqueue_struct *verify_wq;
	/* Hashes large writes while the device writes them; unbound. */
	struct workqueue_struct *hash_wq;
	/*
	 * Writes whose advice is to be checked, under verify_lock (taken
	 * with interrupts off), and the workers on verify_wq that check
	 * them, queued in turn after verify_next.
	 */
	spinlock_t verify_lock;
	struct list_head verify_list;
	struct ddi_verify_worker verify_workers[DDI_VERIFY_ACTIVE];
	atomic_t verify_next;
	wait_queue_head_t posts_wait;
	/* Which of posts_in_flight new posts count in; 0 or 1. */
	unsigned int posts_epoch;
	/* Serialises the waits for posts, which flip posts_epoch. */
	struct mutex posts_wait_mutex;
	/*
	 * Bytes allocated for the posts of writes not yet fully answered,
	 * and the most there may be (post_memory_kib); a write that would
	 * go past it is not posted.
	 */
	atomic_long_t posts_bytes;
	unsigned long posts_limit;
	/* One per CPU, used with preemption off while a block is gathered. */
	struct ddi_block_buffer __percpu *gather;

	/* The scan (target-scan.c): the shared index's state of it. */
	struct ddi_scan_state *scan_state;
	/* Whole blocks the table maps: how far a scan may go. */
	u64 blocks;
	/* Serialises starting and stopping the scan thread. */
	struct mutex scan_mutex;
	/*
	 * Under scan_mutex: the thread, its buffers, whether not resumed.
	 * The buffers are the thread's once it runs: it frees them, and
	 * clears scanner, as soon as it reads no more (target-scan.c).
	 */
	struct task_struct *scan_task;
	struct ddi_scanner *scanner;
	bool suspended;
	/* What the scanner took from the allocators; 0 while there is none. */
	atomic_long_t scan_bytes;
	/*
	 * Bios changing data that are mapped and not done, by the epoch they
	 * were mapped in; the scan flips write_epoch and waits for the old
	 * count to drain, and is woken on scan_wait.
	 */
	atomic_t writes_in_flight[2];
	unsigned int write_epoch;
	wait_queue_head_t scan_wait;
	/* When a bio was last mapped, in jiffies: the scan yields to I/O. */
	unsigned long last_io;
	/* The windows of the scan's two chunks, under window_lock. */
	spinlock_t window_lock;
	struct ddi_scan_window windows[2];
	/* Whether a window is open: map's look without the lock. */
	bool windows_open;
};

/* The blocks posts first..first+count-1 of a write, hashed by one work item. */
struct ddi_hash_piece {
	struct work_struct work;
	struct ddi_write_hashing *hashing;
	u32 first;
	u32 count;
};

/*
 * A write being hashed on the workqueue (target-io.c): its posts, the
 * bio, where its first whole block starts, and the parts still to end,
 * one for the write and one per piece. The last part posts; if that is a
 * piece, it ends the bio too. status: the write's, set before the write's
 * part is dropped. Per-bio data, so that map() allocates none of it.
 */
struct ddi_write_hashing {
	struct ddi_write_posts *posts;
	struct bio *bio;
	struct bvec_iter iter;
	atomic_t parts;
	blk_status_t status;
	struct ddi_hash_piece piece[DDI_HASH_PIECES];
};

/* Per-bio state of a write whose blocks will be posted once it succeeds. */
struct ddi_bio_context {
	struct ddi_write_posts *posts;
	struct ddi_write_hashing hashing;
	/* The write epoch it counts in (ddi_target_scan_map()), or -1. */
	int write_epoch;
};

/* A block's address, as the data the index keeps for its name. */
static inline void ddi_target_block_to_data(struct ddi_data *data, u64 block)
{
	memset(data, 0, sizeof(*data));
	put_unaligned_le64(block, data->bytes);
}

static inline u64 ddi_target_data_block(const struct ddi_data *data)
{
	return get_unaligned_le64(data->bytes);
}

/* target-registry.c */
int ddi_target_registry_get(struct block_device *index_bdev, struct block_device *data_bdev,
			    const struct ddi_index_config *config,
			    struct ddi_shared_index **shared_ptr,
			    struct ddi_index_storage **storage_ptr, char **error);
void ddi_target_registry_move(struct ddi_shared_index *shared, struct block_device *index_bdev,
			      struct ddi_index_storage *storage);
struct ddi_index *ddi_target_registry_index(struct ddi_shared_index *shared);
struct ddi_scan_state *ddi_target_registry_scan(struct ddi_shared_index *shared);
void ddi_target_registry_put(struct ddi_shared_index *shared);

/* target-io.c */
struct ddi_write_posts *ddi_target_io_map_write(struct ddi_target *target, struct dm_target *ti,
						struct bio *bio, struct ddi_write_hashing *hashing);
bool ddi_target_io_end_write(struct ddi_write_posts *posts, blk_status_t status);
void ddi_target_io_init(struct ddi_target *target);
void ddi_target_io_wait_for_posts(struct ddi_target *target);
int ddi_target_io_query_name(struct ddi_target *target, const struct ddi_name *name, bool *found,
			     u64 *block);
size_t ddi_target_io_posts_bytes(u32 blocks);
bool ddi_target_io_advice_holds(struct ddi_target *target, u64 advised,
				const struct ddi_name *name);
unsigned long ddi_target_io_memory_bytes(const struct ddi_target *target);
unsigned long ddi_target_io_verify_memory_bytes(const struct ddi_target *target);

/* target-scan.c */
void ddi_target_scan_init(struct ddi_target *target, u64 blocks);
void ddi_target_scan_resume(struct ddi_target *target);
void ddi_target_scan_suspend(struct ddi_target *target);
void ddi_target_scan_exit(struct ddi_target *target);
int ddi_target_scan_message(struct ddi_target *target, unsigned int argc, char **argv);
int ddi_target_scan_map(struct ddi_target *target, struct bio *bio);
void ddi_target_scan_end_io(struct ddi_target *target, int epoch);
unsigned long ddi_target_scan_memory_bytes(struct ddi_target *target);

/* target-scan-state.c */
void ddi_scan_state_init(struct ddi_scan_state *scan, struct ddi_index *index);
void ddi_scan_state_get(struct ddi_scan_state *scan, struct ddi_scan_progress *progress);
void ddi_scan_state_set(struct ddi_scan_state *scan, const struct ddi_scan_progress *progress);
void ddi_scan_state_encode(const struct ddi_scan_progress *progress,
			   struct ddi_client_state *state);
int ddi_scan_state_decode(const struct ddi_client_state *state,
			  struct ddi_scan_progress *progress);
const char *ddi_scan_phase_name(enum ddi_scan_phase phase);

/* target-status.c */
void ddi_target_status_emit(struct ddi_target *target, char *result, unsigned int maxlen);
int ddi_target_status_message(struct ddi_target *target, unsigned int argc, char **argv,
			      char *result, unsigned int maxlen);
int ddi_target_status_ratio(u64 written, u64 duplicates, char *buf, size_t size);

#endif /* DDI_TARGET_H */
