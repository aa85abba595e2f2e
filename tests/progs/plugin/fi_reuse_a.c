/*
 * libfi_reuse_a.so (built with -finstrument-functions), for fi_reuse:
 * alpha_entry(n) calls alpha_leaf() n times. libfi_reuse_b.so has the
 * same code under other names (omega_*), so its functions sit at the
 * same offsets: loaded at this library's old base, at the same addresses.
 */
void alpha_leaf(void);
void alpha_entry(int n);

static volatile int sink;

void alpha_leaf(void)
{ /* @reuse:alpha_leaf */
	sink++;
}

void alpha_entry(int n)
{ /* @reuse:alpha_entry */
	for (int i = 0; i < n; i++)
		alpha_leaf();
}
