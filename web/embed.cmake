# web/embed.cmake - the dashboard's files, embedded into the binary (included
# by the top-level CMakeLists.txt). Appends to EMBED_FILES/EMBED_SYMS; the
# asset table that serves them is src/http/http_assets.c.
# lightweight-charts comes from npm (web/package.json, pinned in
# package-lock.json); scripts/install-deps.sh runs `npm ci` in web/.
set(TP_WEB_LWC ${CMAKE_SOURCE_DIR}/web/node_modules/lightweight-charts/dist/lightweight-charts.standalone.production.js)
if(NOT EXISTS ${TP_WEB_LWC})
  message(FATAL_ERROR "web/node_modules is missing (the dashboard's chart library, lightweight-charts).\n"
    "Run `scripts/install-deps.sh` (or `cd web && npm ci`) first, then configure again.")
endif()
list(APPEND EMBED_FILES
  ${CMAKE_SOURCE_DIR}/web/index.html
  ${CMAKE_SOURCE_DIR}/web/app.js
  ${CMAKE_SOURCE_DIR}/web/style.css
  ${TP_WEB_LWC}
  ${CMAKE_SOURCE_DIR}/web/openapi.json)
list(APPEND EMBED_SYMS tp_web_index_html tp_web_app_js tp_web_style_css tp_web_lwc_js tp_web_openapi_json)
