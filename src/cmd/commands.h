/* commands.h - subcommand entry points and their option specs.
 *
 * main() runs a command with tp_cmd_main: it parses argv against the
 * command's spec (cmd/flags.h, specs.c) into a tp_cmd_args, answers --help
 * and usage errors itself, and otherwise calls the entry point with the
 * parsed values and the index of the first positional argument. Entry
 * points return the process exit status: 0 ok, 1 runtime failure, 2 usage
 * error (TP_EXIT_* in core/options.h). Only these and main() may exit. */
#ifndef TP_COMMANDS_H
#define TP_COMMANDS_H

#include "cmd/flags.h"
#include "core/options.h"

int tp_cmd_run(tp_cmd_args *a, int argc, char **argv, int first_arg);
int tp_cmd_simulate(tp_cmd_args *a, int argc, char **argv, int first_arg);
int tp_cmd_capture(tp_cmd_args *a, int argc, char **argv, int first_arg);
int tp_cmd_produce(tp_cmd_args *a, int argc, char **argv, int first_arg);
int tp_cmd_process(tp_cmd_args *a, int argc, char **argv, int first_arg);
int tp_cmd_serve(tp_cmd_args *a, int argc, char **argv, int first_arg);
int tp_cmd_symbols(tp_cmd_args *a, int argc, char **argv, int first_arg);
int tp_cmd_config(tp_cmd_args *a, int argc, char **argv, int first_arg);
int tp_cmd_export(tp_cmd_args *a, int argc, char **argv, int first_arg);
int tp_cmd_archive(tp_cmd_args *a, int argc, char **argv, int first_arg);

typedef int (*tp_cmd_fn)(tp_cmd_args *a, int argc, char **argv, int first_arg);
/* Parse, run fn, free the parsed values; the exit status. */
int tp_cmd_main(const tp_cmd_spec *spec, tp_cmd_fn fn, int argc, char **argv);

extern const tp_cmd_spec tp_spec_run, tp_spec_simulate, tp_spec_capture, tp_spec_produce, tp_spec_process,
    tp_spec_serve, tp_spec_symbols, tp_spec_config, tp_spec_export, tp_spec_archive;

#endif
