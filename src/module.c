// SPDX-License-Identifier: GPL-2.0-only
/*
 * Module entry points for dm-dedup-index.
 */

#include <linux/module.h>

#include "target.h"

static int __init dm_dedup_index_init(void)
{
	return ddi_target_register();
}

static void __exit dm_dedup_index_exit(void)
{
	ddi_target_unregister();
}

module_init(dm_dedup_index_init);
module_exit(dm_dedup_index_exit);

MODULE_DESCRIPTION("dm-dedup-index: persistent deduplication index target");
MODULE_AUTHOR("dm-dedup-index developers");
MODULE_LICENSE("GPL");
