// SPDX-License-Identifier: GPL-2.0-only
/*
 * Building a chapter index: names are collected as they are given, then
 * sorted by delta list and key once, when the first page is packed, and
 * the lists are coded page by page in list order.
 */

#include <linux/errno.h>
#include <linux/minmax.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "bit-stream.h"
#include "table-alloc.h"
#include "chapter-index.h"
#include "chapter-index-layout.h"

struct chapter_index_entry {
	struct ddi_name name;
	u32 key;
	u16 list;
	u16 record_page;
};

struct ddi_open_chapter_index {
	const struct ddi_geometry *geo;
	u64 vcn;
	u32 capacity;
	u32 count;
	u32 dropped;
	bool sorted;
	struct chapter_index_entry *entries;
	/* After sorting: list n is entries[list_start[n]..list_start[n + 1]). */
	u32 *list_start;
};

/**
 * ddi_open_chapter_index_memory_bytes() - RAM an open chapter index takes.
 * @geo: the volume geometry.
 *
 * Return: the bytes ddi_open_chapter_index_create() allocates.
 */
size_t ddi_open_chapter_index_memory_bytes(const struct ddi_geometry *geo)
{
	struct ddi_open_chapter_index *oci;

	return kmalloc_size_roundup(sizeof(*oci)) +
	       ddi_table_bytes((size_t)geo->records_per_chapter * sizeof(*oci->entries)) +
	       ddi_table_bytes((geo->delta_lists_per_chapter + 1) * sizeof(u32));
}

/**
 * ddi_open_chapter_index_create() - Make an open chapter index.
 * @geo: the volume geometry; must outlive the index.
 * @oci_ptr: set to the new index, empty, for chapter 0.
 *
 * Return: 0, or -ENOMEM.
 */
int ddi_open_chapter_index_create(const struct ddi_geometry *geo,
				  struct ddi_open_chapter_index **oci_ptr)
{
	struct ddi_open_chapter_index *oci;

	oci = kzalloc(sizeof(*oci), GFP_KERNEL);
	if (!oci)
		return -ENOMEM;
	oci->geo = geo;
	oci->capacity = geo->records_per_chapter;
	oci->entries = ddi_table_calloc(oci->capacity, sizeof(*oci->entries));
	oci->list_start = ddi_table_calloc(geo->delta_lists_per_chapter + 1, sizeof(u32));
	if (!oci->entries || !oci->list_start) {
		ddi_open_chapter_index_free(oci);
		return -ENOMEM;
	}
	*oci_ptr = oci;
	return 0;
}

/**
 * ddi_open_chapter_index_free() - Free an open chapter index.
 * @oci: the index; may be NULL.
 */
void ddi_open_chapter_index_free(struct ddi_open_chapter_index *oci)
{
	if (!oci)
		return;
	kvfree(oci->entries);
	kvfree(oci->list_start);
	kfree(oci);
}

/**
 * ddi_open_chapter_index_reset() - Empty the index for another chapter.
 * @oci: the index.
 * @vcn: the virtual chapter it will describe.
 */
void ddi_open_chapter_index_reset(struct ddi_open_chapter_index *oci, u64 vcn)
{
	oci->vcn = vcn;
	oci->count = 0;
	oci->dropped = 0;
	oci->sorted = false;
}

/**
 * ddi_open_chapter_index_vcn() - The virtual chapter the index describes.
 * @oci: the index.
 *
 * Return: the virtual chapter number given to the last reset.
 */
u64 ddi_open_chapter_index_vcn(const struct ddi_open_chapter_index *oci)
{
	return oci->vcn;
}

/**
 * ddi_open_chapter_index_put() - Add a name to the index.
 * @oci: the index, not yet packed.
 * @name: the record name.
 * @record_page: the chapter's record page that holds it.
 *
 * Return: 0; -ENOSPC if the chapter is full; -EINVAL for a record page
 * outside the chapter or an index already being packed.
 */
int ddi_open_chapter_index_put(struct ddi_open_chapter_index *oci,
			       const struct ddi_name *name, u32 record_page)
{
	struct chapter_index_entry *entry;

	if (record_page >= oci->geo->record_pages_per_chapter || oci->sorted)
		return -EINVAL;
	if (oci->count == oci->capacity)
		return -ENOSPC;
	entry = &oci->entries[oci->count++];
	entry->name = *name;
	entry->key = ddi_geometry_chapter_address(oci->geo, name);
	entry->list = ddi_geometry_delta_list(oci->geo, name);
	entry->record_page = record_page;
	return 0;
}

