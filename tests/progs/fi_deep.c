/*
 * fi_deep (built with -finstrument-functions): recursion 100,000 deep.
 * A thread with a 256 MiB stack runs descend() -> deep(99999), and
 * deep(n) calls deep(n - 1) down to deep(0): 100,000 calls of deep, the
 * deepest one 100,001 frames down (descend is frame 1). Prints "100000".
 *
 * With the default PTRACE_MAX_CALL_DEPTH (65536 frames per thread):
 *   deep calls 65535, recursive 65534; 34465 calls beyond the depth
 * With PTRACE_MAX_CALL_DEPTH >= 100001:
 *   deep calls 100000, recursive 99999, none beyond; deepest stack 100001
 */
#include <pthread.h>
#include <stdio.h>

#define DEPTH 100000

int deep(int n)
{
	return n ? deep(n - 1) + 1 : 1;
}

void *descend(void *arg)
{
	(void)arg;
	return (void *)(long)deep(DEPTH - 1);
}

int main(void)
{
	pthread_attr_t a;
	pthread_t t;
	void *ret;

	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 256u << 20);
	if (pthread_create(&t, &a, descend, NULL) || pthread_join(t, &ret))
		return 1;
	printf("%ld\n", (long)ret);
	return 0;
}
