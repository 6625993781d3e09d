// SPDX-License-Identifier: GPL-2.0-only
/*
 * Record pages. Records are sorted by name and stored as an implicit binary
 * search tree: node n has children 2n+1 and 2n+2, and an in-order walk of
 * the tree visits the names in sorted order. A search touches at most seven
 * records of a full page and never decodes anything.
 *
 * The final 32 bytes, where a 128th record would go, are the header:
 *
 *   4064  magic     "DDIRECPG"
 *   4072  vcn       le64, the virtual chapter the page was written for
 *   4080  nonce     le64, the volume's nonce
 *   4088  count     le16, records in the tree (nodes 0..count-1)
 *   4090  page      le16, record page number within the chapter
 *   4092  crc       le32, crc32_le of bytes 0..4091
 *
 * The checksum lets a reader tell a torn or foreign page from a real one
 * before trusting anything on it; vcn lets it tell an old lap of the
 * circular volume from the chapter it wants.
 */

#include <linux/crc32.h>
#include <linux/errno.h>
#include <linux/minmax.h>
#include <linux/string.h>
#include <linux/unaligned.h>

#include "record-page.h"

#define RECORD_PAGE_MAGIC "DDIRECPG"

enum {
	HEADER_OFFSET = DDI_RECORDS_PER_PAGE * DDI_BYTES_PER_RECORD,
	MAGIC_OFFSET = HEADER_OFFSET,
	VCN_OFFSET = HEADER_OFFSET + 8,
	NONCE_OFFSET = HEADER_OFFSET + 16,
	COUNT_OFFSET = HEADER_OFFSET + 24,
	PAGE_NUMBER_OFFSET = HEADER_OFFSET + 26,
	CRC_OFFSET = HEADER_OFFSET + 28,
};

static_assert(CRC_OFFSET + 4 == DDI_BLOCK_BYTES);
static_assert(offsetof(struct ddi_record, name) == 0);

/* The in-order successor of @node in a complete tree of @count nodes. */
static u32 next_in_order(u32 node, u32 count)
{
	u32 right = 2 * node + 2;

	if (right < count) {
		/* Leftmost node of the right subtree. */
		node = right;
		while (2 * node + 1 < count)
			node = 2 * node + 1;
		return node;
	}
	/* Climb while we are a right child; the parent after that is next. */
	while (node > 0 && (node & 1) == 0)
		node = (node - 1) / 2;
	return node == 0 ? count : (node - 1) / 2;
}

static u32 first_in_order(u32 count)
{
	u32 node = 0;

	while (2 * node + 1 < count)
		node = 2 * node + 1;
	return node;
}

/**
 * ddi_record_page_encode() - Lay out records as a searchable page.
 * @page: the page buffer, DDI_BLOCK_BYTES bytes.
 * @records: the records to store, in any order.
 * @count: how many, at most DDI_RECORDS_PER_PAGE.
 * @scratch: room for DDI_RECORDS_PER_PAGE record pointers.
 * @sorter: a radix sorter made for at least DDI_RECORDS_PER_PAGE keys.
 * @nonce: the volume nonce.
 * @vcn: the virtual chapter being written.
 * @record_page: the page's number among the chapter's record pages.
 *
 * Return: 0, or -EINVAL for too many records.
 */
