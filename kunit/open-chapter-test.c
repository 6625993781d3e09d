// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the open chapter: zones checked against a plain model of
 * what they should hold, closing into a sorted chapter whose index finds
 * every record's page, and saving and loading across zone counts.
 */

#include <kunit/test.h>
#include <linux/prandom.h>
#include <linux/slab.h>
#include <linux/unaligned.h>
#include <linux/vmalloc.h>

#include "open-chapter.h"

#define TEST_NONCE 0x5eed0f0c4a9e7e11ULL
#define MAX_TEST_ZONES 8

/* The index's zone function as the tests assume it: name bytes 12..15. */
static u32 test_zone_of(const struct ddi_name *name, unsigned int zone_count)
{
	return get_unaligned_le32(name->bytes + 12) % zone_count;
}

static u32 bad_zone_of(const struct ddi_name *name, unsigned int zone_count)
{
	return zone_count;
}

static struct ddi_open_chapter_zone *zone_for(struct ddi_open_chapter_zone **zones,
					      unsigned int zone_count,
					      const struct ddi_name *name)
{
	return zones[test_zone_of(name, zone_count)];
}

static void free_zone(void *arg)
{
	ddi_open_chapter_zone_free(arg);
}

static void free_vmem(void *arg)
{
	vfree(arg);
}

static void free_oci(void *arg)
{
	ddi_open_chapter_index_free(arg);
}

static void free_sorter(void *arg)
{
	ddi_radix_sorter_free(arg);
}

static void *test_vzalloc(struct kunit *test, size_t size)
{
	void *p = vzalloc(size);

	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_vmem, p));
	return p;
}

static struct ddi_geometry *make_geometry(struct kunit *test, u32 record_pages)
{
	struct ddi_geometry *geo = kunit_kzalloc(test, sizeof(*geo), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, geo);
	KUNIT_ASSERT_EQ(test, 0, ddi_geometry_init(geo, record_pages, 4));
	return geo;
}

static struct ddi_open_chapter_zone **make_zones(struct kunit *test,
						 const struct ddi_geometry *geo,
						 unsigned int zone_count)
{
	struct ddi_open_chapter_zone **zones;
	unsigned int z;

	zones = kunit_kcalloc(test, zone_count, sizeof(*zones), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, zones);
	for (z = 0; z < zone_count; z++) {
		KUNIT_ASSERT_EQ(test, 0, ddi_open_chapter_zone_create(geo, zone_count, &zones[z]));
		KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_zone, zones[z]));
		KUNIT_EXPECT_EQ(test, ddi_open_chapter_zone_capacity(zones[z]),
				geo->records_per_chapter / zone_count);
	}
	return zones;
}

/* What ddi_open_chapter_close() needs, made once as an index would. */
struct closer {
	const struct ddi_geometry *geo;
	struct ddi_record *records;
	const struct ddi_record **scratch;
	struct ddi_radix_sorter *sorter;
	struct ddi_open_chapter_index *oci;
	u32 count;
};

static struct closer *make_closer(struct kunit *test, const struct ddi_geometry *geo)
{
	struct closer *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	u32 n = geo->records_per_chapter;

	KUNIT_ASSERT_NOT_NULL(test, c);
	c->geo = geo;
	c->records = test_vzalloc(test, sizeof(*c->records) * n);
	c->scratch = test_vzalloc(test, sizeof(*c->scratch) * n);
	KUNIT_ASSERT_EQ(test, 0, ddi_radix_sorter_create(n, &c->sorter));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_sorter, c->sorter));
	KUNIT_ASSERT_EQ(test, 0, ddi_open_chapter_index_create(geo, &c->oci));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_oci, c->oci));
	return c;
}

static void close_chapter(struct kunit *test, struct closer *c,
			  struct ddi_open_chapter_zone **zones, unsigned int zone_count, u64 vcn)
{
	KUNIT_ASSERT_EQ(test, 0, ddi_open_chapter_close(zones, zone_count, vcn, c->records,
							&c->count, c->oci, c->sorter,
							c->scratch));
}

static int compare_names(const struct ddi_name *a, const struct ddi_name *b)
{
	return memcmp(a->bytes, b->bytes, DDI_NAME_SIZE);
}

/* Binary search of a closed chapter's records; NULL if the name is absent. */
static const struct ddi_record *find_closed(const struct closer *c, const struct ddi_name *name)
{
	u32 low = 0, high = c->count;

	while (low < high) {
		u32 mid = low + (high - low) / 2;
		int cmp = compare_names(&c->records[mid].name, name);

		if (cmp == 0)
			return &c->records[mid];
		if (cmp < 0)
			low = mid + 1;
		else
			high = mid;
	}
	return NULL;
}

