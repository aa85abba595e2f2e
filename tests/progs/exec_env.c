/*
 * exec_env MODE [PATH]: start a child with an environment of the
 * program's own, {"FOO=bar", NULL}, which lacks LD_PRELOAD and every
 * PTRACE_* variable; the child (this program again, "child") makes 7
 * allocations of 100 bytes, frees 3, prints "child FOO=bar" and exits 0.
 *
 *   execve, execle, execvpe, fexecve, execveat: the exec family
 *   spawn, spawnp: posix_spawn/posix_spawnp, then waits: exit 0
 *   run PATH: execv PATH (the environment as it is), e.g. a set-user-ID
 *             program that cannot be followed
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char *const env[] = {"FOO=bar", NULL};
	char *const cargv[] = {"exec_env", "child", NULL};
	char self[4096];
	ssize_t n;
	pid_t pid;
	int st;

	if (argc < 2)
		return 2;
	if (!strcmp(argv[1], "child")) {
		void *p[7];
		const char *foo = getenv("FOO");

		for (int i = 0; i < 7; i++)
			p[i] = malloc(100);
		for (int i = 0; i < 3; i++)
			free(p[i]);
		printf("child FOO=%s\n", foo ? foo : "(none)");
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 1;
	self[n] = 0;
	fflush(stdout);
	if (!strcmp(argv[1], "execve"))
		execve(self, cargv, env);
	else if (!strcmp(argv[1], "execle"))
		execle(self, "exec_env", "child", (char *)NULL, env);
	else if (!strcmp(argv[1], "execvpe"))
		execvpe(self, cargv, env);
	else if (!strcmp(argv[1], "fexecve")) {
		int fd = open(self, O_RDONLY | O_CLOEXEC);
		fexecve(fd, cargv, env);
	} else if (!strcmp(argv[1], "execveat"))
		execveat(AT_FDCWD, self, cargv, env, 0);
	else if (!strcmp(argv[1], "run") && argc > 2) {
		char *const rargv[] = {argv[2], NULL};
		execv(argv[2], rargv);
	} else if (!strcmp(argv[1], "spawn") || !strcmp(argv[1], "spawnp")) {
		int rc = argv[1][5] ? posix_spawnp(&pid, self, NULL, NULL, cargv, env)
				    : posix_spawn(&pid, self, NULL, NULL, cargv, env);
		if (rc || waitpid(pid, &st, 0) != pid)
			return 1;
		return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
	}
	perror("exec");
	return 1;
}
