// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reading and writing the index's superblock and save slots. Everything
 * here goes through a short-lived dm-bufio client on the index device:
 * these blocks are touched only at open, save and close.
 */

#include <linux/crc32.h>
#include <linux/dm-bufio.h>
#include <linux/unaligned.h>

#include "index-layout.h"

#define SUPER_MAGIC "DDISUPER"
#define SAVE_MAGIC "DDISAVE1"
#define MAGIC_BYTES 8

enum {
	CRC_AT = DDI_LAYOUT_BLOCK_BYTES - sizeof(u32),
	/* Write back dirty save blocks in batches of this many. */
	WRITE_BATCH = 256,
};

static struct dm_bufio_client *open_client(struct block_device *bdev)
{
	return dm_bufio_client_create(bdev, DDI_LAYOUT_BLOCK_BYTES, 1, 0, NULL, NULL, 0);
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
 * Return: 0.
 */
int ddi_layout_init(struct ddi_index_layout *layout, const struct ddi_geometry *geo,
		    u32 zone_count, u64 save_bytes, u64 nonce)
{
	layout->record_pages_per_chapter = geo->record_pages_per_chapter;
	layout->chapters_per_volume = geo->chapters_per_volume;
	layout->zone_count = zone_count;
	layout->nonce = nonce;
	layout->save_slot_blocks = 1 + DIV_ROUND_UP_ULL(save_bytes, DDI_LAYOUT_BLOCK_BYTES);
	layout->volume_start_block = 1 + DDI_SAVE_SLOTS * layout->save_slot_blocks;
	layout->total_blocks = layout->volume_start_block +
			       geo->bytes_per_volume / DDI_LAYOUT_BLOCK_BYTES;
	return 0;
}

static bool all_zero(const u8 *block)
{
	return !memchr_inv(block, 0, DDI_LAYOUT_BLOCK_BYTES);
}

/**
 * ddi_layout_read_super() - Read the superblock of an index device.
 * @bdev: the device.
 * @layout: filled in from the superblock.
 *
 * Return: 0; -ENODATA for a blank device; -EMEDIUMTYPE for a device that
 * holds something other than an index; -EBADMSG for a damaged superblock
 * or one of an unknown version; or an I/O error.
 */
int ddi_layout_read_super(struct block_device *bdev, struct ddi_index_layout *layout)
{
	struct dm_bufio_client *client = open_client(bdev);
	struct dm_buffer *buffer;
	const u8 *block;
	int ret = 0;

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
		   get_unaligned_le32(block + 8) != DDI_LAYOUT_VERSION) {
		ret = -EBADMSG;
	} else {
		layout->record_pages_per_chapter = get_unaligned_le32(block + 12);
		layout->chapters_per_volume = get_unaligned_le32(block + 16);
		layout->zone_count = get_unaligned_le32(block + 20);
		layout->nonce = get_unaligned_le64(block + 24);
		layout->save_slot_blocks = get_unaligned_le64(block + 32);
		layout->volume_start_block = get_unaligned_le64(block + 40);
		layout->total_blocks = get_unaligned_le64(block + 48);
		/* The rest of the code computes with these: keep them sane. */
		if (layout->save_slot_blocks < 2 || layout->save_slot_blocks > U32_MAX ||
		    layout->volume_start_block != 1 + DDI_SAVE_SLOTS * layout->save_slot_blocks ||
		    layout->total_blocks <= layout->volume_start_block)
			ret = -EBADMSG;
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
		memset(data, 0, DDI_LAYOUT_BLOCK_BYTES);
	return data;
}

static void finish_block(struct dm_buffer *buffer)
{
	dm_bufio_mark_buffer_dirty(buffer);
	dm_bufio_release(buffer);
}

static int write_and_flush(struct dm_bufio_client *client)
{
	int ret = dm_bufio_write_dirty_buffers(client);

	return ret ? ret : dm_bufio_issue_flush(client);
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
	put_unaligned_le32(DDI_LAYOUT_VERSION, block + 8);
	put_unaligned_le32(layout->record_pages_per_chapter, block + 12);
	put_unaligned_le32(layout->chapters_per_volume, block + 16);
	put_unaligned_le32(layout->zone_count, block + 20);
	put_unaligned_le64(layout->nonce, block + 24);
	put_unaligned_le64(layout->save_slot_blocks, block + 32);
	put_unaligned_le64(layout->volume_start_block, block + 40);
	put_unaligned_le64(layout->total_blocks, block + 48);
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
	put_unaligned_le32(block_crc(block), block + CRC_AT);
}

/**
 * ddi_layout_write_save() - Write a saved state into a slot.
 * @bdev: the device.
 * @layout: the layout.
 * @slot: 0 or 1.
 * @header: the header; its payload_crc is computed here.
 * @payload: the sections, back to back.
 *
 * The payload is written and flushed before the header, so the slot only
 * claims a state once all of it is on disk.
 *
 * Return: 0, -ENOSPC if the payload is too big for a slot, or an I/O error.
 */
int ddi_layout_write_save(struct block_device *bdev, const struct ddi_index_layout *layout,
			  unsigned int slot, const struct ddi_save_header *header,
			  const u8 *payload)
{
	struct ddi_save_header stamped = *header;
	u64 bytes = ddi_save_payload_bytes(header);
	u64 blocks = DIV_ROUND_UP_ULL(bytes, DDI_LAYOUT_BLOCK_BYTES);
	sector_t start = slot_start(layout, slot);
	struct dm_bufio_client *client;
	struct dm_buffer *buffer;
	u8 *block;
	u64 i;
	int ret = 0;

	if (blocks + 1 > layout->save_slot_blocks || slot >= DDI_SAVE_SLOTS)
		return -ENOSPC;
	client = open_client(bdev);
	if (IS_ERR(client))
		return PTR_ERR(client);

	for (i = 0; i < blocks && !ret; i++) {
		u64 done = i * DDI_LAYOUT_BLOCK_BYTES;

		block = new_block(client, start + 1 + i, &buffer);
		if (IS_ERR(block)) {
			ret = PTR_ERR(block);
			break;
		}
		memcpy(block, payload + done, min_t(u64, bytes - done, DDI_LAYOUT_BLOCK_BYTES));
		finish_block(buffer);
		if ((i + 1) % WRITE_BATCH == 0)
			ret = dm_bufio_write_dirty_buffers(client);
	}
	if (!ret)
		ret = write_and_flush(client);

	if (!ret) {
		block = new_block(client, start, &buffer);
		ret = PTR_ERR_OR_ZERO(block);
	}
	if (!ret) {
		stamped.payload_crc = crc32_le(~0, payload, bytes);
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
						       DDI_LAYOUT_BLOCK_BYTES)
				ret = -EBADMSG;
		}
		header->payload_crc = get_unaligned_le32(block + 32 + 8 * DDI_SAVE_SECTIONS);
		if (DIV_ROUND_UP_ULL(ddi_save_payload_bytes(header), DDI_LAYOUT_BLOCK_BYTES) + 1 >
		    layout->save_slot_blocks)
			ret = -EBADMSG;
	}
	dm_bufio_release(buffer);
