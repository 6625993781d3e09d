// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reading and writing the index's superblock and save slots. Everything
 * here goes through a short-lived dm-bufio client on the index device:
 * these blocks are touched only at open, save and close.
 */

#include <kunit/static_stub.h>
#include <linux/crc32.h>
#include <linux/dm-bufio.h>
#include <linux/overflow.h>
#include <linux/unaligned.h>

#include "layout.h"

#define SUPER_MAGIC "DDISUPER"
#define SAVE_MAGIC "DDISAVE1"
#define MAGIC_BYTES 8

enum {
	CRC_AT = DDI_BLOCK_BYTES - sizeof(u32),
	/*
	 * A save header's client bytes, after its own fields. Saves made
	 * before there were any have zeros here, which is no client state.
	 */
	SAVE_CLIENT = 64,
};

static_assert(32 + 8 * DDI_SAVE_SECTIONS + sizeof(u32) <= SAVE_CLIENT);

static struct dm_bufio_client *open_client(struct block_device *bdev)
{
	return dm_bufio_client_create(bdev, DDI_BLOCK_BYTES, 1, 0, NULL, NULL, 0);
}

static u32 block_crc(const u8 *block)
{
	return crc32_le(~0, block, CRC_AT);
}

/**
 * ddi_layout_init() - Lay an index out on a device.
 * @layout: filled in.
 * @geo: the volume geometry.
 * @zone_count: the zone count the saved state is made for.
 * @save_bytes: the most bytes a saved state takes.
 * @nonce: the new index's nonce.
 *
 * Return: 0, or -EOVERFLOW if the layout's blocks or bytes do not fit 64 bits.
 */
int ddi_layout_init(struct ddi_index_layout *layout, const struct ddi_geometry *geo,
		    u32 zone_count, u64 save_bytes, u64 nonce)
{
	u64 slot_blocks, slots_blocks, volume_start, total, bytes;

	memset(layout, 0, sizeof(*layout));
	slot_blocks = 1 + DIV_ROUND_UP_ULL(save_bytes, DDI_BLOCK_BYTES);
	if (check_mul_overflow(slot_blocks, (u64)DDI_SAVE_SLOTS, &slots_blocks) ||
	    check_add_overflow(slots_blocks, 1ULL, &volume_start) ||
	    check_add_overflow(volume_start, geo->bytes_per_volume / DDI_BLOCK_BYTES,
			       &total) ||
	    check_mul_overflow(total, (u64)DDI_BLOCK_BYTES, &bytes))
		return -EOVERFLOW;
	layout->record_pages_per_chapter = geo->record_pages_per_chapter;
	layout->chapters_per_volume = geo->chapters_per_volume;
	layout->sparse_chapters_per_volume = geo->sparse_chapters_per_volume;
	layout->sparse_sample_rate = geo->sparse_sample_rate;
	layout->zone_count = zone_count;
	layout->nonce = nonce;
	layout->save_slot_blocks = slot_blocks;
	layout->volume_start_block = volume_start;
	layout->total_blocks = total;
	return 0;
}

/**
 * ddi_layout_bytes() - The bytes of device a layout covers.
 * @layout: the layout, possibly as read from a hostile device.
 * @bytes: set to total_blocks blocks in bytes.
 *
 * Return: 0, or -EOVERFLOW if that does not fit 64 bits.
 */
int ddi_layout_bytes(const struct ddi_index_layout *layout, u64 *bytes)
{
	return check_mul_overflow(layout->total_blocks, (u64)DDI_BLOCK_BYTES, bytes) ?
	       -EOVERFLOW : 0;
}

