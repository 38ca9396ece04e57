/* config_file.h - the YAML configuration file (`--config FILE`).
 *
 * The file is one flat YAML mapping: a key is a flag's long name, its value
 * a scalar (the text the flag would be given) or a list of scalars
 * (`symbols: [AAPL, MSFT]`). This module only reads the YAML, with libyaml:
 * which keys exist and how a value is parsed are the option tables' business
 * (core/options.h), so a value means what the flag's value means.
 *
 * Refused, each with the file and line: YAML syntax errors, a top level that
 * is not a mapping, a key that is not a plain scalar, a nested mapping or a
 * list inside a list, an empty value (`key:` or `~`; write "" for an empty
 * string), the same key twice, anchors and aliases, a second document, a
 * file over TP_CONF_MAX_BYTES, and one nested deeper than TP_CONF_MAX_DEPTH. An empty file (or only comments)
 * has no keys. Every error is collected (up to TP_CONF_MAX_ERRORS) unless the YAML itself cannot be read on,
 * so `tickpipe config check` can list them all.
 *
 * Strings are owned by the tp_conf_file; free it with tp_conf_free. */
#ifndef TP_CONFIG_FILE_H
#define TP_CONFIG_FILE_H

#include <stddef.h>

#define TP_CONF_MAX_BYTES (1024 * 1024)
#define TP_CONF_MAX_ERRORS 64
#define TP_CONF_MAX_DEPTH 16   /* [ and { nesting (two levels are used) */
#define TP_CONF_MAX_ITEMS 4096 /* values in a list, and keys in the file */

typedef struct tp_conf_item {
    char *key;
    char **values; /* n strings; one for a scalar */
    size_t n;
    int is_list;
    int line; /* 1-based line of the key */
} tp_conf_item;

typedef struct tp_conf_file {
    char *path; /* as given, for messages */
    tp_conf_item *items;
    size_t n;
    char **errors; /* "PATH:LINE: what"; nerrors of them */
    size_t nerrors;
} tp_conf_file;

/* Read and parse the file at path into *f (zeroed first). Returns 0, or
 * TP_EINVAL when f->errors lists what is wrong, TP_EIO when the file cannot
 * be read (f->errors says why), TP_ENOMEM. Free *f in every case. */
int tp_conf_load(const char *path, tp_conf_file *f);

/* The same on text already in memory; `name` stands for the path in
 * messages. */
int tp_conf_parse(const char *name, const char *text, size_t len, tp_conf_file *f);

/* Add an error "PATH:LINE: ..." to f (kept up to TP_CONF_MAX_ERRORS; line 0
 * leaves out the line). Returns TP_EINVAL, or TP_ENOMEM. */
int tp_conf_error(tp_conf_file *f, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The item with this key, or NULL. */
const tp_conf_item *tp_conf_find(const tp_conf_file *f, const char *key);

void tp_conf_free(tp_conf_file *f);

/* How far apart two names are (edits: insert, delete, change, swap two
 * neighbours), for "did you mean"; capped at 100. */
int tp_conf_distance(const char *a, const char *b);

#endif
