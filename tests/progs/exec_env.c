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
 *   system, popen: the program's own environment becomes {"FOO=bar"}
 *             (clearenv, setenv), then system()/popen() run `exec SELF
 *             child` (popen: its line read and printed, then pclose);
 *             exit 0 when the child exited 0
 *   system-threaded: the same as system with a second thread running
 */
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int pipe_fds[2];

static void *waiter(void *arg)
{
	char c;

	return read(pipe_fds[0], &c, 1) == 1 ? arg : NULL;
}

/* system()/popen() with the environment {"FOO=bar"}: 0 if the child exited 0. */
static int shell(const char *mode, const char *self)
{
	char cmd[4200], line[256];
	pthread_t t;
	FILE *f;
	int st, threaded = !strcmp(mode, "system-threaded");

	snprintf(cmd, sizeof(cmd), "exec '%s' child", self);
	clearenv();
	setenv("FOO", "bar", 1);
	if (threaded && (pipe(pipe_fds) || pthread_create(&t, NULL, waiter, NULL)))
		return 1;
	if (!strcmp(mode, "popen")) {
		if (!(f = popen(cmd, "r")) || !fgets(line, sizeof(line), f))
			return 1;
		printf("popen: %s", line);
		st = pclose(f);
	} else {
		st = system(cmd);
	}
	if (threaded && (write(pipe_fds[1], "x", 1) != 1 || pthread_join(t, NULL)))
		return 1;
	return st == 0 ? 0 : 1;
}

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
	if (!strncmp(argv[1], "system", 6) || !strcmp(argv[1], "popen"))
		return shell(argv[1], self);
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