/**
 * ddi_layout_check() - Compare a superblock with what this code lays out.
 * @found: the layout read from the device.
 * @geo: the volume geometry the index is opened with.
 * @save_bytes: the most bytes a saved state takes, as at format time.
 * @max_save_bytes: the largest save slots to accept, @save_bytes or more.
 * @field: set to the name of the first field that differs, for the log.
 *
 * Every other size on the device is computed from the superblock, so no
 * field of it is taken on trust: it must be exactly what ddi_layout_init()
 * gives for the geometry, the same save size and the superblock's own
 * nonce and zone count (the zone count the index was formatted with; the
 * save slots are sized for any). Slots sized for more, up to
 * @max_save_bytes, are allowed too: an index formatted when the volume
 * index took more room (before its entries were packed) has them, and a
 * slot larger than a save needs does no harm.
 *
 * Return: 0; -EINVAL for an index of another shape; -EBADMSG for a
 * superblock of this shape whose other fields are not what its shape
 * lays out (a crafted or damaged superblock with a valid checksum).
 */
int ddi_layout_check(const struct ddi_index_layout *found, const struct ddi_geometry *geo,
		     u64 save_bytes, u64 max_save_bytes, const char **field)
{
	struct ddi_index_layout expected;

	*field = "record_pages_per_chapter";
	if (found->record_pages_per_chapter != geo->record_pages_per_chapter)
		return -EINVAL;
	*field = "chapters_per_volume";
	if (found->chapters_per_volume != geo->chapters_per_volume)
		return -EINVAL;
	*field = "sparse";
	if (found->sparse_chapters_per_volume != geo->sparse_chapters_per_volume ||
	    found->sparse_sample_rate != geo->sparse_sample_rate)
		return -EINVAL;
	*field = "layout";
	if (ddi_layout_init(&expected, geo, found->zone_count, save_bytes, found->nonce))
		return -EBADMSG;
	*field = "zone_count";
	if (found->zone_count == 0 || found->zone_count > DDI_MAX_ZONES)
		return -EBADMSG;
	*field = "save_slot_blocks";
	if (found->save_slot_blocks > expected.save_slot_blocks &&
	    found->save_slot_blocks <= 1 + DIV_ROUND_UP_ULL(max_save_bytes, DDI_BLOCK_BYTES) &&
	    ddi_layout_init(&expected, geo, found->zone_count,
			    (found->save_slot_blocks - 1) * DDI_BLOCK_BYTES, found->nonce))
		return -EBADMSG;
	if (found->save_slot_blocks != expected.save_slot_blocks)
		return -EBADMSG;
	*field = "volume_start_block";
	if (found->volume_start_block != expected.volume_start_block)
		return -EBADMSG;
	*field = "total_blocks";
	if (found->total_blocks != expected.total_blocks)
		return -EBADMSG;
	*field = NULL;
	return 0;
}

static bool all_zero(const u8 *block)
{
	return !memchr_inv(block, 0, DDI_BLOCK_BYTES);
}

/*
 * The superblock's fields; the bytes from SUPER_END to the checksum are
 * written as zeroes and must read as zeroes.
 */
enum {
	SUPER_VERSION = 8,
	SUPER_RECORD_PAGES = 12,
	SUPER_CHAPTERS = 16,
	SUPER_ZONES = 20,
	SUPER_NONCE = 24,
	SUPER_SLOT_BLOCKS = 32,
	SUPER_VOLUME_START = 40,
	SUPER_TOTAL_BLOCKS = 48,
	/* Version 2 only; zero in version 1. */
	SUPER_SPARSE_CHAPTERS = 56,
	SUPER_SAMPLE_RATE = 60,
	/* Zero before it was kept: older versions refuse a superblock with it. */
	SUPER_MEMORY_MB = 64,
	SUPER_END = 68,
};

static u32 super_version(const struct ddi_index_layout *layout)
{
	return layout->sparse_chapters_per_volume ? DDI_LAYOUT_VERSION_SPARSE :
	       DDI_LAYOUT_VERSION;
}