static void expect_sorted_unique(struct kunit *test, const struct closer *c)
{
	u32 i, out_of_order = 0;

	for (i = 1; i < c->count; i++) {
		if (compare_names(&c->records[i - 1].name, &c->records[i].name) >= 0)
			out_of_order++;
	}
	KUNIT_EXPECT_EQ(test, out_of_order, 0U);
}

static void random_records(struct rnd_state *rnd, struct ddi_record *records, u32 count)
{
	prandom_bytes_state(rnd, records, sizeof(*records) * count);
}

static void expect_holds(struct kunit *test, struct ddi_open_chapter_zone *zone,
			 const struct ddi_record *record)
{
	struct ddi_data data;

	KUNIT_ASSERT_TRUE(test, ddi_open_chapter_zone_search(zone, &record->name, &data));
	KUNIT_EXPECT_MEMEQ(test, &data, &record->data, sizeof(data));
}

/*
 * Put @records into the zones their names pick until one zone fills.
 * Returns how many were put; all of them are in the zones.
 */
static u32 fill_until_full(struct kunit *test, struct ddi_open_chapter_zone **zones,
			   unsigned int zone_count, const struct ddi_record *records, u32 count)
{
	u32 i;

	for (i = 0; i < count; i++) {
		struct ddi_open_chapter_zone *zone = zone_for(zones, zone_count, &records[i].name);
		bool full;

		KUNIT_ASSERT_EQ(test, 0, ddi_open_chapter_zone_put(zone, &records[i].name,
								   &records[i].data, &full));
		if (full)
			return i + 1;
	}
	return count;
}

static void open_chapter_put_search_overwrite_remove(struct kunit *test)
{
	const struct ddi_geometry *geo = make_geometry(test, 4);
	struct ddi_open_chapter_zone *zone = make_zones(test, geo, 1)[0];
	struct ddi_record *records = test_vzalloc(test, sizeof(*records) * 200);
	struct ddi_data data;
	struct rnd_state rnd;
	bool full;
	u32 i;

	prandom_seed_state(&rnd, 1);
	random_records(&rnd, records, 200);
	for (i = 0; i < 150; i++) {
		KUNIT_ASSERT_EQ(test, 0, ddi_open_chapter_zone_put(zone, &records[i].name,
								   &records[i].data, &full));
		KUNIT_EXPECT_FALSE(test, full);
	}
	KUNIT_EXPECT_EQ(test, ddi_open_chapter_zone_count(zone), 150U);
	for (i = 0; i < 150; i++)
		expect_holds(test, zone, &records[i]);
	for (i = 150; i < 200; i++)
		KUNIT_EXPECT_FALSE(test, ddi_open_chapter_zone_search(zone, &records[i].name,
								      NULL));

	/* Overwriting keeps one record per name, with the newest data. */
	for (i = 0; i < 30; i++) {
		records[i].data.bytes[0] ^= 0xff;
		KUNIT_ASSERT_EQ(test, 0, ddi_open_chapter_zone_put(zone, &records[i].name,
								   &records[i].data, &full));
	}
	KUNIT_EXPECT_EQ(test, ddi_open_chapter_zone_count(zone), 150U);
	for (i = 0; i < 150; i++)
		expect_holds(test, zone, &records[i]);

	/* Removed names are gone; the others survive the records moving. */
	for (i = 30; i < 60; i++)
		ddi_open_chapter_zone_remove(zone, &records[i].name);
	ddi_open_chapter_zone_remove(zone, &records[199].name);
	KUNIT_EXPECT_EQ(test, ddi_open_chapter_zone_count(zone), 120U);
	for (i = 0; i < 150; i++) {
		if (i >= 30 && i < 60)
			KUNIT_EXPECT_FALSE(test, ddi_open_chapter_zone_search(zone,
									      &records[i].name,
									      &data));
		else
			expect_holds(test, zone, &records[i]);
	}

	/* A removed name can come back. */
	for (i = 30; i < 40; i++)
		KUNIT_ASSERT_EQ(test, 0, ddi_open_chapter_zone_put(zone, &records[i].name,
								   &records[i].data, &full));
	KUNIT_EXPECT_EQ(test, ddi_open_chapter_zone_count(zone), 130U);
	for (i = 30; i < 40; i++)
		expect_holds(test, zone, &records[i]);

	ddi_open_chapter_zone_reset(zone);
	KUNIT_EXPECT_EQ(test, ddi_open_chapter_zone_count(zone), 0U);
	for (i = 0; i < 200; i++)
		KUNIT_EXPECT_FALSE(test, ddi_open_chapter_zone_search(zone, &records[i].name,
								      NULL));
}

