/*
 * libwalkreuse_a.so, for walk_reuse: walk_entry(n) returns malloc(n) from
 * a frame-pointer frame. libwalkreuse_b.so has a walk_entry of the same
 * length whose call sits at the same offset, in a frame addressed from
 * rsp instead: loaded where this one was, the one return address has
 * two different unwind rules, one per map generation.
 */
__asm__(".text\n"
	".globl walk_entry\n"
	".type walk_entry, @function\n"
	"walk_entry:\n"
	".cfi_startproc\n"
	"	pushq %rbp\n"
	".cfi_def_cfa_offset 16\n"
	".cfi_offset %rbp, -16\n"
	"	movq %rsp, %rbp\n"
	".cfi_def_cfa_register %rbp\n"
	"	subq $16, %rsp\n"
	"	call malloc@PLT\n"
	"	leave\n"
	".cfi_def_cfa %rsp, 8\n"
	"	ret\n"
	".cfi_endproc\n"
	".size walk_entry, .-walk_entry\n");
