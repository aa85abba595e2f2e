/*
 * libfiplugin.so (built with -finstrument-functions), for fi_dlopen:
 * plugin_entry(n) calls plugin_leaf() n times.
 */
void plugin_leaf(void);
void plugin_entry(int n);

static volatile int sink;

void plugin_leaf(void)
{ /* @plugin:leaf */
	sink++;
}

void plugin_entry(int n)
{
	for (int i = 0; i < n; i++)
		plugin_leaf();
}
