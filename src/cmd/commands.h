/* commands.h - subcommand entry points and their option specs. Each entry
 * point returns the process exit status: 0 ok, 1 runtime failure, 2 usage
 * error (TP_EXIT_* in core/options.h). Only these and main() may exit.
 * The specs (tables of option groups, see cmd/flags.h) are what --help,
 * `tickpipe help-flags` and the flag tests read. */
#ifndef TP_COMMANDS_H
#define TP_COMMANDS_H

#include "core/options.h"

int tp_cmd_run(int argc, char **argv);
int tp_cmd_simulate(int argc, char **argv);
int tp_cmd_capture(int argc, char **argv);
int tp_cmd_produce(int argc, char **argv);
int tp_cmd_process(int argc, char **argv);
int tp_cmd_serve(int argc, char **argv);
int tp_cmd_symbols(int argc, char **argv);

extern const tp_cmd_spec tp_spec_run, tp_spec_simulate, tp_spec_capture, tp_spec_produce, tp_spec_process,
    tp_spec_serve, tp_spec_symbols;

#endif