static void decode_super(const u8 *block, struct ddi_index_layout *layout)
{
	layout->record_pages_per_chapter = get_unaligned_le32(block + SUPER_RECORD_PAGES);
	layout->chapters_per_volume = get_unaligned_le32(block + SUPER_CHAPTERS);
	layout->zone_count = get_unaligned_le32(block + SUPER_ZONES);
	layout->nonce = get_unaligned_le64(block + SUPER_NONCE);
	layout->save_slot_blocks = get_unaligned_le64(block + SUPER_SLOT_BLOCKS);
	layout->volume_start_block = get_unaligned_le64(block + SUPER_VOLUME_START);
	layout->total_blocks = get_unaligned_le64(block + SUPER_TOTAL_BLOCKS);
	layout->sparse_chapters_per_volume = get_unaligned_le32(block + SUPER_SPARSE_CHAPTERS);
	layout->sparse_sample_rate = get_unaligned_le32(block + SUPER_SAMPLE_RATE);
	layout->memory_mb = get_unaligned_le32(block + SUPER_MEMORY_MB);
}

/*
 * What can be checked without knowing the shape: the slots and the volume
 * follow each other without overflow, and the unused bytes are zero.
 * ddi_layout_check() then compares every field with the shape's layout.
 */
static int check_super(const u8 *block, const struct ddi_index_layout *layout)
{
	u64 slots, volume_start, bytes;

	if (memchr_inv(block + SUPER_END, 0, CRC_AT - SUPER_END))
		return -EBADMSG;
	/* A sparse shape only in a sparse superblock, and always there. */
	if (get_unaligned_le32(block + SUPER_VERSION) != super_version(layout) ||
	    !layout->sparse_sample_rate != !layout->sparse_chapters_per_volume)
		return -EBADMSG;
	if (layout->save_slot_blocks < 2 ||
	    check_mul_overflow(layout->save_slot_blocks, (u64)DDI_SAVE_SLOTS, &slots) ||
	    check_add_overflow(slots, 1ULL, &volume_start) ||
	    layout->volume_start_block != volume_start ||
	    layout->total_blocks <= layout->volume_start_block ||
	    ddi_layout_bytes(layout, &bytes))
		return -EBADMSG;
	return 0;
}

/**
 * ddi_layout_read_super() - Read the superblock of an index device.
 * @bdev: the device.
 * @layout: filled in from the superblock.
 *
 * Only a superblock that was read can be judged: a read that fails says
 * nothing about what the device holds, and its error is returned as it is
 * (so that nothing formats over an index after a transient error).
 *
 * Return: 0; -ENODATA for a blank device; -EMEDIUMTYPE for a device that
 * holds something other than an index; -EBADMSG for a damaged superblock,
 * one of an unknown version or one whose sizes do not add up; or the
 * error of the read (-EIO, -ENOMEM, ...).
 */
int ddi_layout_read_super(struct block_device *bdev, struct ddi_index_layout *layout)
{
	struct dm_bufio_client *client;
	struct dm_buffer *buffer;
	const u8 *block;
	int ret = 0;

	KUNIT_STATIC_STUB_REDIRECT(ddi_layout_read_super, bdev, layout);
	client = open_client(bdev);
	if (IS_ERR(client))
		return PTR_ERR(client);
	block = dm_bufio_read(client, 0, &buffer);
	if (IS_ERR(block)) {
		ret = PTR_ERR(block);
		goto out;
	}

	if (all_zero(block)) {
		ret = -ENODATA;
	} else if (memcmp(block, SUPER_MAGIC, MAGIC_BYTES) != 0) {
		ret = -EMEDIUMTYPE;
	} else if (get_unaligned_le32(block + CRC_AT) != block_crc(block) ||
		   (get_unaligned_le32(block + SUPER_VERSION) != DDI_LAYOUT_VERSION &&
		    get_unaligned_le32(block + SUPER_VERSION) != DDI_LAYOUT_VERSION_SPARSE)) {
		ret = -EBADMSG;
	} else {
		decode_super(block, layout);
		ret = check_super(block, layout);
	}
	dm_bufio_release(buffer);
out:
	dm_bufio_client_destroy(client);
	return ret;
}