int ddi_record_page_encode(u8 *page, const struct ddi_record *records, u32 count,
			   const struct ddi_record **scratch,
			   struct ddi_radix_sorter *sorter, u64 nonce, u64 vcn,
			   u32 record_page)
{
	struct ddi_record *slots = (struct ddi_record *)page;
	u32 node, i;
	int ret;

	if (count > DDI_RECORDS_PER_PAGE)
		return -EINVAL;

	/* Sort pointers by name alone: cheaper than moving whole records. */
	for (i = 0; i < count; i++)
		scratch[i] = &records[i];
	ret = ddi_radix_sort(sorter, (const u8 **)scratch, count, DDI_NAME_SIZE);
	if (ret)
		return ret;

	node = first_in_order(count);
	for (i = 0; i < count; i++) {
		slots[node] = *scratch[i];
		node = next_in_order(node, count);
	}
	memset(&slots[count], 0, (DDI_RECORDS_PER_PAGE - count) * DDI_BYTES_PER_RECORD);

	memcpy(page + MAGIC_OFFSET, RECORD_PAGE_MAGIC, 8);
	put_unaligned_le64(vcn, page + VCN_OFFSET);
	put_unaligned_le64(nonce, page + NONCE_OFFSET);
	put_unaligned_le16(count, page + COUNT_OFFSET);
	put_unaligned_le16(record_page, page + PAGE_NUMBER_OFFSET);
	put_unaligned_le32(crc32_le(~0, page, CRC_OFFSET), page + CRC_OFFSET);
	return 0;
}

/**
 * ddi_record_page_sum_ok() - Check a record page's checksum alone.
 * @page: the page as read from disk.
 *
 * The costly part of ddi_record_page_validate(), for a reader to do before
 * it takes the volume's read mutex.
 *
 * Return: true if the checksum matches the page.
 */
bool ddi_record_page_sum_ok(const u8 *page)
{
	return get_unaligned_le32(page + CRC_OFFSET) == crc32_le(~0, page, CRC_OFFSET);
}

/**
 * ddi_record_page_parse() - Check a record page whose checksum is good.
 * @page: the page, which ddi_record_page_sum_ok() accepted.
 * @nonce: the nonce of the volume it should belong to.
 * @header: filled in with the page's header when it is valid.
 *
 * Return: 0, or -EBADMSG if the page is not one of ours or its header is
 * impossible.
 */
int ddi_record_page_parse(const u8 *page, u64 nonce, struct ddi_record_page_header *header)
{
	u32 count;

	if (memcmp(page + MAGIC_OFFSET, RECORD_PAGE_MAGIC, 8) != 0 ||
	    get_unaligned_le64(page + NONCE_OFFSET) != nonce)
		return -EBADMSG;

	count = get_unaligned_le16(page + COUNT_OFFSET);
	if (count > DDI_RECORDS_PER_PAGE)
		return -EBADMSG;

	header->vcn = get_unaligned_le64(page + VCN_OFFSET);
	header->record_page = get_unaligned_le16(page + PAGE_NUMBER_OFFSET);
	header->count = count;
	return 0;
}

/**
 * ddi_record_page_validate() - Check that a page is an intact record page.
 * @page: the page as read from disk.
 * @nonce: the nonce of the volume it should belong to.
 * @header: filled in with the page's header when it is valid.
 *
 * Return: 0, or -EBADMSG if the page is damaged or not one of ours.
 */
int ddi_record_page_validate(const u8 *page, u64 nonce,
			     struct ddi_record_page_header *header)
{
	return ddi_record_page_sum_ok(page) ? ddi_record_page_parse(page, nonce, header) :
					      -EBADMSG;
}

/**
 * ddi_record_page_search() - Look a name up in a validated record page.
 * @page: the page; ddi_record_page_validate() must have accepted it.
 * @name: the name to find.
 * @data: where to copy the record's data if found; may be NULL.
 *
 * Return: true if the page holds @name.
 */
bool ddi_record_page_search(const u8 *page, const struct ddi_name *name,
			    struct ddi_data *data)
{
	const struct ddi_record *slots = (const struct ddi_record *)page;
	u32 count = min_t(u32, get_unaligned_le16(page + COUNT_OFFSET),
			  DDI_RECORDS_PER_PAGE);
	u32 node = 0;

	while (node < count) {
		int order = memcmp(name, &slots[node].name, DDI_NAME_SIZE);

		if (order == 0) {
			if (data)
				*data = slots[node].data;
			return true;
		}
		node = 2 * node + (order < 0 ? 1 : 2);
	}
	return false;
}
