/* mock_kafka.c - hold a librdkafka mock cluster open on loopback for
 * integration tests and benchmarks.
 *
 * Most Kafka tests run Apache Kafka itself (tests/lib/kafka.sh). The mock
 * cluster stays where it is the better tool: taking every broker down and
 * up again on a signal, instantly (produce_outage.sh), and cheap clusters
 * for benchmarks of the client side alone. It speaks the Kafka protocol
 * over loopback sockets, usable by tickpipe, kcat and any other client.
 * This program creates the cluster, optionally creates topics, prints the
 * bootstrap servers as the first line on stdout (and to --bootstrap-file),
 * and keeps the cluster up until SIGINT/SIGTERM.
 *
 * Faults, for tests that take the cluster away mid-stream:
 *   SIGUSR1  every broker goes down (connections closed, new ones refused)
 *   SIGUSR2  every broker comes back up
 *
 * Usage: mock_kafka [--brokers N] [--topic NAME[:PARTITIONS]]... [--bootstrap-file F]
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t g_stop, g_down, g_up;

static void on_signal(int sig) {
    if (sig == SIGUSR1)
        g_down = 1;
    else if (sig == SIGUSR2)
        g_up = 1;
    else
        g_stop = 1;
}

static void usage(FILE *f) {
    fprintf(f, "Usage: mock_kafka [--brokers N] [--topic NAME[:PARTITIONS]]... [--bootstrap-file F]\n"
               "Prints the bootstrap servers on stdout, serves until SIGINT/SIGTERM.\n"
               "SIGUSR1 takes every broker down, SIGUSR2 brings them back.\n");
}

static void set_all(rd_kafka_mock_cluster_t *mc, int nbrokers, int up) {
    for (int id = 1; id <= nbrokers; id++) {
        rd_kafka_resp_err_t e =
            up ? rd_kafka_mock_broker_set_up(mc, id) : rd_kafka_mock_broker_set_down(mc, id);
        if (e) fprintf(stderr, "mock_kafka: broker %d %s: %s\n", id, up ? "up" : "down", rd_kafka_err2str(e));
    }
    fprintf(stderr, "mock_kafka: %d broker(s) %s\n", nbrokers, up ? "up" : "down");
}

int main(int argc, char **argv) {
    int nbrokers = 1;
    const char *bootstrap_file = NULL;
    const char *topics[64];
    int ntopics = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--brokers") && i + 1 < argc) {
            nbrokers = atoi(argv[++i]);
            if (nbrokers < 1 || nbrokers > 16) {
                fprintf(stderr, "mock_kafka: --brokers must be 1..16\n");
                return 2;
            }
        } else if (!strcmp(argv[i], "--topic") && i + 1 < argc && ntopics < 64) {
            topics[ntopics++] = argv[++i];
        } else if (!strcmp(argv[i], "--bootstrap-file") && i + 1 < argc) {
            bootstrap_file = argv[++i];
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }

    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "mock_kafka: %s\n", errstr);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "mock_kafka: cannot create the client that owns the cluster: %s\n", errstr);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, nbrokers);
    if (!mc) {
        fprintf(stderr, "mock_kafka: cannot create the mock cluster\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    for (int i = 0; i < ntopics; i++) {
        char name[256];
        snprintf(name, sizeof name, "%s", topics[i]);
        int parts = 1;
        char *colon = strrchr(name, ':');
        if (colon) {
            *colon = '\0';
            parts = atoi(colon + 1);
            if (parts < 1) parts = 1;
        }
        int rf = nbrokers < 3 ? nbrokers : 3;
        rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, name, parts, rf);
        if (e) {
            fprintf(stderr, "mock_kafka: cannot create topic %s: %s\n", name, rd_kafka_err2str(e));
            rd_kafka_mock_cluster_destroy(mc);
            rd_kafka_destroy(rk);
            return 1;
        }
    }

    const char *bs = rd_kafka_mock_cluster_bootstraps(mc);
    if (bootstrap_file) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", bootstrap_file);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%s\n", bs) < 0 || fclose(f) || rename(tmp, bootstrap_file)) {
            perror("mock_kafka: writing --bootstrap-file");
            return 1;
        }
    }
    printf("%s\n", bs);
    fflush(stdout);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    while (!g_stop) {
        if (g_down) {
            g_down = 0;
            set_all(mc, nbrokers, 0);
        }
        if (g_up) {
            g_up = 0;
            set_all(mc, nbrokers, 1);
        }
        usleep(20000);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
