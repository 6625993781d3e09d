/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where an index lives on its device, in 4 KiB blocks:
 *
 *   0                  superblock: magic, version, volume shape, nonce, layout,
 *                      the memory budget it was formatted for
 *   1                  save slot 0: a header block, then the saved state
 *   1 + S              save slot 1, the same; saves alternate between them
 *   1 + 2S             the volume (its own header page, then its chapters)
 *
 * A save goes to the slot not holding the newest good save, and its header
 * is written last, after the state is on disk, so a save cut off halfway
 * leaves the previous one whole. The state is streamed (save-stream.h):
 * neither a save nor a load holds a copy of it.
 */
#ifndef DDI_INDEX_LAYOUT_H
#define DDI_INDEX_LAYOUT_H

#include <linux/blkdev.h>
#include <linux/dm-dedup-index.h>

#include "geometry.h"
#include "save-stream.h"

enum {
	DDI_LAYOUT_VERSION = 1,
	/* A sparse index's superblock: version 1 plus its sparse shape. */
	DDI_LAYOUT_VERSION_SPARSE = 2,
	DDI_SAVE_SLOTS = 2,
	/* The sections of a saved state, in order. */
	DDI_SAVE_PAGE_MAP = 0,
	DDI_SAVE_OPEN_CHAPTER,
	DDI_SAVE_VOLUME_INDEX,
	DDI_SAVE_SECTIONS,
};

struct ddi_index_layout {
	u32 record_pages_per_chapter;
	u32 chapters_per_volume;
	/* Both 0 for a dense index. */
	u32 sparse_chapters_per_volume;
	u32 sparse_sample_rate;
	u32 zone_count;
	u64 nonce;
	/* Blocks per save slot, its header block included. */
	u64 save_slot_blocks;
	u64 volume_start_block;
	u64 total_blocks;
	/*
	 * The "memory" budget the index was formatted for, so that a later
	 * version, whose count of what that budget buys differs, still opens
	 * it with its own shape; 0 for an explicit shape, and in superblocks
	 * written before it was kept.
	 */
	u32 memory_mb;
};

/* What a save slot's header says. */
struct ddi_save_header {
	u64 sequence;
	/* The open chapter when the state was saved: chapters below are closed. */
	u64 open_vcn;
	u64 section_bytes[DDI_SAVE_SECTIONS];
	u32 payload_crc;
	/* The user's own bytes (ddi_index_set_save_hook()), kept as given. */
	struct ddi_client_state client;
};

/* Bytes of the sections a save holds, back to back. */
static inline u64 ddi_save_payload_bytes(const struct ddi_save_header *header)
{
	u64 bytes = 0;
	int i;

	for (i = 0; i < DDI_SAVE_SECTIONS; i++)
		bytes += header->section_bytes[i];
	return bytes;
}

int ddi_layout_init(struct ddi_index_layout *layout, const struct ddi_geometry *geo,
		    u32 zone_count, u64 save_bytes, u64 nonce);
int ddi_layout_bytes(const struct ddi_index_layout *layout, u64 *bytes);
bool ddi_layout_save_fits(const struct ddi_index_layout *layout, u64 bytes);
int ddi_layout_check(const struct ddi_index_layout *found, const struct ddi_geometry *geo,
		     u64 save_bytes, u64 max_save_bytes, const char **field);
int ddi_layout_read_super(struct block_device *bdev, struct ddi_index_layout *layout);
int ddi_layout_write_super(struct block_device *bdev, const struct ddi_index_layout *layout);
int ddi_layout_start_save(struct ddi_save_stream *s, struct block_device *bdev,
			  const struct ddi_index_layout *layout, unsigned int slot, u64 bytes);
int ddi_layout_finish_save(struct ddi_save_stream *s, struct block_device *bdev,
			   const struct ddi_index_layout *layout, unsigned int slot,
			   const struct ddi_save_header *header);
int ddi_layout_read_save_header(struct block_device *bdev,
				const struct ddi_index_layout *layout, unsigned int slot,
				struct ddi_save_header *header);
int ddi_layout_start_load(struct ddi_save_stream *s, struct block_device *bdev,
			  const struct ddi_index_layout *layout, unsigned int slot,
			  const struct ddi_save_header *header);
int ddi_layout_finish_load(struct ddi_save_stream *s, const struct ddi_save_header *header);
int ddi_layout_invalidate_saves(struct block_device *bdev,
				const struct ddi_index_layout *layout);

static inline sector_t ddi_layout_volume_sector(const struct ddi_index_layout *layout)
{
	return layout->volume_start_block * (DDI_BLOCK_BYTES >> SECTOR_SHIFT);
}

#endif /* DDI_INDEX_LAYOUT_H */
