/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Giving a dm-bufio buffer back so that it leaves dm-bufio's cache too.
 *
 * dm-bufio keeps a released clean buffer cached until it is five minutes
 * old or its cache, a share of all of the machine's RAM and not of the
 * index's budget, is full. The volume keeps the pages it wants in its own
 * page cache, which holds their buffers; every other page it reads
 * (boundary probes, copied chapter indexes) or writes (record pages,
 * repaired index pages) is dropped once done with, and so is a page the
 * page cache evicts. What the index holds is then what memory_bytes says.
 */
#ifndef DDI_BUFIO_H
#define DDI_BUFIO_H

#include <linux/dm-bufio.h>

/*
 * Release @buffer and ask dm-bufio to free it. Only a hint: a buffer that
 * another holder has, or that is dirty or under I/O, stays cached.
 */
static inline void ddi_bufio_drop(struct dm_buffer *buffer)
{
	struct dm_bufio_client *client = dm_bufio_get_client(buffer);
	sector_t block = dm_bufio_get_block_number(buffer);

	dm_bufio_release(buffer);
	dm_bufio_forget(client, block);
}

#endif /* DDI_BUFIO_H */
