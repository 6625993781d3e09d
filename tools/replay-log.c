// SPDX-License-Identifier: GPL-2.0-only
/*
 * replay-log: read the log dm-log-writes keeps of the writes to a device,
 * and replay part of it onto another device, for the power-loss test
 * (scripts/vm/tests/70-power-loss.sh). xfstests has a tool of this name;
 * Debian does not package it, and this one does only what the test needs:
 *
 *   replay-log list LOG
 *	one line per entry: "N SECTOR SECTORS FLAGS [MARK]", FLAGS being
 *	letters: F (flush), U (FUA), D (discard), M (mark), m (metadata),
 *	- for none. SECTOR and SECTORS are in 512-byte sectors.
 *   replay-log replay LOG DEV FROM TO [SECTORS]
 *	write entries FROM to TO - 1 onto DEV, as the device would hold them
 *	had they reached it in the order logged; with SECTORS, write only
 *	the first SECTORS sectors of the last one (a torn write). A discard
 *	is replayed as zeroes, as the index reads a discarded block.
 *
 * dm-log-writes logs a write once a flush has covered it (or at once for
 * FUA), so a replay that stops just after a flush entry leaves DEV as a
 * power cut right after that flush would have left the real device.
 *
 * The log: a superblock in its first sector, then every entry as one
 * sector of header (struct log_write_entry, a mark's text after it) and
 * the entry's data sectors, in the logged device's sector size.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_MAGIC 0x6a736677736872ULL
#define LOG_VERSION 1ULL
#define FLAG_FLUSH (1 << 0)
#define FLAG_FUA (1 << 1)
#define FLAG_DISCARD (1 << 2)
#define FLAG_MARK (1 << 3)
#define FLAG_METADATA (1 << 4)

struct log_super {
	uint64_t magic;
	uint64_t version;
	uint64_t nr_entries;
	uint32_t sectorsize;
} __attribute__((packed));

struct log_entry {
	uint64_t sector;
	uint64_t nr_sectors;
	uint64_t flags;
	uint64_t data_len;
} __attribute__((packed));

struct log {
	int fd;
	uint64_t entries;
	uint32_t sectorsize;
	/* Where the next entry's header is, and its number. */
	uint64_t offset;
	uint64_t next;
	char *header;
};

static void die(const char *what)
{
	fprintf(stderr, "replay-log: %s: %s\n", what, errno ? strerror(errno) : "bad log");
	exit(1);
}

static void read_at(int fd, void *buf, size_t len, uint64_t offset)
{
	ssize_t n = pread(fd, buf, len, (off_t)offset);

	if (n != (ssize_t)len) {
		if (n >= 0)
			errno = 0;
		die("short read of the log");
	}
}

static void open_log(struct log *log, const char *path)
{
	struct log_super super;

	log->fd = open(path, O_RDONLY);
	if (log->fd < 0)
		die(path);
	read_at(log->fd, &super, sizeof(super), 0);
	errno = 0;
	if (le64toh(super.magic) != LOG_MAGIC || le64toh(super.version) != LOG_VERSION)
		die("not a dm-log-writes log");
	log->entries = le64toh(super.nr_entries);
	log->sectorsize = le32toh(super.sectorsize);
	if (log->sectorsize < 512 || log->sectorsize > 65536 ||
	    (log->sectorsize & (log->sectorsize - 1)))
		die("bad sector size in the log");
	log->header = malloc(log->sectorsize);
	if (!log->header)
		die("malloc");
	log->offset = log->sectorsize;
	log->next = 0;
}

/* Read the next entry's header; returns the offset of its data. */
static uint64_t next_entry(struct log *log, struct log_entry *entry)
{
	uint64_t data;

	read_at(log->fd, log->header, log->sectorsize, log->offset);
	memcpy(entry, log->header, sizeof(*entry));
	entry->sector = le64toh(entry->sector);
	entry->nr_sectors = le64toh(entry->nr_sectors);
	entry->flags = le64toh(entry->flags);
	entry->data_len = le64toh(entry->data_len);
	errno = 0;
	if (entry->nr_sectors > (1ULL << 32) || entry->data_len > log->sectorsize)
		die("bad entry in the log");
	data = log->offset + log->sectorsize;
	log->offset = data;
	if (!(entry->flags & FLAG_DISCARD))
		log->offset += entry->nr_sectors * log->sectorsize;
	log->next++;
	return data;
}