/**
 * ddi_open_chapter_index_dropped() - Entries left out for lack of room.
 * @oci: the index.
 *
 * Return: how many entries the chapter's index pages could not hold.
 */
u32 ddi_open_chapter_index_dropped(const struct ddi_open_chapter_index *oci)
{
	return oci->dropped;
}

/*
 * Entry order: by list, then key, then name for colliding keys (any fixed
 * order would do, so that packing is reproducible; the open chapter holds
 * each name once, so the order is total and any sort gives the same one).
 */
static bool entry_before(const struct chapter_index_entry *a, const struct chapter_index_entry *b)
{
	u64 x = ((u64)a->list << 32) | a->key;
	u64 y = ((u64)b->list << 32) | b->key;

	if (x != y)
		return x < y;
	return memcmp(&a->name, &b->name, sizeof(a->name)) < 0;
}

/* Let entries[root] sink to its place in the heap of the first @count. */
static void sift_down(struct chapter_index_entry *entries, u32 root, u32 count)
{
	struct chapter_index_entry sinking = entries[root];
	u32 child;

	while ((child = 2 * root + 1) < count) {
		if (child + 1 < count && entry_before(&entries[child], &entries[child + 1]))
			child++;
		if (!entry_before(&sinking, &entries[child]))
			break;
		entries[root] = entries[child];
		root = child;
	}
	entries[root] = sinking;
}

/*
 * A heap sort of its own rather than sort(): in place like it, with no
 * memory beyond one entry, but with the comparison inlined. sort() called
 * its compare and swap functions through pointers (retpolines on x86)
 * some two million times a chapter of 65K names, and under TCG that was
 * 5 to 11% of a 2-zone run of new names, on the CPUs the zones need.
 */
static void heap_sort_entries(struct chapter_index_entry *entries, u32 count)
{
	u32 i;

	for (i = count / 2; i-- > 0;)
		sift_down(entries, i, count);
	for (i = count; i-- > 1;) {
		swap(entries[0], entries[i]);
		sift_down(entries, 0, i);
	}
}

static void sort_entries(struct ddi_open_chapter_index *oci)
{
	u32 lists = oci->geo->delta_lists_per_chapter;
	u32 i, list = 0;

	heap_sort_entries(oci->entries, oci->count);
	for (i = 0; i < oci->count; i++) {
		while (list <= oci->entries[i].list)
			oci->list_start[list++] = i;
	}
	while (list <= lists)
		oci->list_start[list++] = oci->count;
	oci->sorted = true;
}

static bool is_collision(const struct chapter_index_entry *entry, u32 index_in_list)
{
	return index_in_list > 0 && entry[-1].key == entry->key;
}

static u32 entry_bits(const struct ddi_geometry *geo, const struct chapter_index_entry *entry,
		      u32 index_in_list)
{
	u32 gap = index_in_list == 0 ? entry->key : entry->key - entry[-1].key;
	u32 bits = (gap >> geo->chapter_mean_delta_bits) + 1 + geo->chapter_mean_delta_bits +
		   geo->chapter_payload_bits;

	return is_collision(entry, index_in_list) ? bits + DDI_CI_COLLISION_NAME_BITS : bits;
}

/*
 * How many leading entries of a list fit in @room bits, and the bits
 * they take. Whole lists are what packing wants; a prefix is what the last
 * page settles for when a list does not fit.
 */
static u32 list_prefix_fitting(const struct ddi_open_chapter_index *oci, u32 list,
			       u32 room, u32 *bits_used)
{
	const struct chapter_index_entry *entries = oci->entries + oci->list_start[list];
	u32 count = oci->list_start[list + 1] - oci->list_start[list];
	u32 bits = 0, i;

	for (i = 0; i < count; i++) {
		u32 more = entry_bits(oci->geo, &entries[i], i);

		if (bits + more > room)
			break;
		bits += more;
	}
	*bits_used = bits;
	return i;
}