static void open_chapter_counts_operations(struct kunit *test)
{
	/* 127 zones over a one-page chapter: each zone holds one record. */
	const struct ddi_geometry *geo = make_geometry(test, 1);
	struct ddi_open_chapter_zone *zone = make_zones(test, geo, 127)[0];
	struct ddi_open_chapter_stats stats;
	struct ddi_record records[2];
	struct rnd_state rnd;
	bool full;

	prandom_seed_state(&rnd, 2);
	random_records(&rnd, records, 2);
	KUNIT_EXPECT_EQ(test, 0, ddi_open_chapter_zone_put(zone, &records[0].name,
							   &records[0].data, &full));
	KUNIT_EXPECT_EQ(test, -ENOSPC, ddi_open_chapter_zone_put(zone, &records[1].name,
								 &records[1].data, &full));
	KUNIT_EXPECT_EQ(test, 0, ddi_open_chapter_zone_put(zone, &records[0].name,
							   &records[1].data, &full));
	KUNIT_EXPECT_TRUE(test, ddi_open_chapter_zone_search(zone, &records[0].name, NULL));
	KUNIT_EXPECT_FALSE(test, ddi_open_chapter_zone_search(zone, &records[1].name, NULL));
	ddi_open_chapter_zone_remove(zone, &records[1].name);
	ddi_open_chapter_zone_remove(zone, &records[0].name);
	ddi_open_chapter_zone_reset(zone);

	ddi_open_chapter_zone_get_stats(zone, &stats);
	KUNIT_EXPECT_EQ(test, stats.puts, 2ULL);
	KUNIT_EXPECT_EQ(test, stats.overwrites, 1ULL);
	KUNIT_EXPECT_EQ(test, stats.deletes, 1ULL);
	KUNIT_EXPECT_EQ(test, stats.searches, 2ULL);
	KUNIT_EXPECT_EQ(test, stats.hits, 1ULL);
}

static void open_chapter_fills_exactly_at_capacity(struct kunit *test)
{
	const struct ddi_geometry *geo = make_geometry(test, 2);
	struct ddi_open_chapter_zone *zone = make_zones(test, geo, 3)[0];
	struct ddi_open_chapter_zone *refused = NULL;
	u32 capacity = 2 * DDI_RECORDS_PER_PAGE / 3;
	struct ddi_record *records = test_vzalloc(test, sizeof(*records) * (capacity + 1));
	struct rnd_state rnd;
	bool full;
	u32 i;

	KUNIT_ASSERT_EQ(test, ddi_open_chapter_zone_capacity(zone), capacity);
	prandom_seed_state(&rnd, 3);
	random_records(&rnd, records, capacity + 1);
	for (i = 0; i < capacity; i++) {
		KUNIT_ASSERT_EQ(test, 0, ddi_open_chapter_zone_put(zone, &records[i].name,
								   &records[i].data, &full));
		KUNIT_EXPECT_EQ(test, full, i + 1 == capacity);
		KUNIT_EXPECT_EQ(test, ddi_open_chapter_zone_full(zone), i + 1 == capacity);
	}

	/* Full: a new name is refused, an old one still updated. */
	full = false;
	KUNIT_EXPECT_EQ(test, -ENOSPC, ddi_open_chapter_zone_put(zone, &records[capacity].name,
								 &records[capacity].data, &full));
	KUNIT_EXPECT_TRUE(test, full);
	KUNIT_EXPECT_FALSE(test, ddi_open_chapter_zone_search(zone, &records[capacity].name,
							      NULL));
	KUNIT_EXPECT_EQ(test, ddi_open_chapter_zone_count(zone), capacity);
	records[5].data = records[capacity].data;
	KUNIT_EXPECT_EQ(test, 0, ddi_open_chapter_zone_put(zone, &records[5].name,
							   &records[5].data, &full));
	KUNIT_EXPECT_TRUE(test, full);
	expect_holds(test, zone, &records[5]);

	/* Removing a record makes room for one more. */
	ddi_open_chapter_zone_remove(zone, &records[7].name);
	KUNIT_EXPECT_FALSE(test, ddi_open_chapter_zone_full(zone));
	KUNIT_EXPECT_EQ(test, 0, ddi_open_chapter_zone_put(zone, &records[capacity].name,
							   &records[capacity].data, &full));
	KUNIT_EXPECT_TRUE(test, full);
	expect_holds(test, zone, &records[capacity]);

	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_open_chapter_zone_create(geo, 0, &refused));
	KUNIT_EXPECT_EQ(test, -EINVAL,
			ddi_open_chapter_zone_create(geo, geo->records_per_chapter + 1, &refused));
	KUNIT_EXPECT_NULL(test, refused);
}

