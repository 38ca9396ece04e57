/* dirs.h - create the directory a file goes in.
 *
 * A writer of a file at a path the user gave (the SQLite store,
 * sqlite:data/tickpipe.db) creates its directory and the directory's
 * parents, as `mkdir -p` does. Any thread. */
#ifndef TP_DIRS_H
#define TP_DIRS_H

#include <stddef.h>

/* Create every missing directory of path's parent ("a/b" for "a/b/f.db";
 * nothing for "f.db" or "/f.db"), mode 0755. Returns 0, or TP_EIO with err
 * "cannot create directory DIR: REASON" naming the first directory that
 * could not be made (a file where a directory should be is one). */
int tp_mkdir_parents(const char *path, char *err, size_t errlen);

#endif
