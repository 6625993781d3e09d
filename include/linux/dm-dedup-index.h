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

/* How far the volume got resolving a request before it had to wait for I/O. */
enum ddi_volume_stage {
	/* Nothing known yet: look up the chapter index page first. */
	DDI_STAGE_START,
	/* priv.record_page holds the record page found on the index page. */
	DDI_STAGE_RECORD_PAGE_KNOWN,
	/* The record page was searched: found and old_data are final. */
	DDI_STAGE_RECORD_PAGE_SEARCHED,
	/* The chapter holds no entry for the name. */
	DDI_STAGE_ABSENT,
};

struct ddi_request;
typedef void (*ddi_request_callback_t)(struct ddi_request *request);

/**
 * struct ddi_request - One operation on the index.
 * @name: the record name; set by the caller.
 * @new_data: data to store; set by the caller for posts and updates.
 * @callback: called once when the request completes; set by the caller.
 * @status: 0 or a negative errno; set before @callback runs.
 * @found: whether the name was in the index.
 * @old_data: the data the index held for the name, if @found.
 * @priv: private to the index.
 */
struct ddi_request {
	struct ddi_name name;
	struct ddi_data new_data;
	ddi_request_callback_t callback;
	int status;
	bool found;
	struct ddi_data old_data;
	struct {
		struct ddi_request *next_in_read;
		u64 vcn;
		u32 zone;
		u32 record_page;
		enum ddi_volume_stage stage;
		bool requeued;
	} priv;
};

#endif /* _LINUX_DM_DEDUP_INDEX_H */
