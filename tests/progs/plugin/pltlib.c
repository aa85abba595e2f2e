/*
 * libpltlib.so: a shared library calling libc through its own PLT (.plt,
 * PIC), for the names of the PLT stubs in tests/test_symbolize.c.
 */
#include <stdio.h>
#include <unistd.h>

int pltlib_hello(void);

int pltlib_hello(void)
{
	puts("pltlib");
	return (int)getpid();
}
