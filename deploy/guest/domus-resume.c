/* SPDX-License-Identifier: Apache-2.0 */
/*
 * domus-resume HEX SECS ROOTDEV rw|ro NEWROOT: everything a clone restored from a template snapshot does between
 * the host's "resume" line and switch_root, in one process instead of a dozen tool runs (every fork+exec costs
 * page faults on an emulated CPU, and this path is inside the customer's create-to-SSH time). In order:
 *   1. credit the seed (32..256 bytes in hex) to the kernel's entropy pool (RNDADDENTROPY) and force a reseed of
 *      the CRNG (RNDRESEEDCRNG): every clone leaves the snapshot with the same CRNG state, and a write to
 *      /dev/urandom only mixes bytes in without a reseed before the next scheduled one (up to a minute on 6.1);
 *   2. set the clock to SECS (unix seconds; "-" keeps it): the clock restarts where the template stopped;
 *   3. drop the buffer cache of every /dev/vd* (BLKFLSBUF): the kernel read sector 0 of the template's
 *      placeholder disks when it probed them, a clone's disks differ;
 *   4. mount ROOTDEV (ext4) on NEWROOT, read-write or read-only;
 *   5. move /dev (with /dev/pts, /dev/shm), /proc, /sys, /run and /tmp under NEWROOT, so the root disk's init
 *      finds them mounted instead of unmounting and mounting them again.
 * Then the caller (PID 1) execs switch_root NEWROOT /init. Built static by deploy/guest/build.
 * Exit status: 0 done, 2 usage or bad seed, 3 the kernel refused the reseed, 4 the root mount failed, 5 a mount
 * could not be moved. A failed clock or cache flush is reported on stderr and is not fatal.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#define MIN_BYTES 32
#define MAX_BYTES 256

static int nibble(char c) {
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static int reseed(const char *hex) {
	/* rand_pool_info ends in a flexible array: room for the seed behind it, aligned like the struct. */
	union {
		struct rand_pool_info info;
		unsigned char raw[sizeof(struct rand_pool_info) + MAX_BYTES];
	} req;
	unsigned char *seed;
	size_t len = strlen(hex), i;
	int fd, rc = 0;

	if (len % 2 != 0 || len / 2 < MIN_BYTES || len / 2 > MAX_BYTES) {
		fprintf(stderr, "domus-resume: seed must be %d..%d bytes of hex\n", MIN_BYTES, MAX_BYTES);
		return 2;
	}
	memset(&req, 0, sizeof req);
	seed = (unsigned char *)req.info.buf;
	for (i = 0; i < len / 2; i++) {
		int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			fprintf(stderr, "domus-resume: seed is not hex\n");
			return 2;
		}
		seed[i] = (unsigned char)(hi << 4 | lo);
	}
	req.info.entropy_count = (int)(len / 2 * 8);
	req.info.buf_size = (int)(len / 2);
	fd = open("/dev/urandom", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror("domus-resume: /dev/urandom");
		rc = 3;
	} else if (ioctl(fd, RNDADDENTROPY, &req.info) != 0) {
		perror("domus-resume: RNDADDENTROPY");
		rc = 3;
	} else if (ioctl(fd, RNDRESEEDCRNG) != 0) {
		perror("domus-resume: RNDRESEEDCRNG");
		rc = 3;
	}
	if (fd >= 0) close(fd);
	/* The seed is on the command line (visible in /proc while this runs): clear our copy at least. */
	memset(&req, 0, sizeof req);
	return rc;
}

static void set_clock(const char *secs) {
	char *end;
	long long s;
	struct timeval tv;

	if (strcmp(secs, "-") == 0) return;
	errno = 0;
	s = strtoll(secs, &end, 10);
	if (errno != 0 || *end != '\0' || end == secs || s <= 0) {
		fprintf(stderr, "domus-resume: clock '%s' is not unix seconds, kept\n", secs);
		return;
	}
	tv.tv_sec = (time_t)s;
	tv.tv_usec = 0;
	if (settimeofday(&tv, NULL) != 0) perror("domus-resume: settimeofday");
}

static void flush_disks(void) {
	DIR *d = opendir("/dev");
	struct dirent *e;
	char path[300];
	struct stat st;

	if (d == NULL) {
		perror("domus-resume: /dev");
		return;
	}
	while ((e = readdir(d)) != NULL) {
		int fd;
		if (strncmp(e->d_name, "vd", 2) != 0) continue;
		snprintf(path, sizeof path, "/dev/%s", e->d_name);
		if (stat(path, &st) != 0 || !S_ISBLK(st.st_mode)) continue;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || ioctl(fd, BLKFLSBUF, 0) != 0) {
			fprintf(stderr, "domus-resume: cannot flush %s: %s\n", path, strerror(errno));
		}
		if (fd >= 0) close(fd);
	}
	closedir(d);
}

/* Moves the mount on /<name> to NEWROOT/<name> (creating the directory on a read-write root). */
static int move_under(const char *newroot, const char *name) {
	char from[64], to[512];
	snprintf(from, sizeof from, "/%s", name);
	snprintf(to, sizeof to, "%s/%s", newroot, name);
	mkdir(to, 0755); /* EEXIST is the normal case */
	if (mount(from, to, NULL, MS_MOVE, NULL) != 0) {
		fprintf(stderr, "domus-resume: cannot move %s to %s: %s\n", from, to, strerror(errno));
		return 5;
	}
	return 0;
}

int main(int argc, char **argv) {
	static const char *const moved[] = {"dev", "proc", "sys", "run", "tmp"};
	const char *newroot;
	unsigned long flags;
	size_t i;
	int rc;

	if (argc != 6 || (strcmp(argv[4], "rw") != 0 && strcmp(argv[4], "ro") != 0) || argv[5][0] != '/') {
		fprintf(stderr, "usage: domus-resume HEX SECS|- ROOTDEV rw|ro /NEWROOT\n");
		return 2;
	}
	rc = reseed(argv[1]);
	if (rc != 0) return rc;
	set_clock(argv[2]);
	flush_disks();
	newroot = argv[5];
	mkdir(newroot, 0755);
	flags = strcmp(argv[4], "ro") == 0 ? MS_RDONLY : 0;
	if (mount(argv[3], newroot, "ext4", flags, "") != 0) {
		fprintf(stderr, "domus-resume: cannot mount %s on %s: %s\n", argv[3], newroot, strerror(errno));
		return 4;
	}
	for (i = 0; i < sizeof moved / sizeof moved[0]; i++) {
		rc = move_under(newroot, moved[i]);
		if (rc != 0) return rc;
	}
	return 0;
}
