// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark driver for libbz2: compresses 1 MiB of generated data (text
 * with runs and noise, which exercises both the main sort and the
 * fallback one) with 900 KiB blocks, decompresses it and checks the round
 * trip. `bzip2 [SCALE]`: SCALE, the amount of work in percent (default
 * 100). Prints the compressed size and a checksum of the compressed data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bzlib.h"

#define DATA_BYTES (1u << 20)

static unsigned long long rng_state = 0x5eed0006;

/* xorshift64*: the same sequence on every engine. */
static unsigned long long rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static const char *const words[] = {
	"compress", "block", "sort",   "huffman", "table", "symbol", "stream",
	"kernel",   "wasm",  "module", "buffer",  "run",   "length", "the",
};

static void generate(unsigned char *d, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned long long r = rng();
		size_t len;

		switch (r % 8) {
		case 0: /* a run, which bzip2 encodes before sorting */
			len = 4 + (r >> 8) % 200;
			if (len > n - i)
				len = n - i;
			memset(d + i, 'a' + (int)((r >> 16) % 26), len);
			break;
		case 1: /* noise */
			len = 1 + (r >> 8) % 16;
			if (len > n - i)
				len = n - i;
			for (size_t k = 0; k < len; k++)
				d[i + k] = (unsigned char)rng();
			break;
		default: {
			const char *w = words[(r >> 8) % (sizeof(words) / sizeof(words[0]))];

			len = strlen(w) + 1;
			if (len > n - i)
				len = n - i;
			memcpy(d + i, w, len - 1);
			d[i + len - 1] = (r >> 40) % 9 ? ' ' : '\n';
		}
		}
		i += len;
	}
}

/* libbz2 built with BZ_NO_STDIO calls this on an internal inconsistency. */
void bz_internal_error(int errcode)
{
	fprintf(stderr, "bzip2: internal error %d\n", errcode);
	abort();
}

/* FNV-1a, continuing from h. */
static unsigned long long fnv(unsigned long long h, const unsigned char *p, size_t n)
{
	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ull;
	}
	return h;
}

int main(int argc, char **argv)
{
	long scale = argc > 1 ? atol(argv[1]) : 100;
	long passes = 24 * scale / 100 > 0 ? 24 * scale / 100 : 1;
	unsigned int cap = DATA_BYTES + DATA_BYTES / 100 + 600;
	unsigned char *data = malloc(DATA_BYTES), *back = malloc(DATA_BYTES);
	char *z = malloc(cap);
	unsigned long long check = 0xcbf29ce484222325ull;
	unsigned int zlen = 0;

	if (!data || !back || !z)
		return 1;
	generate(data, DATA_BYTES);
	for (long p = 0; p < passes; p++) {
		unsigned int blen = DATA_BYTES;

		zlen = cap;
		if (BZ2_bzBuffToBuffCompress(z, &zlen, (char *)data, DATA_BYTES, 9, 0, 30) != BZ_OK)
			abort();
		check = fnv(check, (unsigned char *)z, zlen);
		if (BZ2_bzBuffToBuffDecompress((char *)back, &blen, z, zlen, 0, 0) != BZ_OK ||
		    blen != DATA_BYTES || memcmp(back, data, DATA_BYTES)) {
			fprintf(stderr, "bzip2: round trip failed\n");
			return 1;
		}
	}
	printf("bzip2: passes=%ld bytes=%u compressed=%u checksum=%016llx\n", passes, DATA_BYTES,
	       zlen, check);
	return 0;
}
