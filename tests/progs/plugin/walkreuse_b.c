/*
 * libwalkreuse_b.so, for walk_reuse: libwalkreuse_a.so's walk_entry with
 * its call at the same offset, in a frame addressed from rsp (CFA rsp+48,
 * rbp untouched) where A's is addressed from rbp.
 */
__asm__(".text\n"
	".globl walk_entry\n"
	".type walk_entry, @function\n"
	"walk_entry:\n"
	".cfi_startproc\n"
	"	subq $40, %rsp\n"
	".cfi_def_cfa_offset 48\n"
	"	nop\n"
	"	nop\n"
	"	nop\n"
	"	nop\n"
	"	call malloc@PLT\n"
	"	addq $40, %rsp\n"
	".cfi_def_cfa_offset 8\n"
	"	ret\n"
	".cfi_endproc\n"
	".size walk_entry, .-walk_entry\n");
