/* commands.h - subcommand entry points. Each returns the process exit
 * status: 0 ok, 1 runtime failure, 2 usage error. Only these and main()
 * may exit. */
#ifndef TP_COMMANDS_H
#define TP_COMMANDS_H

int tp_cmd_run(int argc, char **argv);
int tp_cmd_simulate(int argc, char **argv);
int tp_cmd_capture(int argc, char **argv);
int tp_cmd_produce(int argc, char **argv);
int tp_cmd_process(int argc, char **argv);
int tp_cmd_serve(int argc, char **argv);
int tp_cmd_symbols(int argc, char **argv);

#endif
