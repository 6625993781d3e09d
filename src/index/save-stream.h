/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A byte stream that saved state is encoded into and decoded from, piece
 * by piece, so that saving an index never needs a copy of it in memory.
 *
 * The stream runs over either a caller's buffer (memory mode, for the
 * per-section save and load functions and their tests) or a run of 4 KiB
 * blocks of a device (device mode, for the save slots), reached through a
 * short-lived dm-bufio client. In device mode the stream holds at most
 * DDI_STREAM_WINDOW_BLOCKS blocks at a time: the writer writes back and
 * forgets each batch of that many blocks once filled, and the reader reads
 * at most that far ahead and forgets each block once it is consumed. That
 * window is the only memory a save or load needs beyond the index itself.
 *
 * Errors are sticky: after the first one every call does nothing and
 * returns it, so an encoder may check only at the end.
 */
#ifndef DDI_SAVE_STREAM_H
#define DDI_SAVE_STREAM_H

#include <linux/blkdev.h>
#include <linux/types.h>

#include "geometry.h"

enum {
	/* 512 KiB: blocks a device stream holds at once, at most. */
	DDI_STREAM_WINDOW_BLOCKS = 128,
	/* Bytes encoders and decoders stage on their stack per step. */
	DDI_STREAM_CHUNK_BYTES = 256,
};

struct dm_bufio_client;
struct dm_buffer;

struct ddi_save_stream {
	bool writing;
	/* Memory mode: the buffer. */
	u8 *mem;
	/* Device mode: blocks first_block.. of the client's device. */
	struct dm_bufio_client *client;
	sector_t first_block;
	/* The block being filled or consumed, and its index in the stream. */
	struct dm_buffer *buffer;
	u8 *block;
	u64 block_index;
	/* Reader: blocks prefetched so far; writer: first block not written back. */
	u64 window;
	/* Bytes passed so far, and the most the stream holds. */
	u64 pos;
	u64 limit;
	/* crc32_le (seed ~0) of every byte passed. */
	u32 crc;
	int error;
};

void ddi_save_stream_init_memory(struct ddi_save_stream *s, void *buf, size_t len, bool writing);
int ddi_save_stream_init_device(struct ddi_save_stream *s, struct block_device *bdev,
				sector_t first_block, u64 bytes, bool writing);
int ddi_save_stream_finish(struct ddi_save_stream *s);

int ddi_save_stream_write(struct ddi_save_stream *s, const void *data, size_t len);
int ddi_save_stream_write_zeros(struct ddi_save_stream *s, u64 len);
int ddi_save_stream_read(struct ddi_save_stream *s, void *data, size_t len);
int ddi_save_stream_skip(struct ddi_save_stream *s, u64 len);

/* Fail the stream with @error (if it has not failed yet); returns the error. */
static inline int ddi_stream_fail(struct ddi_save_stream *s, int error)
{
	if (!s->error)
		s->error = error;
	return s->error;
}

#if IS_ENABLED(CONFIG_DM_DEDUP_INDEX_KUNIT_TEST)
typedef void (*ddi_stream_hook_t)(void);
/* KUnit only: called once for every device block a stream passes. */
extern ddi_stream_hook_t ddi_save_stream_test_hook;
#endif

#endif /* DDI_SAVE_STREAM_H */
