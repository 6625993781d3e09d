// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reading chapter index pages back: a page is checked once, when it is
 * read from disk, and then searched in place many times. Searching trusts
 * only what the check established and bounds-checks every field it
 * decodes, so a page that slipped past the checksum still cannot make a
 * search read outside the page or return a record page outside the chapter.
 */

#include <linux/bitops.h>
#include <linux/errno.h>
#include <linux/string.h>

#include "bit-stream.h"
#include "chapter-index.h"
#include "chapter-index-layout.h"

/**
 * ddi_chapter_index_page_sum_ok() - Check an index page's checksum alone.
 * @data: the page as read from disk.
 * @geo: the volume geometry.
 *
 * The costly part of ddi_chapter_index_page_init(), for a reader to do
 * before it takes the volume's read mutex.
 *
 * Return: true if the checksum matches the page.
 */
bool ddi_chapter_index_page_sum_ok(const u8 *data, const struct ddi_geometry *geo)
{
	return get_unaligned_le32(data + DDI_CI_CRC) == ddi_ci_page_crc(data, geo->bytes_per_page);
}

/**
 * ddi_chapter_index_page_init() - Check an index page and decode its header.
 * @ip: filled in from the page.
 * @geo: the volume geometry.
 * @data: the page, geo->bytes_per_page long; must stay valid while @ip is used.
 * @nonce: the volume nonce the page must carry.
 *
 * Return: 0, or -EBADMSG for a foreign, stale or damaged page.
 */
int ddi_chapter_index_page_init(struct ddi_index_page *ip, const struct ddi_geometry *geo,
				const u8 *data, u64 nonce)
{
	if (ddi_chapter_index_page_sum_ok(data, geo))
		return ddi_chapter_index_page_parse(ip, geo, data, nonce);
	memset(ip, 0, sizeof(*ip));
	return -EBADMSG;
}

/**
 * ddi_chapter_index_page_parse() - Decode an index page whose sum is good.
 * @ip: filled in from the page.
 * @geo: the volume geometry.
 * @data: the page, which ddi_chapter_index_page_sum_ok() accepted; must
 *	stay valid while @ip is used.
 * @nonce: the volume nonce the page must carry.
 *
 * Return: 0, or -EBADMSG for a foreign page or impossible contents.
 */
int ddi_chapter_index_page_parse(struct ddi_index_page *ip, const struct ddi_geometry *geo,
				 const u8 *data, u64 nonce)
{
	u32 page_bits = geo->bytes_per_page * 8;
	u32 lowest, highest, lists, stream_bits, previous = 0, i;

	memset(ip, 0, sizeof(*ip));
	if (memcmp(data, DDI_CI_MAGIC, DDI_CI_MAGIC_BYTES) != 0 ||
	    get_unaligned_le64(data + DDI_CI_NONCE) != nonce)
		return -EBADMSG;

	lowest = get_unaligned_le32(data + DDI_CI_LOWEST);
	highest = get_unaligned_le32(data + DDI_CI_HIGHEST);
	/* highest == lowest - 1 is an empty page; it may not end past the lists. */
	lists = highest + 1 - lowest;
	if (lowest > geo->delta_lists_per_chapter ||
	    lists > geo->delta_lists_per_chapter - lowest ||
	    ddi_ci_stream_start(lists) > geo->bytes_per_page)
		return -EBADMSG;

	stream_bits = page_bits - ddi_ci_stream_start(lists) * 8;
	for (i = 0; i <= lists; i++) {
		u32 offset = get_unaligned_le16(data + DDI_CI_OFFSETS + 2 * i);

		/* The first list starts the stream; the others follow in order. */
		if ((i == 0 && offset != 0) || offset < previous || offset > stream_bits)
			return -EBADMSG;
		previous = offset;
	}

	ip->data = data;
	ip->vcn = get_unaligned_le64(data + DDI_CI_VCN);
	ip->lowest_list = lowest;
	ip->highest_list = highest;
	ip->entry_count = get_unaligned_le32(data + DDI_CI_ENTRIES);
	ip->coded_bits = previous;
	return 0;
}

