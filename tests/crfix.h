/*
 * Criterion 2.4.1 (Debian 12) defines gt() in <criterion/new/assert.h>
 * as >=: cr_assert(gt(i64, 0, 0)) passes. Every test file gets this header
 * first (the Makefile's -include), so that gt means > everywhere.
 */
#ifndef PTRACE_CRFIX_H
#define PTRACE_CRFIX_H

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#undef gt
#define gt(Tag, Actual, Reference) not(le(Tag, Actual, Reference))

#endif