/*
 * Random puts, removes and searches checked against a plain table. Half
 * the names are built to fold to the same hash input, so they share one
 * bucket and their chain is long: removals from the middle of a chain and
 * moves of records within it get exercised, not just short chains.
 */
static void open_chapter_matches_model_under_churn(struct kunit *test)
{
	const struct ddi_geometry *geo = make_geometry(test, 2);
	struct ddi_open_chapter_zone *zone = make_zones(test, geo, 1)[0];
	u32 capacity = ddi_open_chapter_zone_capacity(zone);
	u32 pool = 3 * capacity, live = 0, i, op;
	struct ddi_record *records = test_vzalloc(test, sizeof(*records) * pool);
	bool *present = test_vzalloc(test, sizeof(*present) * pool);
	struct rnd_state rnd;

	prandom_seed_state(&rnd, 4);
	random_records(&rnd, records, pool);
	for (i = 0; i < pool; i += 2) {
		u64 low = get_unaligned_le64(records[i].name.bytes);

		put_unaligned_le64(rol64(low ^ 0x1234, 32), records[i].name.bytes + 8);
	}

	for (op = 0; op < 40000; op++) {
		u32 r = prandom_u32_state(&rnd) % pool;
		u32 what = prandom_u32_state(&rnd) % 3;
		struct ddi_data data;
		bool full;
		int ret;

		if (what == 0) {
			prandom_bytes_state(&rnd, &records[r].data, sizeof(records[r].data));
			ret = ddi_open_chapter_zone_put(zone, &records[r].name, &records[r].data,
							&full);
			if (!present[r] && live == capacity) {
				KUNIT_ASSERT_EQ(test, ret, -ENOSPC);
				continue;
			}
			KUNIT_ASSERT_EQ(test, ret, 0);
			live += !present[r];
			present[r] = true;
			KUNIT_ASSERT_EQ(test, full, live == capacity);
		} else if (what == 1) {
			ddi_open_chapter_zone_remove(zone, &records[r].name);
			live -= present[r];
			present[r] = false;
		} else {
			KUNIT_ASSERT_EQ(test, present[r],
					ddi_open_chapter_zone_search(zone, &records[r].name,
								     &data));
			if (present[r])
				KUNIT_ASSERT_MEMEQ(test, &data, &records[r].data, sizeof(data));
		}
		KUNIT_ASSERT_EQ(test, ddi_open_chapter_zone_count(zone), live);
	}
	for (i = 0; i < pool; i++)
		KUNIT_EXPECT_EQ(test, present[i],
				ddi_open_chapter_zone_search(zone, &records[i].name, NULL));
}

static void open_chapter_close_sorts_live_records_once(struct kunit *test)
{
	const struct ddi_geometry *geo = make_geometry(test, 8);
	struct ddi_open_chapter_zone *zone = make_zones(test, geo, 1)[0];
	struct closer *c = make_closer(test, geo);
	u32 n = geo->records_per_chapter;
	struct ddi_record *records = test_vzalloc(test, sizeof(*records) * n);
	struct rnd_state rnd;
	bool full;
	u32 i;

	prandom_seed_state(&rnd, 5);
	random_records(&rnd, records, n);
	KUNIT_ASSERT_EQ(test, fill_until_full(test, &zone, 1, records, n), n);
	/* Remove every seventh record, overwrite every fifth. */
	for (i = 0; i < n; i += 7)
		ddi_open_chapter_zone_remove(zone, &records[i].name);
	for (i = 0; i < n; i += 5) {
		records[i].data.bytes[3] ^= 0x5a;
		if (i % 7)
			KUNIT_ASSERT_EQ(test, 0, ddi_open_chapter_zone_put(zone, &records[i].name,
									   &records[i].data,
									   &full));
	}

	close_chapter(test, c, &zone, 1, 77);
	KUNIT_EXPECT_EQ(test, c->count, n - DIV_ROUND_UP(n, 7));
	KUNIT_EXPECT_EQ(test, ddi_open_chapter_zone_count(zone), c->count);
	KUNIT_EXPECT_EQ(test, ddi_open_chapter_index_vcn(c->oci), 77ULL);
	expect_sorted_unique(test, c);
	for (i = 0; i < n; i++) {
		const struct ddi_record *closed = find_closed(c, &records[i].name);

		if (i % 7 == 0) {
			KUNIT_EXPECT_NULL(test, closed);
			continue;
		}
		KUNIT_ASSERT_NOT_NULL(test, closed);
		KUNIT_EXPECT_MEMEQ(test, &closed->data, &records[i].data, sizeof(closed->data));
	}
}

