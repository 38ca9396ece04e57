/* cmd_symbols.c - `tickpipe symbols` (not built yet). */
#include "cmd/commands.h"

#include <stdio.h>

int tp_cmd_symbols(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "tickpipe symbols: not available yet\n");
    return 1;
}