/*
 * A zeroed buffer for block @block, to be filled in place and handed back
 * with finish_block(): no staging copy of what is written.
 */
static u8 *new_block(struct dm_bufio_client *client, sector_t block, struct dm_buffer **buffer)
{
	u8 *data = dm_bufio_new(client, block, buffer);

	if (!IS_ERR(data))
		memset(data, 0, DDI_BLOCK_BYTES);
	return data;
}

static void finish_block(struct dm_buffer *buffer)
{
	dm_bufio_mark_buffer_dirty(buffer);
	dm_bufio_release(buffer);
}

/*
 * dm_bufio_write_dirty_buffers() waits for the writes and then flushes the
 * device's cache itself, so a second flush after it would cost a real disk
 * milliseconds for nothing (70-power-loss counts back-to-back flushes).
 */
static int write_and_flush(struct dm_bufio_client *client)
{
	return dm_bufio_write_dirty_buffers(client);
}

/**
 * ddi_layout_write_super() - Write the superblock.
 * @bdev: the device.
 * @layout: what to write.
 *
 * Return: 0 or an I/O error; the superblock is on stable storage at 0.
 */
int ddi_layout_write_super(struct block_device *bdev, const struct ddi_index_layout *layout)
{
	struct dm_bufio_client *client = open_client(bdev);
	struct dm_buffer *buffer;
	u8 *block;
	int ret;

	if (IS_ERR(client))
		return PTR_ERR(client);
	block = new_block(client, 0, &buffer);
	if (IS_ERR(block)) {
		ret = PTR_ERR(block);
		goto out;
	}
	memcpy(block, SUPER_MAGIC, MAGIC_BYTES);
	put_unaligned_le32(super_version(layout), block + SUPER_VERSION);
	put_unaligned_le32(layout->record_pages_per_chapter, block + SUPER_RECORD_PAGES);
	put_unaligned_le32(layout->chapters_per_volume, block + SUPER_CHAPTERS);
	put_unaligned_le32(layout->zone_count, block + SUPER_ZONES);
	put_unaligned_le64(layout->nonce, block + SUPER_NONCE);
	put_unaligned_le64(layout->save_slot_blocks, block + SUPER_SLOT_BLOCKS);
	put_unaligned_le64(layout->volume_start_block, block + SUPER_VOLUME_START);
	put_unaligned_le64(layout->total_blocks, block + SUPER_TOTAL_BLOCKS);
	put_unaligned_le32(layout->sparse_chapters_per_volume, block + SUPER_SPARSE_CHAPTERS);
	put_unaligned_le32(layout->sparse_sample_rate, block + SUPER_SAMPLE_RATE);
	put_unaligned_le32(layout->memory_mb, block + SUPER_MEMORY_MB);
	put_unaligned_le32(block_crc(block), block + CRC_AT);
	finish_block(buffer);
	ret = write_and_flush(client);
out:
	dm_bufio_client_destroy(client);
	return ret;
}

static sector_t slot_start(const struct ddi_index_layout *layout, unsigned int slot)
{
	return 1 + slot * layout->save_slot_blocks;
}

static void encode_save_header(u8 *block, const struct ddi_index_layout *layout,
			       const struct ddi_save_header *header)
{
	int i;

	memcpy(block, SAVE_MAGIC, MAGIC_BYTES);
	put_unaligned_le64(layout->nonce, block + 8);
	put_unaligned_le64(header->sequence, block + 16);
	put_unaligned_le64(header->open_vcn, block + 24);
	for (i = 0; i < DDI_SAVE_SECTIONS; i++)
		put_unaligned_le64(header->section_bytes[i], block + 32 + 8 * i);
	put_unaligned_le32(header->payload_crc, block + 32 + 8 * DDI_SAVE_SECTIONS);
	memcpy(block + SAVE_CLIENT, header->client.bytes, DDI_CLIENT_STATE_BYTES);
	put_unaligned_le32(block_crc(block), block + CRC_AT);
}

