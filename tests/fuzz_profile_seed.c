/*
 * Seeds for tests/fuzz_profile.c: fuzz_profile_seed OUT PROFILE IMAGE...
 * takes the META, SYMS and TIME sections of the last record of a real
 * profile file (format 2) and the TIML of its last timeline record, and
 * writes one seed per image
 * (fuzz_seed's), as OUT/profile-N.seed, in the layout the target reads
 * (u32 length and bytes of META, SYMS, TIME and TIML, then the image).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b = NULL;
	long n;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) ||
	    !(b = malloc((size_t)n + 1)) || fread(b, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "fuzz_profile_seed: cannot read %s\n", path);
		exit(1);
	}
	fclose(f);
	*len = (size_t)n;
	return b;
}

static uint64_t le(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void put32(FILE *f, uint32_t v)
{
	unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
			      (unsigned char)(v >> 24)};
	fwrite(b, 1, 4, f);
}

int main(int argc, char **argv)
{
	size_t len, plen = 0, off = 0, meta_len = 0, syms_len = 0, time_len = 0, tl_len = 0, rec = 24, frame = 0, flen = 0;
	unsigned char *file, *payload, *meta = NULL, *syms = NULL, *time = NULL, *tl = NULL, *tlbuf = NULL;

	if (argc < 4) {
		fprintf(stderr, "usage: fuzz_profile_seed OUT PROFILE IMAGE...\n");
		return 2;
	}
	file = slurp(argv[2], &len);
	if (len < 24) {
		fprintf(stderr, "fuzz_profile_seed: %s: too short\n", argv[2]);
		return 1;
	}
	/* The last whole snapshot or end record, and the last timeline part
	 * (a record of kind 3 holding one TIML section). */
	while (rec + 32 <= len && le(file + rec, 4) == 0x43525250u && rec + 32 + le(file + rec + 16, 8) <= len) {
		size_t rlen = le(file + rec + 8, 8), rflen = le(file + rec + 16, 8);

		if (le(file + rec + 4, 4) == 3) {
			free(tlbuf);
			tlbuf = malloc(rlen);
			if (!tlbuf || ZSTD_decompress(tlbuf, rlen, file + rec + 32, rflen) != rlen || rlen < 64) {
				fprintf(stderr, "fuzz_profile_seed: %s: a timeline record does not decompress\n", argv[2]);
				return 1;
			}
			tl = tlbuf + 64;
			tl_len = le(tlbuf + 8, 8);
		} else {
			plen = rlen;
			frame = rec + 32;
			flen = rflen;
		}
		rec += 32 + rflen;
	}
	payload = plen ? malloc(plen) : NULL;
	if (!payload || ZSTD_decompress(payload, plen, file + frame, flen) != plen) {
		fprintf(stderr, "fuzz_profile_seed: %s: does not decompress\n", argv[2]);
		return 1;
	}
	while (off + 64 <= plen) {
		uint32_t tag = (uint32_t)le(payload + off, 4);
		size_t n = le(payload + off + 8, 8);

		if (tag == 0x4154454du)
			meta = payload + off + 64, meta_len = n;
		else if (tag == 0x534d5953u)
			syms = payload + off + 64, syms_len = n;
		else if (tag == 0x454d4954u)
			time = payload + off + 64, time_len = n;
		off += 64 + ((n + 63) & ~(size_t)63);
	}
	if (!meta || !syms) {
		fprintf(stderr, "fuzz_profile_seed: %s: no META or SYMS\n", argv[2]);
		return 1;
	}
	for (int i = 3; i < argc; i++) {
		size_t ilen;
		unsigned char *img = slurp(argv[i], &ilen);
		char out[4096];
		FILE *f;

		snprintf(out, sizeof(out), "%s/profile-%d.seed", argv[1], i - 2);
		f = fopen(out, "wb");
		if (!f)
			return 1;
		put32(f, (uint32_t)meta_len);
		fwrite(meta, 1, meta_len, f);
		put32(f, (uint32_t)syms_len);
		fwrite(syms, 1, syms_len, f);
		put32(f, (uint32_t)time_len);
		if (time)
			fwrite(time, 1, time_len, f);
		put32(f, (uint32_t)tl_len);
		if (tl)
			fwrite(tl, 1, tl_len, f);
		fwrite(img, 1, ilen, f);
		fclose(f);
		free(img);
	}
	/* And the whole file, for the container's checks. */
	{
		char out[4096];
		FILE *f;

		snprintf(out, sizeof(out), "%s/profile-file.seed", argv[1]);
		f = fopen(out, "wb");
		if (!f)
			return 1;
		fputc(0xff, f);
		fwrite(file, 1, len, f);
		fclose(f);
	}
	free(payload);
	free(tlbuf);
	free(file);
	return 0;
}
