// SPDX-License-Identifier: GPL-2.0-only
/*
 * Saving and loading the index's in-memory state: the index page map, the
 * open chapter's records and the volume index, as three sections of one
 * payload written to the save slot that does not hold the newest save.
 */

#include <linux/vmalloc.h>

#include "index.h"

static void section_sizes(struct ddi_index *index, u64 sizes[DDI_SAVE_SECTIONS])
{
	sizes[DDI_SAVE_PAGE_MAP] = ddi_index_page_map_save_size(&index->geo);
	sizes[DDI_SAVE_OPEN_CHAPTER] = ddi_open_chapter_save_size(&index->geo);
	sizes[DDI_SAVE_VOLUME_INDEX] = ddi_volume_index_save_size(index->volume_index);
}

static struct ddi_open_chapter_zone **open_zones(struct ddi_index *index,
						 struct ddi_open_chapter_zone **zones)
{
	unsigned int z;

	for (z = 0; z < index->zone_count; z++)
		zones[z] = index->zones[z]->open;
	return zones;
}

/**
 * ddi_index_save_state() - Save the index's state to its device.
 * @index: the index, quiescent: no request in flight and no chapter
 *	being closed.
 *
 * Return: 0 or a negative errno; a failed save leaves the previous one.
 */
int ddi_index_save_state(struct ddi_index *index)
{
	struct ddi_open_chapter_zone *zones[DDI_MAX_ZONES];
	struct ddi_save_header header = {};
	unsigned int slot;
	size_t length;
	u8 *payload, *at;
	int ret;

	section_sizes(index, header.section_bytes);
	payload = vzalloc(ddi_save_payload_bytes(&header));
	if (!payload)
		return -ENOMEM;

	at = payload;
	ret = ddi_index_page_map_save(index->volume->page_map, at,
				      header.section_bytes[DDI_SAVE_PAGE_MAP]);
	at += header.section_bytes[DDI_SAVE_PAGE_MAP];
	if (!ret)
		ret = ddi_open_chapter_save(open_zones(index, zones), index->zone_count,
					    index->zones[0]->open_vcn, at,
					    header.section_bytes[DDI_SAVE_OPEN_CHAPTER], &length);
	at += header.section_bytes[DDI_SAVE_OPEN_CHAPTER];
	if (!ret)
		ret = ddi_volume_index_save(index->volume_index, at,
					    header.section_bytes[DDI_SAVE_VOLUME_INDEX]);
	if (ret)
		goto out;

	header.sequence = index->layout_save_sequence + 1;
	header.open_vcn = index->zones[0]->open_vcn;
	slot = (index->layout_save_slot + 1) % DDI_SAVE_SLOTS;
	ret = ddi_layout_write_save(index->bdev, &index->layout, slot, &header, payload);
	if (!ret) {
		index->layout_save_sequence = header.sequence;
		index->layout_save_slot = slot;
		pr_info("saved index state: open chapter %llu, slot %u\n", header.open_vcn, slot);
	}
out:
	if (ret)
		pr_err("cannot save index state: %d\n", ret);
	vfree(payload);
	return ret;
}