/**
 * ddi_layout_save_fits() - Whether a saved state fits a save slot.
 * @layout: the layout.
 * @bytes: the bytes of the state, its sections back to back.
 *
 * Return: true if @bytes and the slot's header block fit in a slot.
 */
bool ddi_layout_save_fits(const struct ddi_index_layout *layout, u64 bytes)
{
	return DIV_ROUND_UP_ULL(bytes, DDI_BLOCK_BYTES) + 1 <= layout->save_slot_blocks;
}

/**
 * ddi_layout_start_save() - Start writing a saved state into a slot.
 * @s: the stream to encode the state into; end it with
 *	ddi_layout_finish_save() whatever this returns.
 * @bdev: the device.
 * @layout: the layout.
 * @slot: 0 or 1.
 * @bytes: the bytes of the state, its sections back to back.
 *
 * Return: 0, -ENOSPC if the state is too big for a slot, or an error.
 */
int ddi_layout_start_save(struct ddi_save_stream *s, struct block_device *bdev,
			  const struct ddi_index_layout *layout, unsigned int slot, u64 bytes)
{
	if (slot >= DDI_SAVE_SLOTS || !ddi_layout_save_fits(layout, bytes)) {
		ddi_save_stream_init_memory(s, NULL, 0, true);
		return ddi_stream_fail(s, -ENOSPC);
	}
	return ddi_save_stream_init_device(s, bdev, slot_start(layout, slot) + 1, bytes, true);
}

/**
 * ddi_layout_finish_save() - Claim the state written into a slot.
 * @s: the stream ddi_layout_start_save() started, every byte written.
 * @bdev: the device.
 * @layout: the layout.
 * @slot: 0 or 1.
 * @header: the header; its payload_crc is the stream's.
 *
 * The state is written and flushed before the header, so the slot only
 * claims a state once all of it is on disk. After an error nothing is
 * claimed.
 *
 * Return: 0, the stream's error, or an I/O error.
 */
int ddi_layout_finish_save(struct ddi_save_stream *s, struct block_device *bdev,
			   const struct ddi_index_layout *layout, unsigned int slot,
			   const struct ddi_save_header *header)
{
	struct ddi_save_header stamped = *header;
	struct dm_bufio_client *client;
	struct dm_buffer *buffer;
	u8 *block;
	int ret;

	if (!s->error && s->pos != s->limit)
		ddi_stream_fail(s, -EINVAL);
	ret = ddi_save_stream_finish(s);
	if (ret)
		return ret;
	client = open_client(bdev);
	if (IS_ERR(client))
		return PTR_ERR(client);
	block = new_block(client, slot_start(layout, slot), &buffer);
	ret = PTR_ERR_OR_ZERO(block);
	if (!ret) {
		stamped.payload_crc = s->crc;
		encode_save_header(block, layout, &stamped);
		finish_block(buffer);
		ret = write_and_flush(client);
	}
	dm_bufio_client_destroy(client);
	return ret;
}

/**
 * ddi_layout_read_save_header() - Read and check a save slot's header.
 * @bdev: the device.
 * @layout: the layout.
 * @slot: 0 or 1.
 * @header: filled in.
 *
 * Return: 0; -ENODATA for an empty slot; -EBADMSG for a damaged or foreign
 * header or sections that do not fit the slot; or an I/O error.
 */
int ddi_layout_read_save_header(struct block_device *bdev,
				const struct ddi_index_layout *layout, unsigned int slot,
				struct ddi_save_header *header)
{
	struct dm_bufio_client *client = open_client(bdev);
	struct dm_buffer *buffer;
	const u8 *block;
	u64 sum;
	int ret = 0;
	int i;

