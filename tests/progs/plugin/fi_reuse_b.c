/*
 * libfi_reuse_b.so (built with -finstrument-functions), for fi_reuse:
 * omega_entry(n) calls omega_leaf() n times. The same code as
 * libfi_reuse_a.so under names of the same lengths, so the two files
 * lay out alike; the lines differ (this comment is longer), so a report
 * that names the wrong library's function shows the wrong line too.
 *
 * (padding)
 */
void omega_leaf(void);
void omega_entry(int n);

static volatile int sink;

void omega_leaf(void)
{ /* @reuse:omega_leaf */
	sink++;
}

void omega_entry(int n)
{ /* @reuse:omega_entry */
	for (int i = 0; i < n; i++)
		omega_leaf();
}
