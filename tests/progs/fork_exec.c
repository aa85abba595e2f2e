/*
 * fork_exec: one process, three profiled images. No stdio.
 *
 * Parent image (pid P): parent_alloc() makes 10 allocations of 100 bytes
 * (@site:parent) and frees 6 of them; fork(); waits for the child; frees one
 * more of its 4 live blocks; after_wait() makes 2 allocations
 * of 300 bytes (@site:after); then execs heap_counts (found next to this
 * executable), keeping pid P.
 *   allocations 12, bytes_allocated 1600, frees 7, peak_bytes 1000,
 *   temporary 1 (block 9, freed first), live_blocks 5, live_bytes 900 at
 *   exec, execed true
 *
 * Forked child (ppid P): frees one block its parent allocated before fork
 * (an inherited free, not one of its frees), child_alloc() makes 20
 * allocations of 50 bytes (@site:child) and frees 15 of them, then _exit(5).
 *   allocations 20, bytes_allocated 1000, frees 15, inherited_frees 1,
 *   temporary 1 (block 19, freed first), live_blocks 5, live_bytes 250,
 *   forked true, exit_code 5
 *
 * Exec'd image (pid P): heap_counts, with its own figures (see
 * heap_counts.c), exit_code 0, which is also the launcher's exit code.
 * Exits 1 (with a line on stderr) if fork, wait or exec fails, or the child
 * did not exit with 5.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PARENT_BLOCKS 10
#define CHILD_BLOCKS 20

static void *pblocks[PARENT_BLOCKS];
static void *cblocks[CHILD_BLOCKS];
static void *after[2];

static void die(const char *what)
{
	write(2, "fork_exec: ", 11);
	write(2, what, strlen(what));
	write(2, "\n", 1);
	exit(1);
}

static void parent_alloc(void)
{
	for (int i = 0; i < PARENT_BLOCKS; i++)
		pblocks[i] = malloc(100); /* @site:parent */
	for (int i = 4; i < PARENT_BLOCKS; i++)
		free(pblocks[i]);
}

static void child_alloc(void)
{
	for (int i = 0; i < CHILD_BLOCKS; i++)
		cblocks[i] = malloc(50); /* @site:child */
	for (int i = 5; i < CHILD_BLOCKS; i++)
		free(cblocks[i]);
}

static void after_wait(void)
{
	for (int i = 0; i < 2; i++)
		after[i] = malloc(300); /* @site:after */
}

int main(void)
{
	static char path[4096];
	static char *argv[] = { path, NULL };
	int status;
	ssize_t n;
	char *slash;
	pid_t pid;

	parent_alloc();
	pid = fork();
	if (pid < 0)
		die("fork failed");
	if (pid == 0) {
		free(pblocks[0]);
		child_alloc();
		_exit(5);
	}
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid failed");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 5)
		die("child did not exit with 5");
	free(pblocks[1]);
	after_wait();

	n = readlink("/proc/self/exe", path, sizeof path - 32);
	if (n <= 0)
		die("readlink /proc/self/exe failed");
	path[n] = '\0';
	slash = strrchr(path, '/');
	strcpy(slash ? slash + 1 : path, "heap_counts");
	execv(path, argv);
	die("execv heap_counts failed");
	return 1;
}