	if (IS_ERR(client))
		return PTR_ERR(client);
	block = dm_bufio_read(client, slot_start(layout, slot), &buffer);
	if (IS_ERR(block)) {
		ret = PTR_ERR(block);
		goto out;
	}
	if (all_zero(block)) {
		ret = -ENODATA;
	} else if (memcmp(block, SAVE_MAGIC, MAGIC_BYTES) != 0 ||
		   get_unaligned_le32(block + CRC_AT) != block_crc(block) ||
		   get_unaligned_le64(block + 8) != layout->nonce) {
		ret = -EBADMSG;
	} else {
		header->sequence = get_unaligned_le64(block + 16);
		header->open_vcn = get_unaligned_le64(block + 24);
		for (i = 0; i < DDI_SAVE_SECTIONS; i++) {
			header->section_bytes[i] = get_unaligned_le64(block + 32 + 8 * i);
			if (header->section_bytes[i] > layout->save_slot_blocks *
						       DDI_BLOCK_BYTES)
				ret = -EBADMSG;
		}
		header->payload_crc = get_unaligned_le32(block + 32 + 8 * DDI_SAVE_SECTIONS);
		memcpy(header->client.bytes, block + SAVE_CLIENT, DDI_CLIENT_STATE_BYTES);
		/* Each section is at most a slot, so the sum cannot wrap; check anyway. */
		if (check_add_overflow(header->section_bytes[0], header->section_bytes[1], &sum) ||
		    check_add_overflow(sum, header->section_bytes[2], &sum) ||
		    DIV_ROUND_UP_ULL(sum, DDI_BLOCK_BYTES) + 1 > layout->save_slot_blocks)
			ret = -EBADMSG;
	}
	dm_bufio_release(buffer);
out:
	dm_bufio_client_destroy(client);
	return ret;
}

/**
 * ddi_layout_start_load() - Start reading a slot's state.
 * @s: the stream to decode the state from; end it with
 *	ddi_layout_finish_load() whatever this returns.
 * @bdev: the device.
 * @layout: the layout.
 * @slot: 0 or 1.
 * @header: the slot's header, as read by ddi_layout_read_save_header(),
 *	which checked that the state fits the slot.
 *
 * Return: 0 or an error.
 */
int ddi_layout_start_load(struct ddi_save_stream *s, struct block_device *bdev,
			  const struct ddi_index_layout *layout, unsigned int slot,
			  const struct ddi_save_header *header)
{
	return ddi_save_stream_init_device(s, bdev, slot_start(layout, slot) + 1,
				      ddi_save_payload_bytes(header), false);
}

/**
 * ddi_layout_finish_load() - End the reading of a slot's state.
 * @s: the stream ddi_layout_start_load() started.
 * @header: the slot's header.
 *
 * The checksum covers the whole state, so it is known only once the last
 * byte is read: until this returns 0, what was decoded is not to be used.
 *
 * Return: 0; -EBADMSG if the state was not read to its end or does not
 * match its checksum; or the stream's error.
 */
int ddi_layout_finish_load(struct ddi_save_stream *s, const struct ddi_save_header *header)
{
	if (!s->error && (s->pos != s->limit || s->crc != header->payload_crc))
		ddi_stream_fail(s, -EBADMSG);
	return ddi_save_stream_finish(s);
}

/**
 * ddi_layout_invalidate_saves() - Empty both save slots.
 * @bdev: the device.
 * @layout: the layout.
 *
 * Used when formatting, so no state of an earlier index on the device is
 * taken for this one's.
 *
 * Return: 0 or an I/O error.
 */
int ddi_layout_invalidate_saves(struct block_device *bdev,
				const struct ddi_index_layout *layout)
{
	struct dm_bufio_client *client = open_client(bdev);
	struct dm_buffer *buffer;
	unsigned int slot;
	int ret = 0;

	if (IS_ERR(client))
		return PTR_ERR(client);
	for (slot = 0; slot < DDI_SAVE_SLOTS && !ret; slot++) {
		u8 *block = new_block(client, slot_start(layout, slot), &buffer);

		ret = PTR_ERR_OR_ZERO(block);
		if (!ret)
			finish_block(buffer);
	}
	if (!ret)
		ret = write_and_flush(client);
	dm_bufio_client_destroy(client);
	return ret;
}