/*
 * Pack the chapter index that closing built, as the volume would, and
 * check that it sends every name to the record page that holds it.
 */
static void open_chapter_close_indexes_every_record_page(struct kunit *test)
{
	const struct ddi_geometry *geo = make_geometry(test, 16);
	struct ddi_open_chapter_zone **zones = make_zones(test, geo, 2);
	struct closer *c = make_closer(test, geo);
	u32 n = geo->records_per_chapter, pages = geo->index_pages_per_chapter;
	struct ddi_record *records = test_vzalloc(test, sizeof(*records) * n);
	u8 *data = test_vzalloc(test, (size_t)pages * geo->bytes_per_page);
	struct ddi_index_page *index_pages = test_vzalloc(test, sizeof(*index_pages) * pages);
	u32 *first_list = test_vzalloc(test, sizeof(*first_list) * (pages + 1));
	u32 page, next = 0, i, wrong = 0;
	struct rnd_state rnd;

	prandom_seed_state(&rnd, 6);
	random_records(&rnd, records, n);
	fill_until_full(test, zones, 2, records, n);
	close_chapter(test, c, zones, 2, 12345);
	KUNIT_ASSERT_EQ(test, c->count, ddi_open_chapter_zone_count(zones[0]) +
			ddi_open_chapter_zone_count(zones[1]));
	/* One zone filled, so at least half a chapter. */
	KUNIT_ASSERT_GE(test, c->count, n / 2);

	for (page = 0; page < pages; page++) {
		u8 *bytes = data + (size_t)page * geo->bytes_per_page;
		u32 packed;

		first_list[page] = next;
		KUNIT_ASSERT_EQ(test, 0, ddi_open_chapter_index_pack_page(c->oci, bytes,
									  TEST_NONCE, next,
									  page + 1 == pages,
									  &packed));
		next += packed;
		KUNIT_ASSERT_EQ(test, 0, ddi_chapter_index_page_init(&index_pages[page], geo, bytes,
								     TEST_NONCE));
		KUNIT_EXPECT_EQ(test, index_pages[page].vcn, 12345ULL);
	}
	first_list[pages] = next;
	KUNIT_ASSERT_EQ(test, next, geo->delta_lists_per_chapter);
	KUNIT_EXPECT_EQ(test, ddi_open_chapter_index_dropped(c->oci), 0U);

	for (i = 0; i < c->count; i++) {
		const struct ddi_name *name = &c->records[i].name;
		u32 list = ddi_geometry_delta_list(geo, name);
		u32 record_page;

		page = 0;
		while (first_list[page + 1] <= list)
			page++;
		KUNIT_ASSERT_EQ(test, 0, ddi_chapter_index_page_search(&index_pages[page], geo,
								       name,
								       &record_page));
		if (record_page != i / geo->records_per_page)
			wrong++;
	}
	KUNIT_EXPECT_EQ(test, wrong, 0U);
}

static void open_chapter_close_merges_zones(struct kunit *test)
{
	const struct ddi_geometry *geo = make_geometry(test, 8);
	struct ddi_open_chapter_zone **zones = make_zones(test, geo, 4);
	struct closer *c = make_closer(test, geo);
	u32 n = geo->records_per_chapter, put, i, total = 0;
	struct ddi_record *records = test_vzalloc(test, sizeof(*records) * n);
	struct rnd_state rnd;
	unsigned int z;

	/* Nothing posted: an empty chapter. */
	close_chapter(test, c, zones, 4, 1);
	KUNIT_EXPECT_EQ(test, c->count, 0U);

	prandom_seed_state(&rnd, 7);
	random_records(&rnd, records, n);
	put = fill_until_full(test, zones, 4, records, n);
	for (i = 0; i < put; i += 3)
		ddi_open_chapter_zone_remove(zone_for(zones, 4, &records[i].name),
					     &records[i].name);
	for (z = 0; z < 4; z++)
		total += ddi_open_chapter_zone_count(zones[z]);
	KUNIT_EXPECT_EQ(test, total, put - DIV_ROUND_UP(put, 3));

	close_chapter(test, c, zones, 4, 2);
	KUNIT_EXPECT_EQ(test, c->count, total);
	expect_sorted_unique(test, c);
	for (i = 0; i < put; i++) {
		const struct ddi_record *closed = find_closed(c, &records[i].name);

		if (i % 3 == 0) {
			KUNIT_EXPECT_NULL(test, closed);
		} else {
			KUNIT_ASSERT_NOT_NULL(test, closed);
			KUNIT_EXPECT_MEMEQ(test, &closed->data, &records[i].data,
					   sizeof(closed->data));
		}
	}
	/* Names never put are not in the chapter either. */
	for (i = put; i < n; i++)
		KUNIT_EXPECT_NULL(test, find_closed(c, &records[i].name));
}

