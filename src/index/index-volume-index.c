// SPDX-License-Identifier: GPL-2.0-only
/*
 * The index's volume index, in one part for a dense volume and in two for
 * a sparse one: every name but hooks for the newest (dense) chapters, and
 * the hooks for all chapters. Each part is a volume index of its own
 * (volume-index.c), sized by the chapters it spans and the names it
 * holds (ddi_geometry_volume_index_part()), with its own window: the
 * part of the dense chapters moves its window past a chapter as soon as
 * the chapter turns sparse, and so forgets its names but for the hooks.
 * A name is in one part only, chosen by ddi_index_volume_index().
 */

#include "index.h"

/**
 * ddi_index_volume_index_bytes() - RAM the volume index of a shape takes.
 * @geo: the volume geometry.
 * @zone_count: zones it is split into.
 *
 * Return: the bytes of both parts and of the sparse cache, or 0 if either
 * part would refuse the shape for @zone_count zones.
 */
u64 ddi_index_volume_index_bytes(const struct ddi_geometry *geo, unsigned int zone_count)
{
	struct ddi_geometry part;
	u64 dense, hooks;

	ddi_geometry_volume_index_part(geo, false, &part);
	dense = ddi_volume_index_memory_needed(&part, zone_count);
	if (!ddi_geometry_is_sparse(geo) || !dense)
		return dense;
	ddi_geometry_volume_index_part(geo, true, &part);
	hooks = ddi_volume_index_memory_needed(&part, zone_count);
	return hooks ? dense + hooks + ddi_sparse_cache_memory_bytes(geo) : 0;
}

/**
 * ddi_index_volume_index_create() - Make the index's empty volume index.
 * @index: the index, with its geometry, zone count and volume set up; its
 *	volume index parts (if any) are freed first.
 *
 * Return: 0; -EINVAL if a part is too large for the zone count; -ENOMEM.
 */
int ddi_index_volume_index_create(struct ddi_index *index)
{
	struct ddi_geometry part;
	int ret;

	ddi_volume_index_free(index->volume_index);
	ddi_volume_index_free(index->hook_index);
	index->volume_index = NULL;
	index->hook_index = NULL;
	ddi_geometry_volume_index_part(&index->geo, false, &part);
	ret = ddi_volume_index_create(&part, index->zone_count, &index->volume_index);
	if (ret || !ddi_geometry_is_sparse(&index->geo))
		return ret;
	ddi_geometry_volume_index_part(&index->geo, true, &part);
	return ddi_volume_index_create(&part, index->zone_count, &index->hook_index);
}

/**
 * ddi_index_volume_index_set_window() - Move a zone's window in every part.
 * @index: the index.
 * @zone: the zone; call on its thread, or while no zone thread runs.
 * @oldest_vcn: the oldest chapter still in the volume.
 * @newest_vcn: the open chapter.
 *
 * The part of the dense chapters narrows the window to its own chapters.
 */
void ddi_index_volume_index_set_window(struct ddi_index *index, unsigned int zone,
				       u64 oldest_vcn, u64 newest_vcn)
{
	ddi_volume_index_set_window(index->volume_index, zone, oldest_vcn, newest_vcn);
	if (index->hook_index)
		ddi_volume_index_set_window(index->hook_index, zone, oldest_vcn, newest_vcn);
}
