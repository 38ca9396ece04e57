/* options.h - commands built from option tables.
 *
 * A flag is described once, in a table entry (tp_opt): its name, argument,
 * environment variable, default, unit, help line and how its value is
 * parsed. Entries are collected in groups (tp_opt_group: feed, Kafka,
 * store, windows, HTTP, run control, logging, and one per command for what
 * only that command takes); a command (tp_cmd_spec) is a list of groups.
 * From the spec this module builds getopt_long's table, parses argv (flag,
 * then environment variable, then default: the default is a string parsed
 * by the same parser, so `--help` cannot show a default the code does not
 * use), prints `--help`, and reports usage errors one way: "tickpipe CMD:
 * WHAT" on stderr and exit status 2.
 *
 * Units: a time value (TP_OPT_TIME) is stored as milliseconds; a bare
 * number is in the entry's unit ("s" or "ms"), and a suffix ("250ms",
 * "1.5s", "2m") states the unit explicitly. The same flag has the same unit
 * in every command, because every command takes it from the same entry.
 *
 * The config file (`--config FILE`, core/config_file.h): a key is an
 * entry's long name and its value is parsed by the entry's parser, so the
 * precedence is flag, then environment variable, then the file, then the
 * default. An entry with env_doc (variables the command reads itself) counts
 * as set by the environment when one of them is set, so the file does not
 * override it either. A key no entry of the table has is an error; a key of
 * another command's entry is left to that command. `--print-config` prints
 * every entry's value and where it came from, as YAML the file takes.
 *
 * Deprecated spellings: an entry with alias_of parses as the entry it names
 * and logs a warning; it is left out of `--help` (the README lists renames).
 *
 * Ownership and threads: tables are static const data; values go into a
 * struct the caller owns, at each entry's offset. String values point into argv or the environment, which
 * outlive the command. Everything here runs on the command's main thread,
 * before other threads start. */
#ifndef TP_OPTIONS_H
#define TP_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses of every command. */
enum { TP_EXIT_OK = 0, TP_EXIT_RUNTIME = 1, TP_EXIT_USAGE = 2 };

typedef enum tp_opt_type {
    TP_OPT_STR,    /* const char *; "" allowed unless min > 0 */
    TP_OPT_SWITCH, /* int: 1 when given; from the environment: 1, true or yes */
    TP_OPT_INT,    /* int64_t in [min, max] */
    TP_OPT_NUM,    /* double in [min, max] */
    TP_OPT_TIME,   /* int64_t milliseconds; [min, max] and bare numbers in `unit` */
    TP_OPT_CUSTOM, /* parse(arg, field) decides; may be repeatable */
} tp_opt_type;

typedef int (*tp_opt_parse_fn)(const char *arg, void *field, char *err, size_t errlen);

/* What an entry is besides a setting: the config file's path (STR, at most
 * one entry) or the --print-config switch. Neither may be set in the file. */
typedef enum tp_opt_role { TP_OPT_SETTING = 0, TP_OPT_CONFIG_FILE, TP_OPT_PRINT_CONFIG } tp_opt_role;

/* How --print-config masks a value (every value also has a URL's password
 * and its token=/password= query parameters masked). */
typedef enum tp_opt_secret {
    TP_OPT_PLAIN = 0,
    TP_OPT_SECRET,       /* the whole value: "***" */
    TP_OPT_SECRET_PROPS, /* KEY=VALUE: the value when the key names a secret (sasl.password, ...) */
} tp_opt_secret;
struct tp_opt_group;

typedef struct tp_opt {
    const struct tp_opt_group *group; /* the group the entry belongs to */
    const char *name;                 /* long name without "--"; NULL ends a table */
    int short_name;                   /* e.g. 'X', or 0 */
    const char *arg;                  /* metavariable in help ("URL", "S"); NULL for a switch */
    const char *env;                  /* read when the flag is not given; NULL = none */
    const char *env_doc;              /* shown instead of env when the command resolves it itself */
    const char *def;                  /* default, parsed like a value; NULL = none */
    const char *def_doc;              /* shown for the default when def cannot say it ("never") */
    const char *unit;                 /* "s", "ms", "bytes", ...; TP_OPT_TIME needs "s" or "ms" */
    const char *help;                 /* one line, no trailing period */
    const char *(*help_more)(void);   /* appended to help: text known at run time (the store list) */
    const char *help_more_doc; /* ... and what the README says instead, when help_more varies by build */
    tp_opt_type type;
    size_t off; /* where the value goes: offset in the struct given to tp_cmd_parse */
    double min, max;
    tp_opt_parse_fn parse; /* TP_OPT_CUSTOM */
    int repeatable;        /* TP_OPT_CUSTOM: may be given more than once */
    const char *alias_of;  /* deprecated spelling of the entry of that name (same group) */
    double warn_above;     /* warn when a bare number is above this (a unit changed); 0 = never */
    tp_opt_role role;
    tp_opt_secret secret;
} tp_opt;

