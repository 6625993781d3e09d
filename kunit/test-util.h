/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared helpers for the dm-dedup-index KUnit suites: RAM disks to put
 * volumes on, reproducible random records, and chapter writing.
 */
#ifndef DDI_TEST_UTIL_H
#define DDI_TEST_UTIL_H

#include <kunit/test.h>
#include <linux/prandom.h>

#include "volume.h"

struct ddi_test_disk {
	struct file *file;
	struct block_device *bdev;
};

/*
 * Open brd RAM disk @minor (/dev/ramN) and zero its first @bytes. Closed
 * automatically when the test ends.
 */
struct ddi_test_disk *ddi_test_disk_open(struct kunit *test, unsigned int minor, u64 bytes);
void ddi_test_disk_zero(struct ddi_test_disk *disk, u64 offset, u64 bytes);
/* Flip the bits @xor sets in the byte at @offset of @disk. */
void ddi_test_disk_poke(struct kunit *test, struct ddi_test_disk *disk, u64 offset, u8 xor);
void ddi_test_disk_copy(struct ddi_test_disk *to, struct ddi_test_disk *from, u64 bytes);
/*
 * Rewrite @width (1, 4 or 8) bytes at @offset of @disk's superblock to
 * @value and stamp a valid checksum: a crafted superblock, not a damaged one.
 */
void ddi_test_craft_super(struct kunit *test, struct ddi_test_disk *disk, u32 offset,
			  u32 width, u64 value);

/* The client state of a save made without a save hook. */
extern const struct ddi_client_state ddi_test_no_client;
/* A small index for the target's suites: 16 chapters of 4 record pages, 2 zones. */
extern const struct ddi_index_config ddi_test_target_config;

u64 ddi_test_base_seed(void);
void ddi_test_seed(struct kunit *test, struct rnd_state *rnd);
void ddi_test_random_records(struct rnd_state *rnd, struct ddi_record *records, u32 count);

/*
 * A stand-in for an index zone: requests its volume requeues land on its
 * list, and its thread is woken.
 */
struct ddi_test_zone {
	spinlock_t lock;	/* guards the zone's request list */
	struct list_head requeued;
	wait_queue_head_t wait;
	atomic_t requeue_count;
};

struct ddi_test_request {
	struct ddi_request request;
	struct list_head link;
	/* Which test record the request looks for. */
	u32 record;
};

void ddi_test_zones_init(struct ddi_test_zone *zones, unsigned int count);
/* The volume requeue hook; its context is the array of test zones. */
void ddi_test_requeue(struct ddi_request *request, void *context);
struct ddi_test_request *ddi_test_zone_pop(struct ddi_test_zone *zone);
void ddi_test_request_init(struct ddi_test_request *tr, const struct ddi_record *record,
			   u32 index, u64 vcn, unsigned int zone);

/* Create a volume on @disk that is freed when the test ends. */
struct ddi_volume *ddi_test_volume_create(struct kunit *test, const struct ddi_geometry *geo,
					  struct ddi_test_disk *disk,
					  struct ddi_volume_config *config);
/*
 * Write @records as virtual chapter @vcn, record i going to record page
 * i / records_per_page, and check the write succeeded.
 */
void ddi_test_write_chapter(struct kunit *test, struct ddi_volume *volume, u64 vcn,
			    const struct ddi_record *records, u32 count);

/* Modify one byte of a volume page through the volume's own bufio client. */
void ddi_test_poke_page(struct kunit *test, struct ddi_volume *volume, u32 physical_page,
			u32 offset, u8 xor);
/*
 * How many of @volume's pages dm-bufio has cached that its page cache does
 * not hold: pages read or written and not given back (see bufio.h).
 */
u32 ddi_test_bufio_strays(struct ddi_volume *volume);
/*
 * Memory a save or load takes: ddi_test_stream_sample_start() drains the
 * per-CPU page lists and returns the free page count; until
 * ddi_test_stream_sample_stop(), each block the save stream passes samples
 * it, and stop returns the bytes by which the lowest sample fell below the
 * start. A test that samples ends with ddi_test_stream_sample_end() as a
 * KUnit action, so a failed assertion cannot leave the hook set.
 */
unsigned long ddi_test_stream_sample_start(void);
u64 ddi_test_stream_sample_stop(unsigned long start);
void ddi_test_stream_sample_end(void *unused);
/* Copy volume page @from over page @to, through the volume's bufio client. */
void ddi_test_copy_page(struct kunit *test, struct ddi_volume *volume, u32 to, u32 from);

#endif /* DDI_TEST_UTIL_H */
