/*
 * `ptrace-run report [options] PROFILE`: a saved run rendered again, in
 * any format, with report-time options (cli/report_cmd.c).
 */
#ifndef PTRACE_CLI_REPORT_CMD_H
#define PTRACE_CLI_REPORT_CMD_H

/* argv[0] is "report". The exit status: 0, or 2 with one line on stderr. */
int report_main(int argc, char **argv);

#endif