/* A group is the entries of a table whose .group points to it, in table
 * order (many groups may share one table). */
typedef struct tp_opt_group {
    const char *id;     /* "feed": for tests and the flag dump */
    const char *title;  /* "Feed": the help section */
    const tp_opt *opts; /* the table holding the group's entries */
} tp_opt_group;

/* A per-command change of a shared entry's default (nothing else may
 * change: the meaning and unit are the entry's). */
typedef struct tp_opt_default {
    const char *name;
    const char *def;
    const char *def_doc;
} tp_opt_default;

#define TP_CMD_MAX_GROUPS 16

typedef struct tp_cmd_spec {
    const char *name;     /* "run" */
    const char *synopsis; /* after "tickpipe NAME ": "[OPTIONS]", "[OPTIONS] QUERY" */
    const char *about;    /* what the command does: paragraphs, before the flags */
    const char *epilog;   /* after the flags: exit status, examples */
    const tp_opt_group *groups[TP_CMD_MAX_GROUPS]; /* NULL-terminated */
    const tp_opt_default *defaults;                /* {NULL}-terminated, or NULL */
    int min_args, max_args;                        /* positional arguments */
} tp_cmd_spec;

/* Parse argv (argv[0] is the command name) into args, the struct the
 * entries' offsets refer to. Returns -1 when the command should go on (with
 * *first_arg the index of the first positional argument), else the exit
 * status to return at once: TP_EXIT_OK after --help, TP_EXIT_USAGE after a
 * usage error, already printed. */
int tp_cmd_parse(const tp_cmd_spec *spec, void *args, int argc, char **argv, int *first_arg);

/* Free what config files loaded for tp_cmd_parse and tp_cmd_check_config
 * (the values point into it): after the command. */
void tp_cmd_release(void);

struct tp_conf_file;
/* For `config check`: every key of conf that no entry of `table` (all the
 * commands' entries) has, or that may not be in a file, is an error added
 * to conf (with "did you mean"). Returns the number of errors added. */
int tp_conf_check_keys(const tp_opt *table, struct tp_conf_file *conf);
/* Apply the spec's defaults, then conf's keys that the command takes (no
 * flags, no environment) into args; each bad value is an error added to
 * conf. Returns the number of errors added, or -1 when the table's own
 * defaults fail. */
int tp_cmd_check_config(const tp_cmd_spec *spec, void *args, struct tp_conf_file *conf);
/* The command's entry of this name (an alias too), or NULL. */
const tp_opt *tp_cmd_find_opt(const tp_cmd_spec *spec, const char *name);

/* The one usage-error path: prints "tickpipe NAME: MESSAGE" on stderr and
 * returns TP_EXIT_USAGE. tp_cmd_fail is the same for a runtime failure and
 * returns TP_EXIT_RUNTIME. */
int tp_cmd_usage_error(const tp_cmd_spec *spec, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int tp_cmd_fail(const tp_cmd_spec *spec, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --help of a command, generated from its spec. */
void tp_cmd_help(const tp_cmd_spec *spec, FILE *f);

/* One tab-separated line per flag of the command, for tests and the README
 * generator: command, flag, short, argument, environment, default, unit,
 * type, alias_of, group, help. */
void tp_cmd_dump_flags(const tp_cmd_spec *spec, FILE *f);
/* The README table of the command's flags (markdown). */
void tp_cmd_markdown_flags(const tp_cmd_spec *spec, FILE *f);

/* Parse a duration: a number in `unit` ("s" or "ms"), or with a suffix ms,
 * s or m; range [min, max] in `unit`. Exposed for tests. */
int tp_opt_parse_time(const char *s, const char *what, const char *unit, double min, double max, int64_t *ms,
                      int *bare, double *bare_value, char *err, size_t errlen);

#endif
