/*
 * static_hello: a static binary (the Makefile links static_* with -static),
 * which no preload library can enter. Writes "static hello\n" to stdout and
 * exits 7. Under ptrace-run: exit code 7, agent.loaded false, agent.reason
 * mentions "static".
 */
#include <unistd.h>

int main(void)
{
	write(1, "static hello\n", 13);
	return 7;
}
