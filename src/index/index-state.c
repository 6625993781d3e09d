// SPDX-License-Identifier: GPL-2.0-only
/*
 * Saving and loading the index's in-memory state: the index page map, the
 * open chapter's records and the volume index, as three sections of one
 * payload written to the save slot that does not hold the newest save.
 *
 * Each section encodes itself into, and decodes itself from, a save stream
 * over the slot's blocks (save-stream.h), so neither a save nor a load
 * needs memory beyond the stream's window of DDI_STREAM_WINDOW_BLOCKS
 * blocks: no copy of the volume index, whatever its size.
 *
 * What a load takes from disk is trusted only as far as it is checked.
 * The header's section sizes must be exactly those of this index's shape
 * and zone count, so no size read from disk chooses how much is read or
 * allocated; the checksum covers the whole payload; and the contents must
 * agree with each other and with the volume, since a state that passes its
 * checksums but not these checks (a crafted device, a bug) would leave an
 * index that quietly stops learning. Such a state is refused with a
 * message, and the open rebuilds from the chapters instead.
 */

#include "index.h"

static void section_sizes(struct ddi_index *index, u64 sizes[DDI_SAVE_SECTIONS])
{
	sizes[DDI_SAVE_PAGE_MAP] = ddi_index_page_map_save_size(&index->geo);
	sizes[DDI_SAVE_OPEN_CHAPTER] = ddi_open_chapter_save_size(&index->geo);
	/* A sparse index's hooks follow the rest in the same section. */
	sizes[DDI_SAVE_VOLUME_INDEX] = ddi_volume_index_save_size(index->volume_index);
	if (index->hook_index)
		sizes[DDI_SAVE_VOLUME_INDEX] += ddi_volume_index_save_size(index->hook_index);
}

/**
 * ddi_index_state_bytes() - Bytes a save of this index takes.
 * @index: the index, its volume index (and a sparse index's hooks) made.
 *
 * Return: the bytes of the three sections, which a save slot must hold
 * after its header block.
 */
u64 ddi_index_state_bytes(struct ddi_index *index)
{
	struct ddi_save_header header = {};

	section_sizes(index, header.section_bytes);
	return ddi_save_payload_bytes(&header);
}

static struct ddi_open_chapter_zone **open_zones(struct ddi_index *index,
						 struct ddi_open_chapter_zone **zones)
{
	unsigned int z;

	for (z = 0; z < index->zone_count; z++)
		zones[z] = index->zones[z]->open;
	return zones;
}

/*
 * A section must end where its size says: pad what a section left short
 * with zeros when writing, pass over it when reading, and fail a section
 * that ran past its end.
 */
static int end_section(struct ddi_save_stream *s, u64 end)
{
	if (s->error)
		return s->error;
	if (s->pos > end)
		return ddi_stream_fail(s, -EINVAL);
	return s->writing ? ddi_save_stream_write_zeros(s, end - s->pos) :
			    ddi_save_stream_skip(s, end - s->pos);
}

static void save_sections(struct ddi_index *index, struct ddi_save_stream *s,
			  const u64 sizes[DDI_SAVE_SECTIONS])
{
	struct ddi_open_chapter_zone *zones[DDI_MAX_ZONES];
	u64 end = sizes[DDI_SAVE_PAGE_MAP];

	ddi_index_page_map_encode(index->volume->page_map, s);
	end_section(s, end);
	end += sizes[DDI_SAVE_OPEN_CHAPTER];
	ddi_open_chapter_encode(open_zones(index, zones), index->zone_count,
				index->zones[0]->open_vcn, s, sizes[DDI_SAVE_OPEN_CHAPTER]);
	end_section(s, end);
	end += sizes[DDI_SAVE_VOLUME_INDEX];
	ddi_volume_index_encode(index->volume_index, s);
	if (index->hook_index)
		ddi_volume_index_encode(index->hook_index, s);
	end_section(s, end);
}

/**
 * ddi_index_state_save() - Save the index's state to its device.
 * @index: the index, quiescent: no request in flight and no chapter
 *	being closed.
 * @client: the client state to keep with it.
 *
 * Return: 0 or a negative errno; a failed save leaves the previous one.
 */