struct saved {
	u8 *buffer;
	size_t size;
	size_t length;
};

static struct saved *save_zones(struct kunit *test, struct ddi_open_chapter_zone **zones,
				unsigned int zone_count, u64 vcn)
{
	const size_t spare = 64;
	struct saved *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	u32 total = 0;
	unsigned int z;

	KUNIT_ASSERT_NOT_NULL(test, s);
	for (z = 0; z < zone_count; z++)
		total += ddi_open_chapter_zone_count(zones[z]);
	s->size = DDI_OC_SAVE_RECORDS + (size_t)total * sizeof(struct ddi_record) + spare;
	s->buffer = test_vzalloc(test, s->size);
	KUNIT_ASSERT_EQ(test, 0, ddi_open_chapter_save(zones, zone_count, vcn, s->buffer,
						       s->size, &s->length));
	KUNIT_EXPECT_EQ(test, s->length, s->size - spare);
	return s;
}

static void expect_zones_hold(struct kunit *test, struct ddi_open_chapter_zone **zones,
			      unsigned int zone_count, const struct ddi_record *records,
			      u32 count)
{
	u32 i, total = 0;
	unsigned int z;

	for (i = 0; i < count; i++) {
		const struct ddi_name *name = &records[i].name;
		struct ddi_open_chapter_zone *home = zone_for(zones, zone_count, name);

		for (z = 0; z < zone_count; z++) {
			struct ddi_open_chapter_zone *zone = zones[z];
			bool found = ddi_open_chapter_zone_search(zone, name, NULL);

			if (zone == home)
				expect_holds(test, zone, &records[i]);
			else
				KUNIT_EXPECT_FALSE(test, found);
		}
	}
	for (z = 0; z < zone_count; z++)
		total += ddi_open_chapter_zone_count(zones[z]);
	KUNIT_EXPECT_EQ(test, total, count);
}

static void open_chapter_save_load_round_trip(struct kunit *test)
{
	const struct ddi_geometry *geo = make_geometry(test, 4);
	struct ddi_open_chapter_zone **zones = make_zones(test, geo, 3);
	struct ddi_open_chapter_zone **loaded = make_zones(test, geo, 3);
	struct closer *before = make_closer(test, geo), *after = make_closer(test, geo);
	struct ddi_record *records = test_vzalloc(test, sizeof(*records) * 400);
	struct ddi_record stale;
	struct rnd_state rnd;
	struct saved *s;
	size_t length;
	u32 dropped, i;
	bool full;
	u64 vcn;

	prandom_seed_state(&rnd, 8);
	random_records(&rnd, records, 400);
	KUNIT_ASSERT_EQ(test, fill_until_full(test, zones, 3, records, 400), 400U);
	/* Keep only the first 300 records live. */
	for (i = 300; i < 400; i++)
		ddi_open_chapter_zone_remove(zone_for(zones, 3, &records[i].name),
					     &records[i].name);

	s = save_zones(test, zones, 3, 0x123456789ULL);
	KUNIT_EXPECT_EQ(test, -ENOSPC, ddi_open_chapter_save(zones, 3, 1, s->buffer,
							     s->length - 1, &length));

	/* Whatever the zones held before loading is replaced. */
	random_records(&rnd, &stale, 1);
	KUNIT_ASSERT_EQ(test, 0, ddi_open_chapter_zone_put(loaded[0], &stale.name, &stale.data,
							   &full));
	KUNIT_ASSERT_EQ(test, 0, ddi_open_chapter_load(loaded, 3, test_zone_of, s->buffer,
						       s->length, &vcn, &dropped));
	KUNIT_EXPECT_EQ(test, vcn, 0x123456789ULL);
	KUNIT_EXPECT_EQ(test, dropped, 0U);
	KUNIT_EXPECT_FALSE(test, ddi_open_chapter_zone_search(loaded[0], &stale.name, NULL));
	expect_zones_hold(test, loaded, 3, records, 300);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, ddi_open_chapter_zone_count(loaded[i]),
				ddi_open_chapter_zone_count(zones[i]));

	/* The same chapter closes out of either set of zones. */
	close_chapter(test, before, zones, 3, vcn);
	close_chapter(test, after, loaded, 3, vcn);
	KUNIT_ASSERT_EQ(test, before->count, 300U);
	KUNIT_ASSERT_EQ(test, after->count, 300U);
	KUNIT_EXPECT_MEMEQ(test, before->records, after->records,
			   sizeof(*before->records) * before->count);
}

