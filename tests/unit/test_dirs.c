/* test_dirs.c - tp_mkdir_parents: creates the directories of a file's path
 * as mkdir -p does, and names the directory it could not create. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/dirs.h"
#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char g_tmp[256];

static int is_dir(const char *p) {
    struct stat st;
    return !stat(p, &st) && S_ISDIR(st.st_mode);
}

static void path(char *out, size_t n, const char *rel) {
    snprintf(out, n, "%s/%s", g_tmp, rel);
}

static void test_creates_parents(void **state) {
    (void)state;
    char p[512], d[512], err[256] = "";
    path(p, sizeof p, "a/b//c/x.db");
    assert_int_equal(tp_mkdir_parents(p, err, sizeof err), 0);
    path(d, sizeof d, "a/b/c");
    assert_true(is_dir(d));
    path(d, sizeof d, "a/b/c/x.db");
    assert_false(access(d, F_OK) == 0); /* the file itself is not made */
    /* again: everything exists */
    assert_int_equal(tp_mkdir_parents(p, err, sizeof err), 0);
    /* no directory part, or only the root: nothing to do */
    assert_int_equal(tp_mkdir_parents("x.db", err, sizeof err), 0);
    assert_int_equal(tp_mkdir_parents("/x.db", err, sizeof err), 0);
}

static void test_names_what_failed(void **state) {
    (void)state;
    char p[512], f[512], want[600], err[512] = "";
    /* a file where a directory should be: the last one, or one on the way */
    path(f, sizeof f, "file");
    FILE *fp = fopen(f, "w");
    assert_non_null(fp);
    fclose(fp);
    path(p, sizeof p, "file/x.db");
    assert_int_equal(tp_mkdir_parents(p, err, sizeof err), TP_EIO);
    snprintf(want, sizeof want, "cannot create directory %s: Not a directory", f);
    assert_string_equal(err, want);
    path(p, sizeof p, "file/sub/x.db");
    assert_int_equal(tp_mkdir_parents(p, err, sizeof err), TP_EIO);
    snprintf(want, sizeof want, "cannot create directory %s: Not a directory", f);
    assert_string_equal(err, want);
    /* /proc takes no new directories */
    assert_int_equal(tp_mkdir_parents("/proc/tp-no-such/dir/x.db", err, sizeof err), TP_EIO);
    assert_string_equal(err, "cannot create directory /proc/tp-no-such: No such file or directory");
}

int main(void) {
    snprintf(g_tmp, sizeof g_tmp, "%s/tp-dirs-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(g_tmp)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_creates_parents),
        cmocka_unit_test(test_names_what_failed),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd)) rc = rc ? rc : 1;
    return rc;
}
