// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark driver for zlib: compresses 1 MiB of generated text-like data
 * (words, numbers, some noise) at levels 1, 6 and 9 with deflate, inflates
 * each stream back in 64 KiB pieces and checks the round trip. `zlib
 * [SCALE]`: SCALE, the amount of work in percent (default 100). Prints
 * the compressed sizes and a CRC-32 of the compressed streams.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zlib.h"

#define DATA_BYTES (1u << 20)

static unsigned long long rng_state = 0x5eed0004;

/* xorshift64*: the same sequence on every engine. */
static unsigned long long rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static const char *const words[] = {
	"the",	  "kernel", "runs",  "webassembly", "module", "compiled", "with",
	"native", "code",   "memory", "table",	     "stack",  "trap",	   "signal",
	"page",	  "fault",  "guard", "bounds",	     "branch", "return",   "loop",
};

static void generate(unsigned char *d, size_t n)
{
	size_t i = 0;

	while (i < n) {
		char tmp[32];
		const char *s = tmp;
		size_t len;

		switch (rng() % 10) {
		case 0:
			len = (size_t)snprintf(tmp, sizeof(tmp), "%llu ", rng() % (1 << 20));
			break;
		case 1:
			tmp[0] = (char)rng();
			len = 1;
			break;
		case 2:
			tmp[0] = '\n';
			len = 1;
			break;
		default:
			s = words[rng() % (sizeof(words) / sizeof(words[0]))];
			len = strlen(s);
			memcpy(tmp, s, len);
			tmp[len++] = ' ';
			s = tmp;
		}
		if (len > n - i)
			len = n - i;
		memcpy(d + i, s, len);
		i += len;
	}
}

/* Inflates z into out, 64 KiB of output at a time; returns the length. */
static size_t inflate_all(const unsigned char *z, size_t zlen, unsigned char *out, size_t cap)
{
	z_stream s;
	size_t done = 0;
	int ret;

	memset(&s, 0, sizeof(s));
	if (inflateInit(&s) != Z_OK)
		abort();
	s.next_in = (unsigned char *)z;
	s.avail_in = (uInt)zlen;
	do {
		s.next_out = out + done;
		s.avail_out = (uInt)(cap - done < 65536 ? cap - done : 65536);
		ret = inflate(&s, Z_NO_FLUSH);
		if (ret != Z_OK && ret != Z_STREAM_END)
			abort();
		done = s.total_out;
	} while (ret != Z_STREAM_END);
	inflateEnd(&s);
	return done;
}

int main(int argc, char **argv)
{
	long scale = argc > 1 ? atol(argv[1]) : 100;
	long passes = 8 * scale / 100 > 0 ? 8 * scale / 100 : 1;
	static const int levels[] = { 1, 6, 9 };
	unsigned char *data = malloc(DATA_BYTES), *back = malloc(DATA_BYTES);
	uLong bound = compressBound(DATA_BYTES), zlen_at[3] = { 0 };
	unsigned char *z = malloc(bound);
	uLong crc = crc32(0, NULL, 0);

	if (!data || !back || !z)
		return 1;
	generate(data, DATA_BYTES);
	for (long p = 0; p < passes; p++) {
		for (int i = 0; i < 3; i++) {
			uLongf zlen = bound;

			if (compress2(z, &zlen, data, DATA_BYTES, levels[i]) != Z_OK)
				abort();
			zlen_at[i] = zlen;
			crc = crc32(crc, z, (uInt)zlen);
			if (inflate_all(z, zlen, back, DATA_BYTES) != DATA_BYTES ||
			    memcmp(back, data, DATA_BYTES)) {
				fprintf(stderr, "zlib: round trip at level %d failed\n", levels[i]);
				return 1;
			}
		}
	}
	printf("zlib: passes=%ld bytes=%u level1=%lu level6=%lu level9=%lu crc=%08lx\n", passes,
	       DATA_BYTES, zlen_at[0], zlen_at[1], zlen_at[2], crc);
	return 0;
}
