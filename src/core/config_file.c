/* config_file.c - see config_file.h.
 *
 * libyaml's event parser (no document tree, no alias expansion): a state
 * machine over STREAM, DOCUMENT, one MAPPING of SCALAR keys to SCALAR or
 * SEQUENCE-of-SCALAR values. A node that is not allowed is reported and
 * skipped whole, so the errors after it are still found. */
#include "core/config_file.h"

#include "core/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

typedef struct pstate {
    yaml_parser_t p;
    tp_conf_file *f;
    int nomem;
} pstate;

int tp_conf_error(tp_conf_file *f, int line, const char *fmt, ...) {
    if (f->nerrors >= TP_CONF_MAX_ERRORS) return TP_EINVAL;
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char **ne = realloc(f->errors, (f->nerrors + 1) * sizeof *ne);
    if (!ne) return TP_ENOMEM;
    f->errors = ne;
    size_t n = strlen(msg) + strlen(f->path ? f->path : "") + 32;
    if (!(ne[f->nerrors] = malloc(n))) return TP_ENOMEM;
    if (line > 0)
        snprintf(ne[f->nerrors], n, "%s:%d: %s", f->path ? f->path : "", line, msg);
    else
        snprintf(ne[f->nerrors], n, "%s: %s", f->path ? f->path : "", msg);
    f->nerrors++;
    return TP_EINVAL;
}

static int line_of(const yaml_event_t *ev) {
    return (int)ev->start_mark.line + 1;
}

/* The next event; 0, or -1 after a YAML error (recorded: reading stops). */
static int next(pstate *s, yaml_event_t *ev) {
    if (yaml_parser_parse(&s->p, ev)) return 0;
    const yaml_parser_t *p = &s->p;
    if (p->error == YAML_MEMORY_ERROR) {
        s->nomem = 1;
        return -1;
    }
    tp_conf_error(s->f, (int)p->problem_mark.line + 1, "not valid YAML: %s%s%s",
                  p->problem ? p->problem : "syntax error", p->context ? " " : "",
                  p->context ? p->context : "");
    return -1;
}

/* Skip the rest of a node whose first event was ev (deleted here). */
static int skip_node(pstate *s, yaml_event_t *ev) {
    int depth = ev->type == YAML_SEQUENCE_START_EVENT || ev->type == YAML_MAPPING_START_EVENT;
    yaml_event_delete(ev);
    while (depth > 0) {
        if (next(s, ev)) return -1;
        if (ev->type == YAML_SEQUENCE_START_EVENT || ev->type == YAML_MAPPING_START_EVENT) depth++;
        if (ev->type == YAML_SEQUENCE_END_EVENT || ev->type == YAML_MAPPING_END_EVENT) depth--;
        yaml_event_delete(ev);
    }
    return 0;
}

static const char *scalar(const yaml_event_t *ev) {
    return (const char *)ev->data.scalar.value;
}

