// SPDX-License-Identifier: GPL-2.0-only
/*
 * Module entry points for dm-dedup-index.
 */

#include <linux/module.h>

static int __init dm_dedup_index_init(void)
{
	return 0;
}

static void __exit dm_dedup_index_exit(void)
{
}

module_init(dm_dedup_index_init);
module_exit(dm_dedup_index_exit);

MODULE_DESCRIPTION("dm-dedup-index: persistent deduplication index target");
MODULE_AUTHOR("dm-dedup-index developers");
MODULE_LICENSE("GPL");