struct list_reader {
	const u8 *stream;
	u32 stream_bytes;
	u32 offset;
	u32 end;
};

/* Read @bits more bits of the list; false if the list ends first. */
static bool read_bits(struct list_reader *reader, u32 bits, u64 *value)
{
	if (bits > reader->end - reader->offset)
		return false;
	*value = ddi_get_bits(reader->stream, reader->stream_bytes, reader->offset, bits);
	reader->offset += bits;
	return true;
}

/* Read a unary count: ones ended by a zero. */
static bool read_unary(struct list_reader *reader, u32 *count)
{
	u32 ones = 0;

	for (;;) {
		u32 bits = min(32U, reader->end - reader->offset);
		u64 chunk;
		u32 run;

		if (bits == 0)
			return false;
		chunk = ddi_get_bits(reader->stream, reader->stream_bytes, reader->offset, bits);
		run = ffz(chunk);
		if (run < bits) {
			reader->offset += run + 1;
			*count = ones + run;
			return true;
		}
		ones += bits;
		reader->offset += bits;
	}
}

static bool read_name(struct list_reader *reader, struct ddi_name *name)
{
	u64 byte;
	u32 i;

	for (i = 0; i < DDI_NAME_SIZE; i++) {
		if (!read_bits(reader, 8, &byte))
			return false;
		name->bytes[i] = byte;
	}
	return true;
}

/* Start reading list @index (counted from the page's lowest list). */
static void open_list(const struct ddi_index_page *ip, const struct ddi_geometry *geo,
		      u32 index, struct list_reader *reader)
{
	u32 lists = ip->highest_list + 1 - ip->lowest_list;

	reader->stream = ip->data + ddi_ci_stream_start(lists);
	reader->stream_bytes = geo->bytes_per_page - ddi_ci_stream_start(lists);
	reader->offset = get_unaligned_le16(ip->data + DDI_CI_OFFSETS + 2 * index);
	reader->end = get_unaligned_le16(ip->data + DDI_CI_OFFSETS + 2 * index + 2);
}

/*
 * The common case of decoding an entry: its unary quotient, remainder and
 * payload all lie in the 57 or more bits one 64-bit load gives, and inside
 * the list. Returns false, having read nothing, when they do not, for
 * read_entry() to take the field-by-field way, which also finds damage.
 * Searches decode half a list per lookup, so this is the index's busiest
 * loop on a page-cache hit.
 */
static __always_inline bool read_entry_word(struct list_reader *reader, u32 k, u32 payload_bits,
					    u32 *quotient, u64 *remainder, u64 *payload)
{
	u32 byte = reader->offset / 8, shift = reader->offset % 8, used;
	u64 word;

	if (unlikely(byte + 8 > reader->stream_bytes))
		return false;
	word = get_unaligned_le64(reader->stream + byte) >> shift;
	/* A word of ones: the quotient is longer than the word. */
	if (unlikely(!~word))
		return false;
	*quotient = ffz(word);
	used = *quotient + 1 + k + payload_bits;
	if (unlikely(used > 64 - shift || used > reader->end - reader->offset))
		return false;
	word >>= *quotient + 1;
	*remainder = word & GENMASK_ULL(k - 1, 0);
	*payload = (word >> k) & GENMASK_ULL(payload_bits - 1, 0);
	reader->offset += used;
	return true;
}

/*
 * Decode entry @entry of a list, adding its delta to *@address. A
 * collision (a second name at the same address) is an entry of delta 0
 * after the first, and its full name follows it. False if the entry runs
 * past the list or decodes outside the chapter: the list is damaged.
 */