static int load_slot(struct ddi_index *index, unsigned int slot,
		     const struct ddi_save_header *header)
{
	struct ddi_open_chapter_zone *zones[DDI_MAX_ZONES];
	const u64 *sizes = header->section_bytes;
	u8 *payload, *at;
	const char *what = NULL;
	u32 dropped = 0;
	u64 vcn = 0;
	int ret;

	payload = vmalloc(ddi_save_payload_bytes(header));
	if (!payload)
		return -ENOMEM;
	ret = ddi_layout_read_save_payload(index->bdev, &index->layout, slot, header, payload);
	if (ret) {
		what = "its checksum does not match";
		goto out;
	}
	at = payload;
	ret = ddi_index_page_map_load(index->volume->page_map, at, sizes[DDI_SAVE_PAGE_MAP]);
	if (ret) {
		what = "the index page map is damaged";
		goto out;
	}
	at += sizes[DDI_SAVE_PAGE_MAP];
	ret = ddi_open_chapter_load(open_zones(index, zones), index->zone_count,
				    ddi_volume_index_zone_of, at, sizes[DDI_SAVE_OPEN_CHAPTER],
				    &vcn, &dropped);
	if (!ret && vcn != header->open_vcn)
		ret = -EBADMSG;
	if (ret) {
		what = "the open chapter is damaged";
		goto out;
	}
	if (dropped)
		pr_warn("%u records of the saved open chapter did not fit the zones\n", dropped);
	at += sizes[DDI_SAVE_OPEN_CHAPTER];
	ret = ddi_volume_index_load(index->volume_index, at, sizes[DDI_SAVE_VOLUME_INDEX]);
	if (ret)
		what = "the volume index is damaged or of another zone count";
out:
	if (ret)
		pr_warn("save slot %u cannot be loaded: %s (%d)\n", slot, what, ret);
	vfree(payload);
	return ret;
}

/**
 * ddi_index_load_state() - Load the newest save that matches the volume.
 * @index: the index, with fresh zones and volume index.
 * @volume_open_vcn: the chapter after the newest one on the volume.
 *
 * A save is only good for the volume it was made with: if chapters were
 * written after it (a crash after more work), it is stale.
 *
 * Return: 0 if a save was loaded; -ENOENT if none is usable, in which
 * case the state may be partly loaded and must be thrown away.
 */
int ddi_index_load_state(struct ddi_index *index, u64 volume_open_vcn)
{
	struct ddi_save_header headers[DDI_SAVE_SLOTS];
	bool usable[DDI_SAVE_SLOTS];
	unsigned int slot, tries;

	for (slot = 0; slot < DDI_SAVE_SLOTS; slot++) {
		int ret = ddi_layout_read_save_header(index->bdev, &index->layout, slot,
						      &headers[slot]);

		usable[slot] = !ret;
		if (ret && ret != -ENODATA)
			pr_warn("save slot %u is damaged: %d\n", slot, ret);
		if (!ret && headers[slot].open_vcn != volume_open_vcn) {
			pr_info("save slot %u is stale: open chapter %llu, volume at %llu\n",
				slot, headers[slot].open_vcn, volume_open_vcn);
			usable[slot] = false;
		}
	}

	for (tries = 0; tries < DDI_SAVE_SLOTS; tries++) {
		int ret;

		/* Newest first. */
		slot = usable[0] && (!usable[1] || headers[0].sequence > headers[1].sequence) ?
		       0 : 1;
		if (!usable[slot])
			break;
		usable[slot] = false;
		ret = load_slot(index, slot, &headers[slot]);
		if (!ret) {
			index->layout_save_sequence = headers[slot].sequence;
			index->layout_save_slot = slot;
			pr_info("loaded index state from slot %u: open chapter %llu\n", slot,
				headers[slot].open_vcn);
			return 0;
		}
	}
	return -ENOENT;
}

/**
 * ddi_index_saved_open_vcn() - The open chapter of the newest save on disk.
 * @index: the index, its layout read.
 *
 * A save is made once every chapter below its open chapter is written, so
 * this tells how many chapters the volume had then, even if its state
 * cannot be loaded.
 *
 * Return: the highest open chapter in a save slot header that is whole,
 * or 0 if none is.
 */
u64 ddi_index_saved_open_vcn(struct ddi_index *index)
{
	struct ddi_save_header header;
	unsigned int slot;
	u64 vcn = 0;

	for (slot = 0; slot < DDI_SAVE_SLOTS; slot++) {
		if (!ddi_layout_read_save_header(index->bdev, &index->layout, slot, &header))
			vcn = max(vcn, header.open_vcn);
	}
	return vcn;
}
