/*
 * exit_code: writes "exit_code N\n" to stdout and exits with N, the decimal
 * number in argv[1] (0 without one). No allocation at all:
 * allocations 0, frees 0, bytes_allocated 0, live 0.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *arg = argc > 1 ? argv[1] : "0";
	int code = (int)strtol(arg, NULL, 10);

	write(1, "exit_code ", 10);
	write(1, arg, strlen(arg));
	write(1, "\n", 1);
	return code;
}
