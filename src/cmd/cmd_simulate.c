/* cmd_simulate.c - `tickpipe simulate` (not built yet). */
#include "cmd/commands.h"

#include <stdio.h>

int tp_cmd_simulate(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "tickpipe simulate: not available yet\n");
    return 1;
}
