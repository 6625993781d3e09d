// SPDX-License-Identifier: GPL-2.0-only
/*
 * The save stream (see save-stream.h): a bounded window of dm-bufio
 * blocks, or a plain buffer, behind one read and one write call.
 */

#include <linux/crc32.h>
#include <linux/dm-bufio.h>
#include <linux/err.h>
#include <linux/minmax.h>
#include <linux/string.h>

#include "save-stream.h"

#if IS_ENABLED(CONFIG_DM_DEDUP_INDEX_KUNIT_TEST)
ddi_stream_hook_t ddi_save_stream_test_hook;

static void block_passed(void)
{
	ddi_stream_hook_t hook = READ_ONCE(ddi_save_stream_test_hook);

	if (hook)
		hook();
}
#else
static void block_passed(void)
{
}
#endif

/**
 * ddi_save_stream_init_memory() - A stream over a buffer.
 * @s: the stream.
 * @buf: the buffer.
 * @len: its length: the most bytes the stream passes.
 * @writing: whether the stream is written or read.
 */
void ddi_save_stream_init_memory(struct ddi_save_stream *s, void *buf, size_t len, bool writing)
{
	*s = (struct ddi_save_stream) {
		.writing = writing,
		.mem = buf,
		.limit = len,
		.crc = ~0U,
	};
}

static u64 stream_blocks(const struct ddi_save_stream *s)
{
	return DIV_ROUND_UP_ULL(s->limit, DDI_BLOCK_BYTES);
}

/**
 * ddi_save_stream_init_device() - A stream over blocks of a device.
 * @s: the stream; ddi_save_stream_finish() it whatever this returns.
 * @bdev: the device.
 * @first_block: its first 4 KiB block.
 * @bytes: the most bytes the stream passes; the caller has checked that
 *	the blocks they take are on the device and its to use.
 * @writing: whether the blocks are written or read.
 *
 * A reader starts reading ahead at once.
 *
 * Return: 0, or an error from making the dm-bufio client.
 */
int ddi_save_stream_init_device(struct ddi_save_stream *s, struct block_device *bdev,
				sector_t first_block, u64 bytes, bool writing)
{
	struct dm_bufio_client *client;

	*s = (struct ddi_save_stream) {
		.writing = writing,
		.first_block = first_block,
		.limit = bytes,
		.crc = ~0U,
	};
	client = dm_bufio_client_create(bdev, DDI_BLOCK_BYTES, 1, 0, NULL, NULL, 0);
	if (IS_ERR(client))
		return ddi_stream_fail(s, PTR_ERR(client));
	s->client = client;
	if (!writing) {
		s->window = min_t(u64, stream_blocks(s), DDI_STREAM_WINDOW_BLOCKS);
		dm_bufio_prefetch(client, first_block, s->window);
	}
	return 0;
}

/* Write back the blocks filled since the last time, and let bufio drop them. */
static void write_back(struct ddi_save_stream *s, u64 end)
{
	int ret;

	if (end == s->window)
		return;
	ret = dm_bufio_write_dirty_buffers(s->client);
	if (ret)
		ddi_stream_fail(s, ret);
	dm_bufio_forget_buffers(s->client, s->first_block + s->window, end - s->window);
	s->window = end;
}

static void put_block(struct ddi_save_stream *s)
{
	if (s->writing)
		dm_bufio_mark_buffer_dirty(s->buffer);
	dm_bufio_release(s->buffer);
	s->block = NULL;
	s->buffer = NULL;
	if (s->writing) {
		if (s->block_index + 1 - s->window >= DDI_STREAM_WINDOW_BLOCKS)
			write_back(s, s->block_index + 1);
	} else {
		dm_bufio_forget(s->client, s->first_block + s->block_index);
	}
	block_passed();
}

static int get_block(struct ddi_save_stream *s)
{
	u64 index = s->pos / DDI_BLOCK_BYTES;
	sector_t block = s->first_block + index;
	u8 *data;

	if (s->writing) {
		data = dm_bufio_new(s->client, block, &s->buffer);
		if (!IS_ERR(data))
			memset(data, 0, DDI_BLOCK_BYTES);
	} else {
		/* Keep a window's worth read ahead, half of it at a time. */
		if (index + DDI_STREAM_WINDOW_BLOCKS / 2 >= s->window &&
		    s->window < stream_blocks(s)) {
			u64 more = min_t(u64, DDI_STREAM_WINDOW_BLOCKS / 2,
					 stream_blocks(s) - s->window);

			dm_bufio_prefetch(s->client, s->first_block + s->window, more);
			s->window += more;
		}
		data = dm_bufio_read(s->client, block, &s->buffer);
	}
	if (IS_ERR(data))
		return ddi_stream_fail(s, PTR_ERR(data));
	s->block = data;
	s->block_index = index;
	return 0;
}

