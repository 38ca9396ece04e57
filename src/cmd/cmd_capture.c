/* cmd_capture.c - `tickpipe capture` (not built yet). */
#include "cmd/commands.h"

#include <stdio.h>

int tp_cmd_capture(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "tickpipe capture: not available yet\n");
    return 1;
}
