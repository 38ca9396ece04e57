/* http_assets.c - the dashboard's files, embedded at build time by
 * web/embed.cmake (through cmake/embed.cmake) and served from memory. */
#include "http/http_internal.h"

#include <string.h>

extern const char tp_web_index_html[], tp_web_app_js[], tp_web_style_css[], tp_web_lwc_js[],
    tp_web_openapi_json[];
extern const unsigned long tp_web_index_html_len, tp_web_app_js_len, tp_web_style_css_len, tp_web_lwc_js_len,
    tp_web_openapi_json_len;

const tp_http_asset *tp_http_asset_find(const char *path) {
    static tp_http_asset assets[6];
    static const char *const k_js = "application/javascript; charset=utf-8";
    /* The table is filled on first use: the lengths are link-time constants,
     * not compile-time ones. Only the server thread calls this. */
    if (!assets[0].path) {
        assets[0] =
            (tp_http_asset){"/", "text/html; charset=utf-8", tp_web_index_html, tp_web_index_html_len};
        assets[1] = (tp_http_asset){"/index.html", "text/html; charset=utf-8", tp_web_index_html,
                                    tp_web_index_html_len};
        assets[2] = (tp_http_asset){"/app.js", k_js, tp_web_app_js, tp_web_app_js_len};
        assets[3] =
            (tp_http_asset){"/style.css", "text/css; charset=utf-8", tp_web_style_css, tp_web_style_css_len};
        assets[4] = (tp_http_asset){"/lightweight-charts.js", k_js, tp_web_lwc_js, tp_web_lwc_js_len};
        /* the REST API's description (web/openapi.json) */
        assets[5] = (tp_http_asset){"/api/openapi.json", "application/json", tp_web_openapi_json,
                                    tp_web_openapi_json_len};
    }
    for (size_t i = 0; i < sizeof assets / sizeof assets[0]; i++)
        if (strcmp(assets[i].path, path) == 0) return &assets[i];
    return NULL;
}