out:
	dm_bufio_client_destroy(client);
	return ret;
}

/**
 * ddi_layout_read_save_payload() - Read a slot's state and check its checksum.
 * @bdev: the device.
 * @layout: the layout.
 * @slot: 0 or 1.
 * @header: the slot's header, as read by ddi_layout_read_save_header().
 * @payload: room for the sections' bytes.
 *
 * Return: 0, -EBADMSG if the state does not match its checksum, or an I/O
 * error.
 */
int ddi_layout_read_save_payload(struct block_device *bdev,
				 const struct ddi_index_layout *layout, unsigned int slot,
				 const struct ddi_save_header *header, u8 *payload)
{
	u64 bytes = ddi_save_payload_bytes(header);
	u64 blocks = DIV_ROUND_UP_ULL(bytes, DDI_LAYOUT_BLOCK_BYTES);
	struct dm_bufio_client *client = open_client(bdev);
	u64 i;
	int ret = 0;

	if (IS_ERR(client))
		return PTR_ERR(client);
	dm_bufio_prefetch(client, slot_start(layout, slot) + 1, blocks);
	for (i = 0; i < blocks; i++) {
		u64 done = i * DDI_LAYOUT_BLOCK_BYTES;
		struct dm_buffer *buffer;
		const u8 *block;

		block = dm_bufio_read(client, slot_start(layout, slot) + 1 + i, &buffer);
		if (IS_ERR(block)) {
			ret = PTR_ERR(block);
			break;
		}
		memcpy(payload + done, block, min_t(u64, bytes - done, DDI_LAYOUT_BLOCK_BYTES));
		dm_bufio_release(buffer);
		/* Let bufio drop what was copied, or a big state fills memory twice. */
		dm_bufio_forget(client, slot_start(layout, slot) + 1 + i);
	}
	dm_bufio_client_destroy(client);
	if (!ret && crc32_le(~0, payload, bytes) != header->payload_crc)
		ret = -EBADMSG;
	return ret;
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