/*
 * Pass @len bytes: copy them between @data and the stream, or, with @data
 * NULL, write zeros or skip.
 */
static int pass(struct ddi_save_stream *s, void *data, u64 len)
{
	u8 *at = data;

	if (s->error)
		return s->error;
	if (len > s->limit - s->pos)
		return ddi_stream_fail(s, s->writing ? -ENOSPC : -EBADMSG);
	if (s->mem) {
		u8 *mem = s->mem + s->pos;

		if (s->writing && at)
			memcpy(mem, at, len);
		else if (s->writing)
			memset(mem, 0, len);
		else if (at)
			memcpy(at, mem, len);
		s->crc = crc32_le(s->crc, mem, len);
		s->pos += len;
		return 0;
	}
	while (len) {
		u32 offset = s->pos % DDI_BLOCK_BYTES;
		u32 n = min_t(u64, len, DDI_BLOCK_BYTES - offset);
		u8 *mem;

		if (!s->block && get_block(s))
			return s->error;
		mem = s->block + offset;
		/* A new block is zeroed: writing zeros needs no copy. */
		if (at) {
			if (s->writing)
				memcpy(mem, at, n);
			else
				memcpy(at, mem, n);
			at += n;
		}
		s->crc = crc32_le(s->crc, mem, n);
		s->pos += n;
		len -= n;
		if (s->pos % DDI_BLOCK_BYTES == 0 || s->pos == s->limit)
			put_block(s);
	}
	return s->error;
}

/**
 * ddi_save_stream_write() - Append bytes to a stream being written.
 * @s: the stream.
 * @data: the bytes.
 * @len: how many.
 *
 * Return: 0, -ENOSPC past the stream's end, or the stream's first error.
 */
int ddi_save_stream_write(struct ddi_save_stream *s, const void *data, size_t len)
{
	return pass(s, (void *)data, len);
}

/**
 * ddi_save_stream_write_zeros() - Append zero bytes to a stream being written.
 * @s: the stream.
 * @len: how many.
 *
 * Return: as ddi_save_stream_write().
 */
int ddi_save_stream_write_zeros(struct ddi_save_stream *s, u64 len)
{
	return pass(s, NULL, len);
}

/**
 * ddi_save_stream_read() - Take the next bytes of a stream being read.
 * @s: the stream.
 * @data: where to put them.
 * @len: how many.
 *
 * Return: 0, -EBADMSG past the stream's end, an I/O error, or the
 * stream's first error.
 */
int ddi_save_stream_read(struct ddi_save_stream *s, void *data, size_t len)
{
	return pass(s, data, len);
}

/**
 * ddi_save_stream_skip() - Pass over bytes of a stream being read.
 * @s: the stream.
 * @len: how many; they still count in the stream's crc.
 *
 * Return: as ddi_save_stream_read().
 */
int ddi_save_stream_skip(struct ddi_save_stream *s, u64 len)
{
	return pass(s, NULL, len);
}

/**
 * ddi_save_stream_finish() - End a stream.
 * @s: the stream.
 *
 * A device stream being written has all it holds written back and the
 * device's cache flushed; its dm-bufio client goes either way.
 *
 * Return: 0 or the stream's first error.
 */
int ddi_save_stream_finish(struct ddi_save_stream *s)
{
	int ret;

	if (!s->client)
		return s->error;
	if (s->block) {
		/* Only after an error: a last partial block is put as it fills. */
		dm_bufio_release(s->buffer);
		s->block = NULL;
	}
	if (s->writing && !s->error) {
		/* Waits for the writes, then flushes the device's cache. */
		ret = dm_bufio_write_dirty_buffers(s->client);
		if (ret)
			ddi_stream_fail(s, ret);
	}
	dm_bufio_client_destroy(s->client);
	s->client = NULL;
	return s->error;
}
