/*
 * secure_probe: allocates, prints "hello", then whether a mapping of a
 * file named libptrace-run* is in this process ("agent mapped" or "agent
 * not mapped") and AT_SECURE ("secure 1" or "secure 0"). Exits 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

int main(void)
{
	char line[4096];
	int mapped = 0;
	FILE *f;
	char *p = malloc(100);

	strcpy(p, "hello");
	printf("%s\n", p);
	free(p);
	f = fopen("/proc/self/maps", "r");
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "/libptrace-run"))
			mapped = 1;
	if (f)
		fclose(f);
	printf("agent %s\nsecure %lu\n", mapped ? "mapped" : "not mapped", getauxval(AT_SECURE));
	return 0;
}
