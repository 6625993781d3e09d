/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The dedup-index device-mapper target, as the module entry points see it.
 */
#ifndef DDI_TARGET_H
#define DDI_TARGET_H

int ddi_target_register(void);
void ddi_target_unregister(void);

#endif /* DDI_TARGET_H */
