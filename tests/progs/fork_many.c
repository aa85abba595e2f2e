/*
 * fork_many [N]: N (default 5000) children one after the other, more than
 * the session's first 1024 process slots. Each child allocates 100 and 23
 * bytes, frees the 100 and exits with _exit(0); the parent waits for each.
 * Every child is recorded: N + 1 processes, each child with exactly 2
 * allocations of 123 bytes, 1 free, 23 bytes live. Prints "N children".
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void *volatile sink;

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 5000, done = 0;

	for (long i = 0; i < n; i++) {
		int st;
		pid_t p = fork();

		if (p < 0)
			return 1;
		if (p == 0) {
			void *a = malloc(100);

			sink = malloc(23);
			free(a);
			_exit(0);
		}
		if (waitpid(p, &st, 0) == p && WIFEXITED(st) && !WEXITSTATUS(st))
			done++;
	}
	printf("%ld children\n", done);
	return 0;
}
