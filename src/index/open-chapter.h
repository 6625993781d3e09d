/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The open chapter: the records posted since the last chapter was written,
 * kept in memory until the chapter closes. Each index zone owns one part of
 * it, an open chapter zone, holding the names that map to that zone. When
 * any zone fills, the parts are merged, sorted and handed to the volume.
 */
#ifndef DDI_OPEN_CHAPTER_H
#define DDI_OPEN_CHAPTER_H

#include "chapter-index.h"
#include "geometry.h"
#include "radix-sort.h"

/*
 * Counters of one zone, kept for the life of the zone (reset() keeps them).
 * Only the zone's thread writes them: read them from that thread, or while
 * the zone is quiescent.
 */
struct ddi_open_chapter_stats {
	/* Puts that stored their data, new records and overwrites alike. */
	u64 puts;
	/* Of those, puts that replaced the data of a record already there. */
	u64 overwrites;
	/* Removes that found and deleted a record. */
	u64 deletes;
	u64 searches;
	/* Searches that found the name. */
	u64 hits;
};

/*
 * One zone's part of the open chapter. It has no lock: only its zone thread
 * may touch it, except for ddi_open_chapter_close(), _save() and _load(),
 * which need every zone they are given to be quiescent, with the caller's
 * hand-off between threads ordering the memory accesses.
 */
struct ddi_open_chapter_zone;

size_t ddi_open_chapter_zone_memory_bytes(const struct ddi_geometry *geo, unsigned int zone_count);
int ddi_open_chapter_zone_create(const struct ddi_geometry *geo, unsigned int zone_count,
				 struct ddi_open_chapter_zone **zone_ptr);
void ddi_open_chapter_zone_free(struct ddi_open_chapter_zone *zone);
void ddi_open_chapter_zone_reset(struct ddi_open_chapter_zone *zone);
int ddi_open_chapter_zone_put(struct ddi_open_chapter_zone *zone, const struct ddi_name *name,
			      const struct ddi_data *data, bool *full);
bool ddi_open_chapter_zone_search(struct ddi_open_chapter_zone *zone,
				  const struct ddi_name *name, struct ddi_data *data);
void ddi_open_chapter_zone_remove(struct ddi_open_chapter_zone *zone,
				  const struct ddi_name *name);
#if IS_ENABLED(CONFIG_DM_DEDUP_INDEX_KUNIT_TEST)
u32 ddi_open_chapter_zone_count(const struct ddi_open_chapter_zone *zone);
u32 ddi_open_chapter_zone_capacity(const struct ddi_open_chapter_zone *zone);
#endif
bool ddi_open_chapter_zone_full(const struct ddi_open_chapter_zone *zone);
#if IS_ENABLED(CONFIG_DM_DEDUP_INDEX_KUNIT_TEST)
void ddi_open_chapter_zone_get_stats(const struct ddi_open_chapter_zone *zone,
				     struct ddi_open_chapter_stats *stats);
#endif

int ddi_open_chapter_close(struct ddi_open_chapter_zone *zones[], unsigned int zone_count,
			   u64 vcn, struct ddi_record *records, u32 *record_count,
			   struct ddi_open_chapter_index *oci, struct ddi_radix_sorter *sorter,
			   const struct ddi_record **scratch);

/*
 * The saved form of an open chapter, all fields little-endian:
 *
 *   0  magic    "DDIOPCH1"
 *   8  vcn      the virtual chapter the records were collected for
 *  16  count    records that follow
 *  20  crc      crc32_le of the header, with this field taken as zero, and
 *               of the records
 *  24  records  count records, each its 16-byte name then its 16-byte data
 */
enum {
	DDI_OC_SAVE_VCN = 8,
	DDI_OC_SAVE_COUNT = 16,
	DDI_OC_SAVE_CRC = 20,
	DDI_OC_SAVE_RECORDS = 24,
};

#define DDI_OC_SAVE_MAGIC "DDIOPCH1"
#define DDI_OC_SAVE_MAGIC_BYTES 8

/* Which of @zone_count zones a name belongs to; must be below @zone_count. */
typedef u32 (*ddi_zone_of_t)(const struct ddi_name *name, unsigned int zone_count);

struct ddi_save_stream;

size_t ddi_open_chapter_save_size(const struct ddi_geometry *geo);
int ddi_open_chapter_encode(struct ddi_open_chapter_zone *zones[], unsigned int zone_count,
			    u64 vcn, struct ddi_save_stream *s, size_t size);
int ddi_open_chapter_decode(struct ddi_open_chapter_zone *zones[], unsigned int zone_count,
			    ddi_zone_of_t zone_of, struct ddi_save_stream *s, size_t size,
			    bool apply, u64 *vcn, u32 *dropped);
#if IS_ENABLED(CONFIG_DM_DEDUP_INDEX_KUNIT_TEST)
u32 ddi_open_chapter_save_crc(const u8 *buffer, u32 count);
int ddi_open_chapter_save(struct ddi_open_chapter_zone *zones[], unsigned int zone_count,
			  u64 vcn, u8 *buffer, size_t size, size_t *length);
int ddi_open_chapter_load(struct ddi_open_chapter_zone *zones[], unsigned int zone_count,
			  ddi_zone_of_t zone_of, const u8 *buffer, size_t size, u64 *vcn,
			  u32 *dropped);
#endif

#endif /* DDI_OPEN_CHAPTER_H */
