/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A statistics counter that one thread writes and others read: the owning
 * zone thread updates it with WRITE_ONCE() and the stats readers use
 * READ_ONCE(), so that neither access is torn or merged by the compiler and
 * KCSAN sees the race as intended. No ordering with other fields is implied
 * or needed: each counter is exact, a set of them is not a snapshot.
 */
#ifndef DDI_STAT_COUNTER_H
#define DDI_STAT_COUNTER_H

#include <linux/compiler.h>

/* Add @delta (which may be negative) to @field, owned by the calling thread. */
#define ddi_stat_add(field, delta)			\
	do {						\
		typeof(field) *__ddi_stat = &(field);	\
							\
		WRITE_ONCE(*__ddi_stat, *__ddi_stat + (delta)); \
	} while (0)

#endif /* DDI_STAT_COUNTER_H */