static int list_log(struct log *log)
{
	struct log_entry entry;

	while (log->next < log->entries) {
		uint64_t n = log->next;
		char flags[8], *f = flags;

		next_entry(log, &entry);
		if (entry.flags & FLAG_FLUSH)
			*f++ = 'F';
		if (entry.flags & FLAG_FUA)
			*f++ = 'U';
		if (entry.flags & FLAG_DISCARD)
			*f++ = 'D';
		if (entry.flags & FLAG_MARK)
			*f++ = 'M';
		if (entry.flags & FLAG_METADATA)
			*f++ = 'm';
		if (f == flags)
			*f++ = '-';
		*f = '\0';
		/* Sectors of the log's size, printed as 512-byte ones. */
		printf("%" PRIu64 " %" PRIu64 " %" PRIu64 " %s", n,
		       entry.sector * (log->sectorsize / 512),
		       entry.nr_sectors * (log->sectorsize / 512), flags);
		if (entry.flags & FLAG_MARK) {
			size_t len = entry.data_len;

			if (len > log->sectorsize - sizeof(entry))
				len = log->sectorsize - sizeof(entry);
			printf(" %.*s", (int)len, log->header + sizeof(entry));
		}
		printf("\n");
	}
	return 0;
}

static void copy_entry(struct log *log, int dev, const struct log_entry *entry,
		       uint64_t data, uint64_t sectors)
{
	size_t chunk = 256 * 1024;
	uint64_t done = 0, bytes = sectors * log->sectorsize;
	char *buf = malloc(chunk);

	if (!buf)
		die("malloc");
	while (done < bytes) {
		size_t len = bytes - done < chunk ? bytes - done : chunk;

		if (entry->flags & FLAG_DISCARD)
			memset(buf, 0, len);
		else
			read_at(log->fd, buf, len, data + done);
		if (pwrite(dev, buf, len, (off_t)(entry->sector * log->sectorsize + done)) !=
		    (ssize_t)len)
			die("write to the replay device");
		done += len;
	}
	free(buf);
}

static int replay_log(struct log *log, const char *path, uint64_t from, uint64_t to,
		      long long torn)
{
	struct log_entry entry;
	int dev;

	errno = 0;
	if (from > to || to > log->entries)
		die("entries out of range");
	dev = open(path, O_WRONLY);
	if (dev < 0)
		die(path);
	while (log->next < to) {
		uint64_t n = log->next, data = next_entry(log, &entry), sectors;

		if (n < from || (entry.flags & FLAG_MARK))
			continue;
		sectors = entry.nr_sectors;
		if (n == to - 1 && torn >= 0) {
			/* The command line counts 512-byte sectors. */
			uint64_t t = (uint64_t)torn * 512 / log->sectorsize;

			sectors = t < sectors ? t : sectors;
		}
		copy_entry(log, dev, &entry, data, sectors);
	}
	if (fsync(dev))
		die("fsync of the replay device");
	close(dev);
	return 0;
}

int main(int argc, char **argv)
{
	struct log log;

	if (argc == 3 && !strcmp(argv[1], "list")) {
		open_log(&log, argv[2]);
		return list_log(&log);
	}
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "replay")) {
		open_log(&log, argv[2]);
		return replay_log(&log, argv[3], strtoull(argv[4], NULL, 0),
				  strtoull(argv[5], NULL, 0),
				  argc == 7 ? strtoll(argv[6], NULL, 0) : -1);
	}
	fprintf(stderr, "usage: replay-log list LOG\n"
		"       replay-log replay LOG DEV FROM TO [SECTORS]\n");
	return 2;
}
