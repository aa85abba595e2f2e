/*
 * live: the terminal view of a running profile (memray's live TUI is the
 * model). Every interval it builds the report model from the session
 * image, as the report at exit does, and draws the heap now and at its
 * peak, the top allocation sites, the top functions by CPU samples and the
 * threads; keys sort the tables, pause the refresh and quit the view.
 *
 * It never draws where the program writes: the view takes the
 * controlling terminal (/dev/tty) and only when neither the program's
 * stdout nor its stderr is that terminal. `--live` runs it in a thread of
 * the launcher; `ptrace-run live PID` attaches it to a run from another
 * terminal (PID: the launcher's, or any profiled process's), reading the
 * image read-only. Either way the image is untrusted input, read with
 * session.c's checks, and the program is never touched.
 */
#ifndef PTRACE_CLI_LIVE_H
#define PTRACE_CLI_LIVE_H

#include "options.h"
#include "session.h"

struct live;

/*
 * Before the program starts (--live, --live-remote): for --live, open the
 * terminal (close-on-exec) and check that the program's stdout and stderr
 * (the launcher's fds 1 and 2) are not it and that its type is known;
 * for --live-remote, print how to attach. 0 with *out (NULL when there is
 * no view to run); 2 after one line on stderr.
 */
int live_prepare(struct live **out, const struct options *o);

/* Run the view in a thread over s's image (with a reader of its own)
 * while the launcher waits. lv NULL: nothing. A view that cannot start
 * says so on stderr; the run goes on without it. */
void live_start(struct live *lv, const struct session *s, char **argv);

/* End the view if it still runs (the program ended), restore the
 * terminal, free lv. NULL: nothing. */
void live_finish(struct live *lv);

/* `ptrace-run live [--interval=SECS] PID`: the view of the run PID
 * belongs to, until q or the run ends. Exit code: 0, or 2 after one line
 * on stderr (bad arguments, no such run, no terminal). */
int live_main(int argc, char **argv);

#endif
