/* cmd_process.c - `tickpipe process` (not built yet). */
#include "cmd/commands.h"

#include <stdio.h>

int tp_cmd_process(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "tickpipe process: not available yet\n");
    return 1;
}
