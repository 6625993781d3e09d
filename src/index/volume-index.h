/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The volume index: for each record name, the newest virtual chapter that
 * holds it. It is a hint kept in RAM. A hit names a chapter for the caller
 * to search; the chapter confirms or denies. A rare false hit is allowed, a
 * miss for a name that was put and has not expired is not, unless the put
 * was refused for lack of room (and counted).
 *
 * Names are spread over zone_count independent sub-tables. A zone is only
 * ever touched by the one thread that owns it (the caller picks it with
 * ddi_volume_index_zone()), so the index takes no locks. Calls naming a
 * name must run on that name's zone thread; calls naming a zone on that
 * zone's thread. Only create, free, the whole-index save and load and the
 * statistics touch every zone: run them while the zone threads are idle
 * (statistics read while they run are merely approximate).
 */
#ifndef DDI_VOLUME_INDEX_H
#define DDI_VOLUME_INDEX_H

#include "geometry.h"

enum {
	DDI_VOLUME_INDEX_MAX_ZONES = 16,
	/*
	 * A chapter number is kept as its low bits, which must span a quarter
	 * more than the volume's chapters; more chapters would take entries
	 * past 32 bits.
	 */
	DDI_VOLUME_INDEX_MAX_CHAPTERS = 1 << 15,
};

struct ddi_volume_index;

/**
 * struct ddi_volume_index_stats - Counters summed over all zones.
 * @entries: table slots in use, expired entries not yet reclaimed included.
 * @collision_entries: names held whole because their tag was taken.
 * @capacity: table slots, the most entries the index can hold.
 * @expired_reclaimed: entries of chapters that left the window, freed.
 * @collisions: puts that found another name's live entry under the tag.
 * @full_rejections: puts refused because no room could be found.
 * @memory_bytes: RAM the index holds.
 */
struct ddi_volume_index_stats {
	u64 entries;
	u64 collision_entries;
	u64 capacity;
	u64 expired_reclaimed;
	u64 collisions;
	u64 full_rejections;
	u64 memory_bytes;
};

u64 ddi_volume_index_memory_needed(const struct ddi_geometry *geo, unsigned int zone_count);
int ddi_volume_index_create(const struct ddi_geometry *geo, unsigned int zone_count,
			    struct ddi_volume_index **vi_ptr);
void ddi_volume_index_free(struct ddi_volume_index *vi);

u32 ddi_volume_index_zone(const struct ddi_volume_index *vi, const struct ddi_name *name);
u32 ddi_volume_index_zone_of(const struct ddi_name *name, unsigned int zone_count);
bool ddi_volume_index_lookup(struct ddi_volume_index *vi, const struct ddi_name *name, u64 *vcn);
int ddi_volume_index_put(struct ddi_volume_index *vi, const struct ddi_name *name, u64 vcn);
int ddi_volume_index_put_collision(struct ddi_volume_index *vi, const struct ddi_name *name,
				   u64 vcn);
void ddi_volume_index_remove(struct ddi_volume_index *vi, const struct ddi_name *name);
void ddi_volume_index_set_window(struct ddi_volume_index *vi, unsigned int zone,
				 u64 oldest_vcn, u64 newest_vcn);
void ddi_volume_index_get_window(const struct ddi_volume_index *vi, unsigned int zone,
				 u64 *oldest_vcn, u64 *newest_vcn);

void ddi_volume_index_get_stats(const struct ddi_volume_index *vi,
				struct ddi_volume_index_stats *stats);
#if IS_ENABLED(CONFIG_DM_DEDUP_INDEX_KUNIT_TEST)
u64 ddi_volume_index_memory_bytes(const struct ddi_volume_index *vi);
#endif

/*
 * Saving: the whole index through a save stream (encode and decode, which
 * is how the index saves it, piece by piece with no copy of it) or into a
 * buffer, or zone by zone so that each zone thread can save its own part
 * while the others keep working. A whole save is a 40-byte header
 * followed by the zone parts in zone order, each of which load_zone() also
 * takes. Every part carries its own window and crc32.
 */
struct ddi_save_stream;
size_t ddi_volume_index_save_size(const struct ddi_volume_index *vi);
int ddi_volume_index_encode(const struct ddi_volume_index *vi, struct ddi_save_stream *s);
int ddi_volume_index_decode(struct ddi_volume_index *vi, struct ddi_save_stream *s,
			    bool apply);
#if IS_ENABLED(CONFIG_DM_DEDUP_INDEX_KUNIT_TEST)
int ddi_volume_index_save(const struct ddi_volume_index *vi, u8 *buf, size_t len);
int ddi_volume_index_load(struct ddi_volume_index *vi, const u8 *buf, size_t len);
#endif
size_t ddi_volume_index_zone_save_size(const struct ddi_volume_index *vi);
#if IS_ENABLED(CONFIG_DM_DEDUP_INDEX_KUNIT_TEST)
int ddi_volume_index_load_zone(struct ddi_volume_index *vi, unsigned int zone,
			       const u8 *buf, size_t len);
#endif

#endif /* DDI_VOLUME_INDEX_H */
