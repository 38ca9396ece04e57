# feeds.cmake - the one list of feeds. Everything else is generated from it
# (cmake/feed_table.cmake): the feed table (feed_table.c in the build
# tree, read by tp_feed_find() and tp_feed_names()) and an option
# TP_FEED_<NAME> per feed, ON by default; a feed turned off is not compiled or tested.
#
#   tp_feed(NAME SOURCE [FILE...])
#     NAME    --feed NAME, and the C names: SOURCE defines
#             `const tp_feed_ops tp_feed_NAME`
#     SOURCE  the feed's one C file
#     FILE    further files of the feed, left out with it; src/sim/NAME.c
#             is its simulator personality (src/sim/personality.h), what
#             `tickpipe simulate --feed NAME` speaks, defining
#             `const tp_sim_personality tp_sim_NAME`
#
# The first entry is the default feed. See docs/architecture.md, "Adding a
# feed".
tp_feed(finnhub src/feed/finnhub.c src/sim/finnhub.c)
tp_feed(binance src/feed/binance.c src/sim/binance.c)
tp_feed(coinbase src/feed/coinbase.c src/sim/coinbase.c)
tp_feed(kraken   src/feed/kraken.c   src/sim/kraken.c)
