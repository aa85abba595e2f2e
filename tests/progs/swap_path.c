/*
 * swap_path PATH TARGET: while it runs, moves PATH to PATH.old and plants
 * a symlink PATH -> TARGET, as another user could in a shared directory.
 * A report opened at PATH before the program started must still land in
 * PATH.old, and TARGET must stay untouched.
 */
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char old[4096];

	if (argc < 3)
		return 2;
	snprintf(old, sizeof(old), "%s.old", argv[1]);
	if (rename(argv[1], old) || symlink(argv[2], argv[1]))
		return 1;
	return 0;
}
