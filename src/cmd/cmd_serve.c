/* cmd_serve.c - `tickpipe serve` (not built yet). */
#include "cmd/commands.h"

#include <stdio.h>

int tp_cmd_serve(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "tickpipe serve: not available yet\n");
    return 1;
}
