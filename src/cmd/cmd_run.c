/* cmd_run.c - `tickpipe run` (not built yet). */
#include "cmd/commands.h"

#include <stdio.h>

int tp_cmd_run(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "tickpipe run: not available yet\n");
    return 1;
}