int ddi_index_state_save(struct ddi_index *index, const struct ddi_client_state *client)
{
	struct ddi_save_header header = {};
	struct ddi_save_stream s;
	unsigned int slot;
	int ret;

	section_sizes(index, header.section_bytes);
	header.sequence = index->layout_save_sequence + 1;
	header.open_vcn = index->zones[0]->open_vcn;
	header.client = *client;
	slot = (index->layout_save_slot + 1) % DDI_SAVE_SLOTS;
	if (!ddi_layout_start_save(&s, index->bdev, &index->layout, slot,
				   ddi_save_payload_bytes(&header)))
		save_sections(index, &s, header.section_bytes);
	ret = ddi_layout_finish_save(&s, index->bdev, &index->layout, slot, &header);
	if (ret) {
		pr_err("%pg: cannot save index state: %d\n", index->bdev, ret);
		return ret;
	}
	index->layout_save_sequence = header.sequence;
	index->layout_save_slot = slot;
	pr_info("%pg: saved index state: open chapter %llu, slot %u\n",
		index->bdev, header.open_vcn, slot);
	return 0;
}

/* Read a slot's sections into the index; returns what is wrong, or NULL. */
static const char *load_sections(struct ddi_index *index, struct ddi_save_stream *s,
				 const struct ddi_save_header *header, u32 *dropped)
{
	struct ddi_open_chapter_zone *zones[DDI_MAX_ZONES];
	const u64 *sizes = header->section_bytes;
	u64 end = sizes[DDI_SAVE_PAGE_MAP];
	u64 vcn = 0;

	if (ddi_index_page_map_decode(index->volume->page_map, s, true) ||
	    end_section(s, end))
		return "the index page map is damaged";
	end += sizes[DDI_SAVE_OPEN_CHAPTER];
	if (ddi_open_chapter_decode(open_zones(index, zones), index->zone_count,
				    ddi_volume_index_zone_of, s, sizes[DDI_SAVE_OPEN_CHAPTER],
				    true, &vcn, dropped) ||
	    end_section(s, end))
		return "the open chapter is damaged";
	if (vcn != header->open_vcn)
		return "the open chapter is not the one the header names";
	end += sizes[DDI_SAVE_VOLUME_INDEX];
	if (ddi_volume_index_decode(index->volume_index, s, true) ||
	    (index->hook_index && ddi_volume_index_decode(index->hook_index, s, true)) ||
	    end_section(s, end))
		return "the volume index is damaged";
	return NULL;
}

/*
 * The checks a state whose checksums are good must still pass: each is
 * something the index itself never saves, and each would leave an index
 * that stops learning or answers from the wrong chapters.
 */
static const char *check_loaded(struct ddi_index *index, u64 open_vcn, u32 dropped)
{
	u64 last_update = index->volume->page_map->last_update;
	unsigned int z;

	if (last_update >= open_vcn && last_update != 0)
		return "the index page map was updated past the open chapter";
	/* Zones of one count never overfill: a save holds what fitted. */
	if (dropped)
		return "the open chapter holds more records than its zones";
	for (z = 0; z < index->zone_count; z++) {
		u64 oldest, newest;

		/* A full zone would refuse every new name and never close. */
		if (ddi_open_chapter_zone_full(index->zones[z]->open))
			return "a zone's share of the open chapter is full";
		/*
		 * The window must end at the open chapter: past it, puts
		 * would be refused as outside it and the window would never
		 * move. Its start was checked to be less than a volume back.
		 */
		ddi_volume_index_get_window(index->volume_index, z, &oldest, &newest);
		if (newest != open_vcn)
			return "the volume index window does not end at the open chapter";
		if (index->hook_index) {
			ddi_volume_index_get_window(index->hook_index, z, &oldest, &newest);
			if (newest != open_vcn)
				return "the hooks' window does not end at the open chapter";
		}
	}
	return NULL;
}