static __always_inline bool read_entry(struct list_reader *reader,
				       const struct ddi_geometry *geo, u32 entry,
				       u64 *address, u64 *payload, bool *collision)
{
	u32 k = geo->chapter_mean_delta_bits;
	u64 remainder;
	u32 quotient;

	if (!read_entry_word(reader, k, geo->chapter_payload_bits, &quotient, &remainder,
			     payload) &&
	    (!read_unary(reader, &quotient) || !read_bits(reader, k, &remainder) ||
	     !read_bits(reader, geo->chapter_payload_bits, payload)))
		return false;
	*collision = entry > 0 && quotient == 0 && remainder == 0;
	*address += ((u64)quotient << k) | remainder;
	return !(*address >> geo->chapter_address_bits) &&
	       *payload < geo->record_pages_per_chapter;
}

/**
 * ddi_chapter_index_page_search() - Find which record page may hold a name.
 * @ip: a page that passed ddi_chapter_index_page_init().
 * @geo: the volume geometry.
 * @name: the name to look up.
 * @record_page: set to the record page, or DDI_NO_RECORD_PAGE.
 *
 * A found record page is only a candidate: names are matched by their key
 * bits, so the record page itself decides.
 *
 * Return: 0; -EBADMSG if the name's list is not on this page or the
 * list's coding is damaged.
 */
int ddi_chapter_index_page_search(const struct ddi_index_page *ip, const struct ddi_geometry *geo,
				  const struct ddi_name *name, u32 *record_page)
{
	u32 list = ddi_geometry_delta_list(geo, name);
	u32 key = ddi_geometry_chapter_address(geo, name);
	u32 lists = ip->highest_list + 1 - ip->lowest_list;
	u32 index = list - ip->lowest_list;
	struct list_reader reader;
	u64 address = 0;
	u32 entry;

	*record_page = DDI_NO_RECORD_PAGE;
	if (list < ip->lowest_list || index >= lists)
		return -EBADMSG;

	open_list(ip, geo, index, &reader);
	for (entry = 0; reader.offset < reader.end; entry++) {
		u64 payload;
		bool collision;

		if (!read_entry(&reader, geo, entry, &address, &payload, &collision))
			return -EBADMSG;
		if (collision) {
			struct ddi_name stored;

			if (!read_name(&reader, &stored))
				return -EBADMSG;
			/* A colliding name that matches exactly beats the first. */
			if (address == key && !memcmp(&stored, name, sizeof(stored))) {
				*record_page = payload;
				return 0;
			}
			continue;
		}
		if (address > key)
			break;
		if (address == key)
			*record_page = payload;
	}
	return 0;
}

/**
 * ddi_chapter_index_page_walk() - Visit the address of every entry of a page.
 * @ip: a page that passed ddi_chapter_index_page_init().
 * @geo: the volume geometry.
 * @visit: called with each entry's list and its address within the list
 *	(the same address ddi_geometry_chapter_address() gives its name).
 * @context: passed to @visit.
 *
 * A damaged list is visited up to its damage (a search of it finds no more)
 * and the walk goes on with the next list: every entry a search of the
 * page can find is visited.
 *
 * Return: how many of the page's lists are damaged.
 */
u32 ddi_chapter_index_page_walk(const struct ddi_index_page *ip, const struct ddi_geometry *geo,
				void (*visit)(void *context, u32 list, u64 address), void *context)
{
	u32 lists = ip->highest_list + 1 - ip->lowest_list;
	u32 index, damaged = 0;

	for (index = 0; index < lists; index++) {
		struct list_reader reader;
		u64 address = 0, payload;
		bool collision, ok = true;
		u32 entry;

		open_list(ip, geo, index, &reader);
		for (entry = 0; ok && reader.offset < reader.end; entry++) {
			struct ddi_name stored;

			ok = read_entry(&reader, geo, entry, &address, &payload, &collision);
			if (ok)
				visit(context, ip->lowest_list + index, address);
			if (ok && collision)
				ok = read_name(&reader, &stored);
		}
		damaged += !ok;
	}
	return damaged;
}
