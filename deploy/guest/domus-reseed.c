/* SPDX-License-Identifier: Apache-2.0 */
/*
 * domus-reseed HEX: credits the bytes given in hex to the kernel's entropy pool (RNDADDENTROPY) and forces an
 * immediate reseed of the CRNG (RNDRESEEDCRNG). Used by the guest init after a clone was restored from a template
 * snapshot: every clone starts with the same CRNG state, and writing to /dev/urandom only mixes bytes in without
 * a reseed before the next scheduled one (up to a minute on Linux 6.1). Built static by deploy/guest/build.
 * Exit status: 0 done, 1 kernel refused, 2 usage (the seed must be 32..256 bytes of even-length lower/upper hex).
 */
#include <fcntl.h>
#include <linux/random.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define MIN_BYTES 32
#define MAX_BYTES 256

static int nibble(char c) {
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

int main(int argc, char **argv) {
	/* rand_pool_info ends in a flexible array: room for the seed behind it, aligned like the struct. */
	union {
		struct rand_pool_info info;
		unsigned char raw[sizeof(struct rand_pool_info) + MAX_BYTES];
	} req;
	unsigned char *seed;
	size_t len, i;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: domus-reseed HEX (%d..%d bytes)\n", MIN_BYTES, MAX_BYTES);
		return 2;
	}
	len = strlen(argv[1]);
	if (len % 2 != 0 || len / 2 < MIN_BYTES || len / 2 > MAX_BYTES) {
		fprintf(stderr, "domus-reseed: seed must be %d..%d bytes of hex\n", MIN_BYTES, MAX_BYTES);
		return 2;
	}
	memset(&req, 0, sizeof req);
	seed = (unsigned char *)req.info.buf;
	for (i = 0; i < len / 2; i++) {
		int hi = nibble(argv[1][2 * i]), lo = nibble(argv[1][2 * i + 1]);
		if (hi < 0 || lo < 0) {
			fprintf(stderr, "domus-reseed: seed is not hex\n");
			return 2;
		}
		seed[i] = (unsigned char)(hi << 4 | lo);
	}
	req.info.entropy_count = (int)(len / 2 * 8);
	req.info.buf_size = (int)(len / 2);
	fd = open("/dev/urandom", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror("domus-reseed: /dev/urandom");
		return 1;
	}
	if (ioctl(fd, RNDADDENTROPY, &req.info) != 0) {
		perror("domus-reseed: RNDADDENTROPY");
		return 1;
	}
	if (ioctl(fd, RNDRESEEDCRNG) != 0) {
		perror("domus-reseed: RNDRESEEDCRNG");
		return 1;
	}
	/* The seed is on the command line (visible in /proc while this runs): clear our copy at least. */
	memset(&req, 0, sizeof req);
	close(fd);
	return 0;
}