static int load_slot(struct ddi_index *index, unsigned int slot,
		     const struct ddi_save_header *header)
{
	u64 sizes[DDI_SAVE_SECTIONS];
	struct ddi_save_stream s;
	const char *what = NULL;
	u32 dropped = 0;
	int ret, i;

	section_sizes(index, sizes);
	for (i = 0; i < DDI_SAVE_SECTIONS; i++) {
		if (header->section_bytes[i] != sizes[i])
			what = "its sections are not the sizes of this shape and zone count";
	}
	if (header->open_vcn > DDI_MAX_VCN)
		what = "its open chapter number is out of range";
	if (what) {
		ret = -EBADMSG;
		goto out;
	}

	ret = ddi_layout_start_load(&s, index->bdev, &index->layout, slot, header);
	if (!ret)
		what = load_sections(index, &s, header, &dropped);
	ret = ddi_layout_finish_load(&s, header);
	if (ret && !what)
		what = ret == -EBADMSG ? "its checksum does not match" : "it cannot be read";
	if (!ret && !what)
		what = check_loaded(index, header->open_vcn, dropped);
	if (!ret && what)
		ret = -EBADMSG;
out:
	if (ret) {
		pr_warn("%pg: save slot %u cannot be loaded: %s (%d)\n",
			index->bdev, slot, what, ret);
		/*
		 * What was decoded is thrown away; a rebuild that finds no
		 * chapter to read would keep this, and the next save with it.
		 */
		index->volume->page_map->last_update = 0;
	}
	return ret;
}

/**
 * ddi_index_state_load() - Load the newest save that matches the volume.
 * @index: the index, with fresh zones and volume index.
 * @volume_open_vcn: the chapter after the newest one on the volume.
 *
 * A save is only good for the volume it was made with: if chapters were
 * written after it (a crash after more work), it is stale.
 *
 * Return: 0 if a save was loaded, its client state with it; -ENOENT if
 * none is usable, in which case the state may be partly loaded and must be
 * thrown away, and the client state is that of the newest save the volume
 * has gone past, if any.
 */
int ddi_index_state_load(struct ddi_index *index, u64 volume_open_vcn)
{
	struct ddi_save_header headers[DDI_SAVE_SLOTS];
	bool usable[DDI_SAVE_SLOTS], passed[DDI_SAVE_SLOTS];
	unsigned int slot, tries;
	u64 newest = 0;

	for (slot = 0; slot < DDI_SAVE_SLOTS; slot++) {
		int ret = ddi_layout_read_save_header(index->bdev, &index->layout, slot,
						      &headers[slot]);

		usable[slot] = !ret;
		/* A whole save whose open chapter the volume has written since. */
		passed[slot] = !ret && headers[slot].open_vcn < volume_open_vcn;
		if (ret && ret != -ENODATA)
			pr_warn("%pg: save slot %u is damaged: %d\n", index->bdev, slot, ret);
		if (!ret && headers[slot].open_vcn != volume_open_vcn) {
			pr_info("%pg: save slot %u is stale: open chapter %llu, volume at %llu\n",
				index->bdev, slot, headers[slot].open_vcn, volume_open_vcn);
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
			index->client_state = headers[slot].client;
			index->layout_save_sequence = headers[slot].sequence;
			index->layout_save_slot = slot;
			pr_info("%pg: loaded index state from slot %u: open chapter %llu\n",
				index->bdev, slot,
				headers[slot].open_vcn);
			return 0;
		}
	}
	/*
	 * What was answered before such a save is in the chapters written
	 * since, which a rebuild reads: its client state still holds.
	 */
	memset(&index->client_state, 0, sizeof(index->client_state));
	for (slot = 0; slot < DDI_SAVE_SLOTS; slot++) {
		if (passed[slot] && headers[slot].sequence >= newest) {
			newest = headers[slot].sequence;
			index->client_state = headers[slot].client;
		}
	}
	return -ENOENT;
}

/**
 * ddi_index_state_open_vcn() - The open chapter of the newest save on disk.
 * @index: the index, its layout read.
 *
 * A save is made once every chapter below its open chapter is written, so
 * this tells how many chapters the volume had then, even if its state
 * cannot be loaded.
 *
 * Return: the highest open chapter in a save slot header that is whole,
 * or 0 if none is.
 */
u64 ddi_index_state_open_vcn(struct ddi_index *index)
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
