/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-dedup-index: a persistent deduplication index.
 *
 * Public types shared by the index and its users. The request API built on
 * them is declared further down as it lands.
 */
#ifndef _LINUX_DM_DEDUP_INDEX_H
#define _LINUX_DM_DEDUP_INDEX_H

#include <linux/types.h>

#define DDI_NAME_SIZE 16
#define DDI_DATA_SIZE 16

/* A record name: 16 bytes of a good hash of the content being indexed. */
struct ddi_name {
	u8 bytes[DDI_NAME_SIZE];
};

/* What the index remembers for a name, e.g. where the content lives. */
struct ddi_data {
	u8 bytes[DDI_DATA_SIZE];
};

/* One index entry; this is also its on-disk form in a record page. */
struct ddi_record {
	struct ddi_name name;
	struct ddi_data data;
};

#endif /* _LINUX_DM_DEDUP_INDEX_H */
