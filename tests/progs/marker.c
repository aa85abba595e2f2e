/*
 * marker: creates the file named by argv[1] and exits 0. The launcher's
 * bad-settings tests run it to prove the program was never started.
 * Exits 1 when the file cannot be created, 2 without an argument.
 */
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fd;

	if (argc < 2)
		return 2;
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return 1;
	close(fd);
	return 0;
}