static u32 code_entries(const struct ddi_open_chapter_index *oci, u8 *stream, u32 offset,
			u32 list, u32 count)
{
	const struct ddi_geometry *geo = oci->geo;
	const struct chapter_index_entry *entries = oci->entries + oci->list_start[list];
	u32 k = geo->chapter_mean_delta_bits;
	u32 i;

	for (i = 0; i < count; i++) {
		const struct chapter_index_entry *entry = &entries[i];
		u32 gap = i == 0 ? entry->key : entry->key - entries[i - 1].key;
		u32 quotient = gap >> k;

		/* Unary: quotient ones, then the zero already in the stream. */
		for (; quotient >= 32; quotient -= 32, offset += 32)
			ddi_put_bits(stream, offset, U32_MAX, 32);
		ddi_put_bits(stream, offset, (1ULL << quotient) - 1, quotient);
		offset += quotient + 1;
		ddi_put_bits(stream, offset, gap, k);
		offset += k;
		ddi_put_bits(stream, offset, entry->record_page, geo->chapter_payload_bits);
		offset += geo->chapter_payload_bits;
		if (is_collision(entry, i)) {
			u32 b;

			for (b = 0; b < DDI_NAME_SIZE; b++, offset += 8)
				ddi_put_bits(stream, offset, entry->name.bytes[b], 8);
		}
	}
	return offset;
}

/*
 * Choose the lists for a page starting at @first_list: as many whole lists
 * as fit, or, on the last page, all the rest with the entries that do not
 * fit dropped. Returns the list count, or -ENOSPC if the last page cannot
 * even hold the remaining lists' offsets.
 */
static int choose_lists(struct ddi_open_chapter_index *oci, u32 page_bits, u32 first_list,
			bool last_page)
{
	u32 lists = oci->geo->delta_lists_per_chapter;
	u32 used = 0, n, bits;

	if (last_page) {
		if (ddi_ci_stream_start(lists - first_list) * 8 > page_bits)
			return -ENOSPC;
		return lists - first_list;
	}

	for (n = 0; first_list + n < lists; n++) {
		u32 list = first_list + n;
		u32 count = oci->list_start[list + 1] - oci->list_start[list];
		u32 room;

		/* Room left once this list's offset joins the table. */
		if (ddi_ci_stream_start(n + 1) * 8 + used > page_bits)
			break;
		room = page_bits - ddi_ci_stream_start(n + 1) * 8 - used;
		if (list_prefix_fitting(oci, list, room, &bits) < count)
			break;
		used += bits;
	}
	return n;
}

/**
 * ddi_open_chapter_index_pack_page() - Code the next lists into an index page.
 * @oci: the index.
 * @page: the page buffer, geo->bytes_per_page long; overwritten.
 * @nonce: the volume nonce to stamp.
 * @first_list: the first list not yet packed.
 * @last_page: whether this is the chapter's last index page.
 * @lists_packed: set to the number of lists the page took.
 *
 * Return: 0; -EINVAL if @first_list is out of range; -ENOSPC if the last
 * page cannot hold the remaining lists at all.
 */
int ddi_open_chapter_index_pack_page(struct ddi_open_chapter_index *oci, u8 *page,
				     u64 nonce, u32 first_list, bool last_page,
				     u32 *lists_packed)
{
	const struct ddi_geometry *geo = oci->geo;
	u32 page_bits = geo->bytes_per_page * 8;
	u32 entries = 0, offset = 0, n, i;
	u8 *stream;
	int chosen;

	if (first_list > geo->delta_lists_per_chapter)
		return -EINVAL;
	if (!oci->sorted)
		sort_entries(oci);

	chosen = choose_lists(oci, page_bits, first_list, last_page);
	if (chosen < 0)
		return chosen;
	n = chosen;

	memset(page, 0, geo->bytes_per_page);
	stream = page + ddi_ci_stream_start(n);
	for (i = 0; i < n; i++) {
		u32 list = first_list + i;
		u32 count = oci->list_start[list + 1] - oci->list_start[list];
		u32 room = page_bits - ddi_ci_stream_start(n) * 8 - offset;
		u32 fitting, bits;

		put_unaligned_le16(offset, page + DDI_CI_OFFSETS + 2 * i);
		fitting = list_prefix_fitting(oci, list, room, &bits);
		oci->dropped += count - fitting;
		offset = code_entries(oci, stream, offset, list, fitting);
		entries += fitting;
	}
	put_unaligned_le16(offset, page + DDI_CI_OFFSETS + 2 * n);

	memcpy(page, DDI_CI_MAGIC, DDI_CI_MAGIC_BYTES);
	put_unaligned_le64(oci->vcn, page + DDI_CI_VCN);
	put_unaligned_le64(nonce, page + DDI_CI_NONCE);
	put_unaligned_le32(first_list, page + DDI_CI_LOWEST);
	put_unaligned_le32(first_list + n - 1, page + DDI_CI_HIGHEST);
	put_unaligned_le32(entries, page + DDI_CI_ENTRIES);
	put_unaligned_le32(ddi_ci_page_crc(page, geo->bytes_per_page), page + DDI_CI_CRC);
	*lists_packed = n;
	return 0;
}