/* `key:`, `key: ~` and `key: null` (unquoted) */
static int is_null(const yaml_event_t *ev) {
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return 0;
    const char *v = scalar(ev);
    return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

static const char *anchor_of(const yaml_event_t *ev) {
    switch (ev->type) {
    case YAML_SCALAR_EVENT: return (const char *)ev->data.scalar.anchor;
    case YAML_SEQUENCE_START_EVENT: return (const char *)ev->data.sequence_start.anchor;
    case YAML_MAPPING_START_EVENT: return (const char *)ev->data.mapping_start.anchor;
    default: return NULL;
    }
}

static int add_value(pstate *s, tp_conf_item *it, const char *v) {
    char **nv = realloc(it->values, (it->n + 1) * sizeof *nv);
    if (!nv || !(nv[it->n] = strdup(v))) {
        if (nv) it->values = nv;
        s->nomem = 1;
        return -1;
    }
    it->values = nv;
    it->n++;
    return 0;
}

/* A list value: scalars up to SEQUENCE_END. 0, or -1 to stop reading. */
static int read_list(pstate *s, tp_conf_item *it, int *bad) {
    yaml_event_t ev;
    for (;;) {
        if (next(s, &ev)) return -1;
        if (ev.type == YAML_SEQUENCE_END_EVENT) break;
        int line = line_of(&ev);
        if (ev.type == YAML_ALIAS_EVENT || anchor_of(&ev)) {
            *bad = 1;
            tp_conf_error(s->f, line, "%s: anchors and aliases are not supported", it->key);
        } else if (ev.type != YAML_SCALAR_EVENT) {
            *bad = 1;
            tp_conf_error(s->f, line, "%s: a list item must be a plain value, not a list or a mapping",
                          it->key);
        } else if (is_null(&ev)) {
            *bad = 1;
            tp_conf_error(s->f, line, "%s: an empty list item", it->key);
        } else if (it->n >= TP_CONF_MAX_ITEMS) {
            *bad = 1;
            if (it->n == TP_CONF_MAX_ITEMS)
                tp_conf_error(s->f, line, "%s: more than %d list items", it->key, TP_CONF_MAX_ITEMS);
        } else if (add_value(s, it, scalar(&ev))) {
            yaml_event_delete(&ev);
            return -1;
        }
        if (skip_node(s, &ev)) return -1;
    }
    yaml_event_delete(&ev);
    return 0;
}

/* The value of `it` (its key read): fills it, or sets *bad. */
static int read_value(pstate *s, tp_conf_item *it, int *bad) {
    yaml_event_t ev;
    if (next(s, &ev)) return -1;
    int line = line_of(&ev);
    if (ev.type == YAML_ALIAS_EVENT || anchor_of(&ev)) {
        *bad = 1;
        tp_conf_error(s->f, line, "%s: anchors and aliases are not supported", it->key);
    } else if (ev.type == YAML_MAPPING_START_EVENT) {
        *bad = 1;
        tp_conf_error(s->f, line, "%s: nested sections are not supported: one key per flag, at the top level",
                      it->key);
    } else if (ev.type == YAML_SEQUENCE_START_EVENT) {
        it->is_list = 1;
        yaml_event_delete(&ev);
        return read_list(s, it, bad);
    } else if (is_null(&ev)) {
        *bad = 1;
        tp_conf_error(s->f, it->line, "%s has no value (write \"\" for an empty string)", it->key);
    } else if (add_value(s, it, scalar(&ev))) {
        yaml_event_delete(&ev);
        return -1;
    }
    return skip_node(s, &ev);
}

static void item_free(tp_conf_item *it) {
    for (size_t i = 0; i < it->n; i++) free(it->values[i]);
    free(it->values);
    free(it->key);
    memset(it, 0, sizeof *it);
}

/* One key and its value, the key's event in ev. 0, or -1 to stop. */
static int read_pair(pstate *s, yaml_event_t *ev) {
    tp_conf_file *f = s->f;
    tp_conf_item it = {.line = line_of(ev)};
    int bad = 0;
    if (ev->type != YAML_SCALAR_EVENT || anchor_of(ev) || !*scalar(ev)) {
        tp_conf_error(f, it.line, "a key must be a flag's name (a plain word such as store)");
        if (skip_node(s, ev)) return -1;
        yaml_event_t v;
        if (next(s, &v)) return -1;
        return skip_node(s, &v);
    }
    const tp_conf_item *first = tp_conf_find(f, scalar(ev));
    if (first)
        bad = 1, tp_conf_error(f, it.line, "%s given twice (first at line %d)", scalar(ev), first->line);
    if (!bad && f->n >= TP_CONF_MAX_ITEMS)
        bad = 1, tp_conf_error(f, it.line, "more than %d keys", TP_CONF_MAX_ITEMS);
    it.key = strdup(scalar(ev));
    yaml_event_delete(ev);
    if (!it.key) return s->nomem = 1, -1;
    int rc = read_value(s, &it, &bad);
    if (rc || bad) {
        item_free(&it);
        return rc;
    }
    tp_conf_item *ni = realloc(f->items, (f->n + 1) * sizeof *ni);
    if (!ni) {
        item_free(&it);
        return s->nomem = 1, -1;
    }
    f->items = ni;
    f->items[f->n++] = it;
    return 0;
}

static int read_mapping(pstate *s) {
    yaml_event_t ev;
    for (;;) {
        if (next(s, &ev)) return -1;
        if (ev.type == YAML_MAPPING_END_EVENT) break;
        if (read_pair(s, &ev)) return -1;
    }
    yaml_event_delete(&ev);
    return 0;
}

/* The document's top node: a mapping, or nothing at all. */
static int read_document(pstate *s) {
    yaml_event_t ev;
    if (next(s, &ev)) return -1;
    int line = line_of(&ev);
    if (ev.type == YAML_MAPPING_START_EVENT && !anchor_of(&ev)) {
        yaml_event_delete(&ev);
        if (read_mapping(s)) return -1;
    } else if (ev.type == YAML_SCALAR_EVENT && is_null(&ev)) {
        yaml_event_delete(&ev); /* "---" alone: no keys */
    } else {
        const char *what = ev.type == YAML_SCALAR_EVENT           ? "a single value"
                           : ev.type == YAML_SEQUENCE_START_EVENT ? "a list"
                                                                  : "an alias or anchor";
        tp_conf_error(s->f, line,
                      "the top level must be a mapping of flag names to values (key: value), not %s", what);
        yaml_event_delete(&ev);
        return -1;
    }
    if (next(s, &ev)) return -1; /* DOCUMENT_END */
    yaml_event_delete(&ev);
    return 0;
}

static int read_stream(pstate *s) {
    yaml_event_t ev;
    int docs = 0;
    for (;;) {
        if (next(s, &ev)) return -1;
        yaml_event_type_t t = ev.type;
        int line = line_of(&ev);
        yaml_event_delete(&ev);
        if (t == YAML_STREAM_END_EVENT) return 0;
        if (t != YAML_DOCUMENT_START_EVENT) continue; /* STREAM_START */
        if (docs++) {
            tp_conf_error(s->f, line, "only one YAML document may be in a config file (a second '---')");
            return -1;
        }
        if (read_document(s)) return -1;
    }
}

/* The deepest [ { nesting of text, quoted scalars and comments left out
 * (near enough: a quote counts only where a scalar may start). libyaml's
 * scanner takes time quadratic in the flow depth, and a config file needs
 * two levels, so a deep file is refused before libyaml sees it. */
static int flow_depth(const char *t, size_t len, int *line) {
    int depth = 0, max = 0, ln = 1;
    char quote = 0, prev = '\n';
    for (size_t i = 0; i < len; prev = t[i++]) {
        char c = t[i];
        if (c == '\n') ln++;
        if (quote) {
            if (c == '\\' && quote == '"' && i + 1 < len)
                prev = t[i++];
            else if (c == quote)
                quote = 0;
        } else if (c == '#' && strchr(" \t\n", prev)) {
            while (i + 1 < len && t[i + 1] != '\n') i++;
        } else if ((c == '"' || c == '\'') && strchr(" \t\n[{,:-", prev)) {
            quote = c;
        } else if (c == '[' || c == '{') {
            if (++depth > max) max = depth, *line = ln;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return max;
}

int tp_conf_parse(const char *name, const char *text, size_t len, tp_conf_file *f) {
    memset(f, 0, sizeof *f);
    if (!(f->path = strdup(name ? name : "config"))) return TP_ENOMEM;
    if (len > TP_CONF_MAX_BYTES)
        return tp_conf_error(f, 0, "larger than %d bytes; is it a config file?", TP_CONF_MAX_BYTES);
    int line = 0;
    if (flow_depth(text, len, &line) > TP_CONF_MAX_DEPTH)
        return tp_conf_error(f, line, "lists or mappings nested more than %d deep", TP_CONF_MAX_DEPTH);
    pstate s = {.f = f};
    if (!yaml_parser_initialize(&s.p)) return TP_ENOMEM;
    yaml_parser_set_input_string(&s.p, (const unsigned char *)text, len);
    yaml_parser_set_encoding(&s.p, YAML_UTF8_ENCODING);
    read_stream(&s);
    yaml_parser_delete(&s.p);
    if (s.nomem) return TP_ENOMEM;
    return f->nerrors ? TP_EINVAL : 0;
}

int tp_conf_load(const char *path, tp_conf_file *f) {
    memset(f, 0, sizeof *f);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        int e = errno;
        if (!(f->path = strdup(path))) return TP_ENOMEM;
        tp_conf_error(f, 0, "cannot read the config file: %s", strerror(e));
        return TP_EIO;
    }
    char *buf = malloc(TP_CONF_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, TP_CONF_MAX_BYTES + 1, fp) : 0;
    int rd_err = ferror(fp);
    fclose(fp);
    if (!buf) return TP_ENOMEM;
    int rc;
    if (rd_err) {
        rc = TP_EIO;
        if ((f->path = strdup(path))) tp_conf_error(f, 0, "cannot read the config file");
    } else {
        rc = tp_conf_parse(path, buf, n, f);
    }
    free(buf);
    return rc;
}

const tp_conf_item *tp_conf_find(const tp_conf_file *f, const char *key) {
    for (size_t i = 0; i < f->n; i++)
        if (!strcmp(f->items[i].key, key)) return &f->items[i];
    return NULL;
}

void tp_conf_free(tp_conf_file *f) {
    for (size_t i = 0; i < f->n; i++) item_free(&f->items[i]);
    free(f->items);
    for (size_t i = 0; i < f->nerrors; i++) free(f->errors[i]);
    free(f->errors);
    free(f->path);
    memset(f, 0, sizeof *f);
}

int tp_conf_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64) return 100;
    int d[65][65];
    for (size_t i = 0; i <= la; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < c) c = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < c) c = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < c)
                c = d[i - 2][j - 2] + 1;
            d[i][j] = c;
        }
    return d[la][lb];
}
