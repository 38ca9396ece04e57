/* cmd_produce.c - `tickpipe produce` (not built yet). */
#include "cmd/commands.h"

#include <stdio.h>

int tp_cmd_produce(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "tickpipe produce: not available yet\n");
    return 1;
}
