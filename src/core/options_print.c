/* options_print.c - --print-config: every setting of the command with its
 * value and where it came from, as YAML a config file takes, secrets
 * masked (options.h, options_int.h). */
#include "core/options.h"
#include "core/options_int.h"

#include <stdio.h>
#include <string.h>

#define MASK "***"

/* Replace s[from, to) with MASK in out (out holds s). */
static void mask_span(char *out, size_t outlen, size_t from, size_t to) {
    char rest[4096];
    snprintf(rest, sizeof rest, "%s", out + to);
    snprintf(out + from, outlen - from, "%s%s", MASK, rest);
}

static int secret_name(const char *name, size_t len) {
    static const char *const words[] = {"password",           "secret", "token",  "pem", "jaas",
                                        "oauthbearer.config", "apikey", "api_key"};
    char low[128];
    if (len >= sizeof low) len = sizeof low - 1;
    for (size_t i = 0; i < len; i++)
        low[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    low[len] = 0;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strstr(low, words[i])) return 1;
    return 0;
}

/* A URL's user:PASSWORD@ and its secret query parameters (token=, password=). */
static void mask_url(char *out, size_t outlen) {
    char *scheme = strstr(out, "://");
    if (scheme) {
        char *host = scheme + 3, *end = host + strcspn(host, "/?#");
        char *at = memchr(host, '@', (size_t)(end - host));
        char *colon = at ? memchr(host, ':', (size_t)(at - host)) : NULL;
        if (colon && at > colon + 1) mask_span(out, outlen, (size_t)(colon + 1 - out), (size_t)(at - out));
    }
    for (char *p = strpbrk(out, "?&"); p; p = strpbrk(p + 1, "?&")) {
        char *eq = strchr(p + 1, '=');
        size_t klen = eq ? (size_t)(eq - p - 1) : 0;
        if (!eq || klen > strcspn(p + 1, "&#")) continue;
        size_t vlen = strcspn(eq + 1, "&#");
        if (vlen && secret_name(p + 1, klen))
            mask_span(out, outlen, (size_t)(eq + 1 - out), (size_t)(eq + 1 + vlen - out));
    }
}

static void masked(const tp_opt *o, const char *text, char *out, size_t outlen) {
    if (o->secret == TP_OPT_SECRET) {
        snprintf(out, outlen, MASK);
        return;
    }
    snprintf(out, outlen, "%s", text);
    const char *eq = strchr(text, '=');
    if (o->secret == TP_OPT_SECRET_PROPS && eq && secret_name(text, (size_t)(eq - text))) {
        snprintf(out, outlen, "%.*s=%s", (int)(eq - text), text, MASK);
        return;
    }
    mask_url(out, outlen);
}

/* A YAML scalar: plain when that reads back as the same text, else quoted. */
static void put_scalar(FILE *f, const char *s, int quote) {
    static const char *const special[] = {"", "~", "null", "Null", "NULL"};
    int plain = !quote && ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
                           (s[0] >= '0' && s[0] <= '9') || s[0] == '/' || s[0] == '.' ||
                           (s[0] == '-' && s[1] >= '0' && s[1] <= '9'));
    for (const char *p = s; *p && plain; p++)
        plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/+-:@", *p) &&
                !(*p == ':' && (p[1] == 0 || p[1] == ' '));
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++) plain &= strcmp(s, special[i]) != 0;
    if (plain) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(f, "\\x%02x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void put_source(const tp_opt_state *st, const tp_opt *o, const tp_opt_val *v, FILE *f) {
    switch (v->src) {
    case TP_SRC_FLAG: fprintf(f, "  # flag --%s\n", o->name); break;
    case TP_SRC_ENV: fprintf(f, "  # env %s\n", v->n && o->env ? o->env : o->env_doc); break;
    case TP_SRC_FILE: fprintf(f, "  # file %s:%d\n", st->conf_path, v->line); break;
    default: fprintf(f, "  # default\n"); break;
    }
}

static void put_entry(const tp_opt_state *st, size_t i, FILE *f) {
    const tp_opt *o = st->fl[i].o;
    const tp_opt_val *v = &st->val[i];
    char buf[4096];
    if (o->type == TP_OPT_SWITCH) {
        fprintf(f, "%s: %s", o->name, *(const int *)((const char *)st->args + o->off) ? "true" : "false");
    } else if (v->n == 0 && v->src == TP_SRC_ENV) {
        fprintf(f, "# %s: from the environment (%s)\n", o->name, o->env_doc ? o->env_doc : o->env);
        return;
    } else if (v->n == 0) {
        const char *def = o->def_doc;
        for (const tp_opt_default *d = st->spec->defaults; d && d->name; d++)
            if (!strcmp(d->name, o->name) && d->def_doc) def = d->def_doc;
        fprintf(f, "# %s: not set%s%s%s\n", o->name, def ? " (" : "", def ? def : "", def ? ")" : "");
        return;
    } else {
        fprintf(f, "%s: %s", o->name, v->n > 1 ? "[" : "");
        for (size_t t = 0; t < v->n; t++) {
            masked(o, v->texts[t], buf, sizeof buf);
            if (t) fputs(", ", f);
            put_scalar(f, buf, v->n > 1); /* a flow list item: always quoted (commas) */
        }
        if (v->n > 1) fputc(']', f);
    }
    put_source(st, o, v, f);
}

int tp_opts_print_config(const tp_opt_state *st, FILE *f) {
    size_t pi = st->n;
    for (size_t i = 0; i < st->n; i++)
        if (st->fl[i].o->role == TP_OPT_PRINT_CONFIG) pi = i;
    if (pi == st->n || !*(const int *)((const char *)st->args + st->fl[pi].o->off)) return -1;
    fprintf(f,
            "# tickpipe %s: the effective settings and where each came from\n"
            "# (flag > environment > config file > default); secrets are shown as %s.\n",
            st->spec->name, MASK);
    if (st->conf_path) fprintf(f, "# config file: %s\n", st->conf_path);
    int last = -1;
    for (size_t i = 0; i < st->n; i++) {
        const tp_opt *o = st->fl[i].o;
        if (o->alias_of || o->role) continue;
        if (st->fl[i].group != last) {
            last = st->fl[i].group;
            fprintf(f, "\n# %s\n", o->group->title);
        }
        put_entry(st, i, f);
    }
    return fflush(f) ? TP_EXIT_RUNTIME : TP_EXIT_OK;
}
