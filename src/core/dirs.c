/* dirs.c - see dirs.h. */
#include "core/dirs.h"

#include "core/err.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

/* mkdir DIR unless a directory is there already */
static int make_one(const char *dir, char *err, size_t errlen) {
    if (!mkdir(dir, 0755)) return 0;
    int e = errno;
    struct stat st;
    if (e == EEXIST && !stat(dir, &st)) {
        if (S_ISDIR(st.st_mode)) return 0;
        e = ENOTDIR;
    }
    return tp_seterr(err, errlen, TP_EIO, "cannot create directory %s: %s", dir, strerror(e));
}

int tp_mkdir_parents(const char *path, char *err, size_t errlen) {
    char dir[4096];
    size_t n = strlen(path);
    if (n >= sizeof dir)
        return tp_seterr(err, errlen, TP_EIO, "cannot create the directory of a path of %zu bytes", n);
    memcpy(dir, path, n + 1);
    char *slash = strrchr(dir, '/');
    if (!slash) return 0;
    while (slash > dir && slash[-1] == '/') slash--; /* "a//f.db" */
    if (slash == dir) return 0;                      /* "/f.db": the root is there */
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/' || p[-1] == '/') continue;
        *p = '\0';
        int rc = make_one(dir, err, errlen);
        *p = '/';
        if (rc) return rc;
    }
    return make_one(dir, err, errlen);
}