static void expect_untouched(struct kunit *test, struct ddi_open_chapter_zone **zones,
			     const struct ddi_record *sentinels, const struct ddi_record *saved)
{
	struct ddi_open_chapter_zone *home = zone_for(zones, 2, &saved->name);

	expect_zones_hold(test, zones, 2, sentinels, 4);
	KUNIT_EXPECT_FALSE(test, ddi_open_chapter_zone_search(home, &saved->name, NULL));
}

static void open_chapter_load_refuses_damage(struct kunit *test)
{
	const struct ddi_geometry *geo = make_geometry(test, 4);
	struct ddi_open_chapter_zone *source = make_zones(test, geo, 1)[0];
	struct ddi_open_chapter_zone **zones = make_zones(test, geo, 2);
	struct ddi_record *records = test_vzalloc(test, sizeof(*records) * 104);
	size_t big = ddi_open_chapter_save_size(geo) + sizeof(struct ddi_record);
	u8 *copy = test_vzalloc(test, big);
	struct rnd_state rnd;
	struct saved *s;
	u32 dropped, i, count;
	bool full;
	u64 vcn;

	prandom_seed_state(&rnd, 9);
	random_records(&rnd, records, 104);
	fill_until_full(test, &source, 1, records, 100);
	s = save_zones(test, &source, 1, 42);
	/* The target zones hold four other records that must survive. */
	for (i = 100; i < 104; i++)
		KUNIT_ASSERT_EQ(test, 0, ddi_open_chapter_zone_put(zone_for(zones, 2,
									    &records[i].name),
								   &records[i].name,
								   &records[i].data, &full));

	for (i = 0; i < 300; i++) {
		u32 bit = prandom_u32_state(&rnd) % (s->length * 8);

		memcpy(copy, s->buffer, s->length);
		copy[bit / 8] ^= 1 << (bit % 8);
		KUNIT_EXPECT_EQ_MSG(test, -EBADMSG,
				    ddi_open_chapter_load(zones, 2, test_zone_of, copy, s->length,
							  &vcn, &dropped),
				    "bit %u flipped", bit);
	}
	expect_untouched(test, zones, &records[100], &records[0]);

	/* Short buffers. */
	KUNIT_EXPECT_EQ(test, -EBADMSG, ddi_open_chapter_load(zones, 2, test_zone_of, s->buffer,
							      s->length - 1, &vcn, &dropped));
	KUNIT_EXPECT_EQ(test, -EBADMSG, ddi_open_chapter_load(zones, 2, test_zone_of, s->buffer,
							      DDI_OC_SAVE_RECORDS - 1, &vcn,
							      &dropped));
	KUNIT_EXPECT_EQ(test, -EBADMSG, ddi_open_chapter_load(zones, 2, test_zone_of, s->buffer,
							      0, &vcn, &dropped));

	/* Not a saved open chapter, though its checksum is right. */
	memcpy(copy, s->buffer, s->length);
	copy[0] ^= 0x20;
	put_unaligned_le32(ddi_open_chapter_save_crc(copy, 100), copy + DDI_OC_SAVE_CRC);
	KUNIT_EXPECT_EQ(test, -EBADMSG, ddi_open_chapter_load(zones, 2, test_zone_of, copy,
							      s->length, &vcn, &dropped));

	/* More records than any chapter holds, in a buffer long enough for them. */
	count = geo->records_per_chapter + 1;
	memset(copy, 0, big);
	memcpy(copy, s->buffer, s->length);
	put_unaligned_le32(count, copy + DDI_OC_SAVE_COUNT);
	put_unaligned_le32(ddi_open_chapter_save_crc(copy, count), copy + DDI_OC_SAVE_CRC);
	KUNIT_EXPECT_EQ(test, -EBADMSG, ddi_open_chapter_load(zones, 2, test_zone_of, copy,
							      big, &vcn, &dropped));

	/* A zone function that picks no real zone. */
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_open_chapter_load(zones, 2, bad_zone_of, s->buffer,
							     s->length, &vcn, &dropped));
	expect_untouched(test, zones, &records[100], &records[0]);

	/* And the intact buffer still loads. */
	KUNIT_ASSERT_EQ(test, 0, ddi_open_chapter_load(zones, 2, test_zone_of, s->buffer,
						       s->length, &vcn, &dropped));
	KUNIT_EXPECT_EQ(test, vcn, 42ULL);
	expect_zones_hold(test, zones, 2, records, 100);
}

static void open_chapter_load_into_other_zone_counts(struct kunit *test)
{
	const struct ddi_geometry *geo = make_geometry(test, 4);
	u32 n = geo->records_per_chapter;
	struct ddi_open_chapter_zone **one = make_zones(test, geo, 1);
	struct ddi_open_chapter_zone **three = make_zones(test, geo, 3);
	struct ddi_record *records = test_vzalloc(test, sizeof(*records) * n);
	u32 dropped, i, found = 0, total = 0;
	struct rnd_state rnd;
	struct saved *s;
	unsigned int z;
	u64 vcn;

	prandom_seed_state(&rnd, 10);
	random_records(&rnd, records, n);

	/* One zone to three and back. */
	fill_until_full(test, one, 1, records, 300);
	s = save_zones(test, one, 1, 5);
	KUNIT_ASSERT_EQ(test, 0, ddi_open_chapter_load(three, 3, test_zone_of, s->buffer,
						       s->length, &vcn, &dropped));
	KUNIT_EXPECT_EQ(test, dropped, 0U);
	expect_zones_hold(test, three, 3, records, 300);
	s = save_zones(test, three, 3, 6);
	KUNIT_ASSERT_EQ(test, 0, ddi_open_chapter_load(one, 1, test_zone_of, s->buffer,
						       s->length, &vcn, &dropped));
	KUNIT_EXPECT_EQ(test, vcn, 6ULL);
	KUNIT_EXPECT_EQ(test, dropped, 0U);
	expect_zones_hold(test, one, 1, records, 300);

	/*
	 * A full single zone cannot fit three zones of a third of a chapter
	 * each: what does not fit is dropped and counted, the rest loaded.
	 */
	KUNIT_ASSERT_EQ(test, fill_until_full(test, one, 1, records, n), n);
	s = save_zones(test, one, 1, 7);
	KUNIT_EXPECT_EQ(test, s->length, ddi_open_chapter_save_size(geo));
	KUNIT_ASSERT_EQ(test, 0, ddi_open_chapter_load(three, 3, test_zone_of, s->buffer,
						       s->length, &vcn, &dropped));
	KUNIT_EXPECT_GE(test, dropped, n - 3 * (n / 3));
	for (z = 0; z < 3; z++) {
		u32 count = ddi_open_chapter_zone_count(three[z]);

		total += count;
		KUNIT_EXPECT_LE(test, count, n / 3);
	}
	for (i = 0; i < n; i++) {
		struct ddi_open_chapter_zone *zone = zone_for(three, 3, &records[i].name);
		struct ddi_data data;

		if (ddi_open_chapter_zone_search(zone, &records[i].name, &data)) {
			KUNIT_EXPECT_MEMEQ(test, &data, &records[i].data, sizeof(data));
			found++;
		} else {
			/* Only a zone that filled up turns records away. */
			KUNIT_EXPECT_TRUE(test, ddi_open_chapter_zone_full(zone));
		}
	}
	KUNIT_EXPECT_EQ(test, found, total);
	KUNIT_EXPECT_EQ(test, found + dropped, n);
}

static struct kunit_case open_chapter_cases[] = {
	KUNIT_CASE(open_chapter_put_search_overwrite_remove),
	KUNIT_CASE(open_chapter_counts_operations),
	KUNIT_CASE(open_chapter_fills_exactly_at_capacity),
	KUNIT_CASE(open_chapter_matches_model_under_churn),
	KUNIT_CASE(open_chapter_close_sorts_live_records_once),
	KUNIT_CASE(open_chapter_close_indexes_every_record_page),
	KUNIT_CASE(open_chapter_close_merges_zones),
	KUNIT_CASE(open_chapter_save_load_round_trip),
	KUNIT_CASE(open_chapter_load_refuses_damage),
	KUNIT_CASE(open_chapter_load_into_other_zone_counts),
	{}
};

static struct kunit_suite open_chapter_suite = {
	.name = "dm_dedup_index_open_chapter",
	.test_cases = open_chapter_cases,
};

kunit_test_suite(open_chapter_suite);
